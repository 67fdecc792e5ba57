// Real Prometheus tooling for the metrics tests: `promtool check metrics` and a Prometheus server
// started per test (temporary config and data dir, loopback, a free port, stopped by PID).
// Debian's `prometheus` package ships both binaries; .ci/run installs it. On a developer machine
// without it the tests that need it skip with a loud message instead of failing obscurely.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { waitFor } from './wait.js';

/** The absolute path of `name` on PATH (or in /usr/bin, /usr/local/bin), else undefined. */
export function findBinary(name: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/bin', '/usr/local/bin'];
  for (const dir of dirs) {
    if (dir === '') continue;
    const path = join(dir, name);
    if (existsSync(path)) return path;
  }
  return undefined;
}

/**
 * Why a test needing `binary` cannot run here, said loudly (a console.warn that stands out in
 * the spec reporter's output), or undefined when it can. Use as `it(name, { skip: missing(...) })`.
 */
export function missing(binary: 'prometheus' | 'promtool'): string | undefined {
  if (findBinary(binary) !== undefined) return undefined;
  // CI installs it (.ci/run): there a missing binary is a broken CI, not a reason to skip.
  if (process.env.CI === 'true') throw new Error(`${binary} is missing on CI: .ci/run must install Debian's prometheus package`);
  const message =
    `${binary} is not installed: the real-Prometheus metrics test is SKIPPED on this machine. ` +
    'Install it with `apt-get install -y --no-install-recommends prometheus` (CI always does: .ci/run).';
  console.warn(`\n!!!!!!!! ${message}\n`);
  return message;
}

/** A free TCP port on 127.0.0.1 (bound and released; the caller binds it right away). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

export interface PromtoolResult {
  readonly code: number | null;
  /** Lint lines (promtool writes them to stderr, or stdout in some versions). */
  readonly problems: readonly string[];
}

/** Runs `promtool check metrics` on an exposition text. */
export function promtoolCheckMetrics(exposition: string): PromtoolResult {
  const result = spawnSync(findBinary('promtool') ?? 'promtool', ['check', 'metrics'], { input: exposition, encoding: 'utf8', timeout: 30_000 });
  if (result.error !== undefined) throw result.error;
  const problems = `${result.stdout}\n${result.stderr}`
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.length > 0);
  return { code: result.status, problems };
}

export interface PrometheusServer {
  /** e.g. http://127.0.0.1:41234 */
  readonly url: string;
  readonly pid: number;
  /** Everything it logged (for an assertion message). */
  log(): string;
  /** Stops it by PID (SIGTERM, then SIGKILL after 10 s) and removes its directory. */
  stop(): Promise<void>;
}

export interface PrometheusOptions {
  /** `host:port` targets of one scrape job. */
  readonly targets: readonly string[];
  readonly job?: string;
  readonly scrapeIntervalSeconds?: number;
}

/**
 * Starts a Prometheus server on a free loopback port with its own config and TSDB directory,
 * and resolves once it is ready (its /-/ready answers 200), polling, bounded by 30 s.
 */
export async function startPrometheus(options: PrometheusOptions): Promise<PrometheusServer> {
  const binary = findBinary('prometheus');
  if (binary === undefined) throw new Error('prometheus is not installed');
  const dir = await mkdtemp(join(tmpdir(), 'mpe-prometheus-'));
  const interval = `${options.scrapeIntervalSeconds ?? 1}s`;
  // YAML is a superset of JSON: no YAML library needed.
  const config = {
    global: { scrape_interval: interval, evaluation_interval: interval },
    scrape_configs: [{ job_name: options.job ?? 'mesos-executor', scrape_interval: interval, scrape_timeout: interval, static_configs: [{ targets: options.targets }] }],
  };
  const configFile = join(dir, 'prometheus.yml');
  await writeFile(configFile, JSON.stringify(config, null, 2));
  const port = await freePort();
  const child: ChildProcess = spawn(
    binary,
    [
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      // No web console assets needed; the API is all a test uses.
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  let exited = false;
  const exitedPromise = new Promise<void>((resolve) => child.once('exit', () => ((exited = true), resolve())));
  const pid = child.pid!;
  const url = `http://127.0.0.1:${port}`;
  const stop = async (): Promise<void> => {
    if (!exited) {
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        // already gone
      }
      const killer = setTimeout(() => {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }, 10_000);
      await exitedPromise;
      clearTimeout(killer);
    }
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await waitFor(
      async () => {
        if (exited) throw new Error(`prometheus exited:\n${output}`);
        const response = await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(1_000) });
        return response.status === 200;
      },
      { timeoutMs: 30_000, intervalMs: 100, what: 'Prometheus to be ready' },
    );
  } catch (error) {
    await stop();
    throw error;
  }
  return { url, pid, log: () => output, stop };
}

export interface InstantSample {
  readonly metric: Readonly<Record<string, string>>;
  /** [unix seconds, value as text] */
  readonly value: readonly [number, string];
}

/** An instant query through /api/v1/query; rejects on an API error. */
export async function query(prometheusUrl: string, promql: string): Promise<InstantSample[]> {
  const response = await fetch(`${prometheusUrl}/api/v1/query?query=${encodeURIComponent(promql)}`, { signal: AbortSignal.timeout(5_000) });
  const body = (await response.json()) as { status: string; error?: string; data?: { resultType: string; result: InstantSample[] } };
  if (body.status !== 'success' || body.data === undefined) throw new Error(`query ${promql} failed: ${body.error ?? response.status}`);
  if (body.data.resultType !== 'vector') throw new Error(`query ${promql}: expected a vector, got ${body.data.resultType}`);
  return body.data.result;
}
