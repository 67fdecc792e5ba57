/**
 * The three probes, each one attempt that settles with a {@link ProbeOutcome} and never rejects.
 * What upstream's checker does with helper programs (the command itself, `curl`,
 * `mesos-tcp-connect`: src/checks/checker_process.cpp), done here in the executor's process:
 *
 * - COMMAND: `sh -c value`, or `value` (PATH searched) with `arguments` as the full argv, in the
 *   sandbox, with the executor's environment overlaid by the command's variables, stdin from
 *   /dev/null, stdout and stderr to the executor's stderr. Its own process group, so that an
 *   abort (timeout, pause, stop) SIGKILLs everything it started. Result: the exit code; a
 *   command killed by a signal has none (an error).
 * - HTTP: GET `scheme://host:port/path`, following redirects like `curl -L` (at most 50), TLS
 *   certificates not verified (`curl -k`), the body read to its end. Result: the final status code;
 *   no answer at all (refused, reset) is an error.
 * - TCP: a connection. Result: whether it was established (refused is a result, not an error).
 */
import { spawn } from 'node:child_process';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect } from 'node:net';
import type { CommandProbe, HttpProbe, ProbeSpec, TcpProbe } from './definition.js';
import type { Probe, ProbeOutcome } from './schedule.js';

export interface ProbeRuntime {
  /** Working directory of COMMAND probes: the task's sandbox. */
  readonly sandboxDirectory: string;
  /** The environment COMMAND probes start from (the executor's). */
  readonly environment: Readonly<Record<string, string | undefined>>;
}

/** curl's default `--max-redirs` with `-L`. */
export const MAX_REDIRECTS = 50;

export function probeFor(spec: ProbeSpec, runtime: ProbeRuntime): Probe {
  switch (spec.type) {
    case 'COMMAND':
      return (signal) => commandProbe(spec, runtime, signal);
    case 'HTTP':
      return (signal) => httpProbe(spec, signal);
    case 'TCP':
      return (signal) => tcpProbe(spec, signal);
  }
}

function errorOutcome(message: string): ProbeOutcome {
  return { kind: 'error', message };
}

export function commandProbe(spec: CommandProbe, runtime: ProbeRuntime, signal: AbortSignal): Promise<ProbeOutcome> {
  if (signal.aborted) return Promise.resolve(errorOutcome('aborted'));
  return new Promise((resolve) => {
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(runtime.environment)) if (v !== undefined) env[k] = v;
    Object.assign(env, spec.environment);
    const file = spec.shell ? '/bin/sh' : spec.value;
    const args = spec.shell ? ['-c', spec.value] : spec.argv.slice(1);
    const argv0 = spec.shell ? 'sh' : (spec.argv[0] ?? spec.value);
    let settled = false;
    const done = (outcome: ProbeOutcome): void => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      resolve(outcome);
    };
    let child: ReturnType<typeof spawn>;
    try {
      child = spawn(file, args, { argv0, cwd: runtime.sandboxDirectory, env, stdio: ['ignore', 2, 2], detached: true });
    } catch (error) {
      done(errorOutcome(`Failed to create subprocess: ${(error as Error).message}`));
      return;
    }
    const onAbort = (): void => {
      killGroup(child.pid);
      done(errorOutcome('aborted'));
    };
    signal.addEventListener('abort', onAbort);
    child.once('error', (error) => done(errorOutcome(`Failed to create subprocess: ${error.message}`)));
    child.once('exit', (code, signalName) => {
      if (code !== null) done({ kind: 'result', status: { type: 'COMMAND', command: { exit_code: code } } });
      else done(errorOutcome(`Command terminated with signal ${signalName ?? 'unknown'}`));
    });
  });
}

/** SIGKILL to the probe's whole process group (it is its leader: spawned detached). */
function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

function hostForUrl(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

export function httpProbe(spec: HttpProbe, signal: AbortSignal): Promise<ProbeOutcome> {
  return fetchFollowing(new URL(`${spec.scheme}://${hostForUrl(spec.host)}:${spec.port}${spec.path}`), signal, 0);
}

async function fetchFollowing(url: URL, signal: AbortSignal, redirects: number): Promise<ProbeOutcome> {
  let response: { status: number; location: string | undefined };
  try {
    response = await getOnce(url, signal);
  } catch (error) {
    return errorOutcome(`HTTP GET ${url.href} failed: ${(error as Error).message}`);
  }
  const { status, location } = response;
  if (status >= 300 && status < 400 && location !== undefined) {
    if (redirects >= MAX_REDIRECTS) return errorOutcome(`HTTP GET ${url.href}: more than ${MAX_REDIRECTS} redirects`);
    let next: URL;
    try {
      next = new URL(location, url);
    } catch {
      return errorOutcome(`HTTP GET ${url.href}: redirect to an invalid location ${JSON.stringify(location)}`);
    }
    if (next.protocol !== 'http:' && next.protocol !== 'https:') return errorOutcome(`HTTP GET ${url.href}: redirect to unsupported ${next.protocol}`);
    return fetchFollowing(next, signal, redirects + 1);
  }
  return { kind: 'result', status: { type: 'HTTP', http: { status_code: status } } };
}

function getOnce(url: URL, signal: AbortSignal): Promise<{ status: number; location: string | undefined }> {
  return new Promise((resolve, reject) => {
    const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = request(
      url,
      // A fresh connection per probe, as curl makes; -k: the task's certificate is not verified.
      { method: 'GET', agent: false, signal, rejectUnauthorized: false, headers: { accept: '*/*', 'user-agent': 'mesos-pool-executor-check' } },
      (res: IncomingMessage) => {
        const status = res.statusCode ?? 0;
        const location = res.headers.location;
        // Like curl, the answer counts once its body has been read to the end.
        res.on('error', reject);
        res.on('end', () => resolve({ status, location }));
        res.resume();
      },
    );
    req.on('error', reject);
    req.end();
  });
}

export function tcpProbe(spec: TcpProbe, signal: AbortSignal): Promise<ProbeOutcome> {
  if (signal.aborted) return Promise.resolve(errorOutcome('aborted'));
  return new Promise((resolve) => {
    const socket = connect({ host: spec.host, port: spec.port });
    let settled = false;
    const done = (succeeded: boolean | undefined): void => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      socket.destroy();
      resolve(succeeded === undefined ? errorOutcome('aborted') : { kind: 'result', status: { type: 'TCP', tcp: { succeeded } } });
    };
    const onAbort = (): void => done(undefined);
    signal.addEventListener('abort', onAbort);
    socket.once('connect', () => done(true));
    // mesos-tcp-connect's non-zero exit: upstream cannot tell a refusal from other errors either.
    socket.once('error', () => done(false));
  });
}
