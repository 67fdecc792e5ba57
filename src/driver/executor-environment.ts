// Reads the environment a Mesos agent gives an executor (PROTOCOL.md §1.1–§1.3) once, at the
// boundary, into a frozen, fully resolved `ExecutorEnvironment`. Everything after this trusts it.
// Variable names, PID parsing and the inverse (the builder) live in src/protocol/environment-variables.ts.
import { isAbsolute, relative, resolve } from 'node:path';
import { inspect } from 'node:util';
import { EnvironmentError } from '../errors.js';
import { invalidVariable } from './variable-error.js';
import { tryParseDuration } from '../protocol/duration.js';
import { ENV, formatHostPort, parseAgentPid, parseHostPort, type AgentPid } from '../protocol/environment-variables.js';
import { readSslFlags, type TlsSettings } from './ssl-flags.js';

export type { ServerVerification, TlsSettings } from './ssl-flags.js';

/**
 * A string that must not leak into logs: `String()`, template literals, `JSON.stringify` and
 * `util.inspect` all print `[redacted]`. Only {@link Secret.reveal} returns the value.
 */
export class Secret {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
    Object.freeze(this);
  }

  /** The secret value, for the one place that needs it (the `Authorization` header). */
  reveal(): string {
    return this.#value;
  }

  toString(): string {
    return '[redacted]';
  }

  toJSON(): string {
    return '[redacted]';
  }

  [Symbol.toPrimitive](): string {
    return '[redacted]';
  }

  [inspect.custom](): string {
    return 'Secret([redacted])';
  }
}

/** Where the executor API is served. `origin` + `path` is what an HTTP client needs. */
export type AgentEndpoint =
  | {
      readonly transport: 'tcp';
      readonly scheme: 'http' | 'https';
      /** Hostname or IP, without brackets for IPv6. */
      readonly host: string;
      readonly port: number;
      /** e.g. `http://10.0.0.5:5051`. */
      readonly origin: string;
      /** e.g. `/slave(1)/api/v1/executor`. */
      readonly path: string;
      /** `origin` + `path`, for logs. */
      readonly url: string;
    }
  | {
      readonly transport: 'unix';
      /** The socket to connect to (possibly `./…` relative to the working directory, see §1.2). */
      readonly socketPath: string;
      /** A placeholder origin for HTTP clients that take `socketPath` separately. */
      readonly origin: 'http://localhost';
      readonly path: string;
      /** `http+unix://<socket>/<path>`, for logs (the reference library's notation). */
      readonly url: string;
    };

interface ExecutorEnvironmentBase {
  /** MESOS_FRAMEWORK_ID (required). */
  readonly frameworkId: string;
  /** MESOS_EXECUTOR_ID (required). */
  readonly executorId: string;
  /** MESOS_SLAVE_ID, or null when absent (the v1 protocol does not need it). */
  readonly agentId: string | null;
  /** MESOS_SLAVE_PID parsed, or null when absent (then MESOS_AGENT_ENDPOINT gives the address). */
  readonly agentPid: AgentPid | null;
  /** The resolved endpoint (§1.2). */
  readonly endpoint: AgentEndpoint;
  /** SSL settings when the endpoint is https, else null. */
  readonly tls: TlsSettings | null;
  /** MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD in ms (required, as in the reference library). */
  readonly shutdownGracePeriodMs: number;
  /** MESOS_SANDBOX, else MESOS_DIRECTORY, else null. An absolute path. */
  readonly sandboxDirectory: string | null;
  /** MESOS_EXECUTOR_AUTHENTICATION_TOKEN, wrapped; null when the agent does not authenticate executors. */
  readonly authenticationToken: Secret | null;
  /** MESOS_LOCAL is set (any value): local/test mode. */
  readonly local: boolean;
}

/** With checkpointing the executor reconnects after a disconnect (§7.4), so both durations are known. */
interface CheckpointingEnvironment extends ExecutorEnvironmentBase {
  /** MESOS_CHECKPOINT is "1". */
  readonly checkpoint: true;
  /** MESOS_RECOVERY_TIMEOUT in ms (required when checkpointing, as in the reference library). */
  readonly recoveryTimeoutMs: number;
  /** MESOS_SUBSCRIPTION_BACKOFF_MAX in ms (required when checkpointing, as in the reference library). */
  readonly subscriptionBackoffMaxMs: number;
}

/** Without checkpointing a disconnect means shutdown (§7.4): no recovery durations. */
interface NonCheckpointingEnvironment extends ExecutorEnvironmentBase {
  readonly checkpoint: false;
  readonly recoveryTimeoutMs: null;
  readonly subscriptionBackoffMaxMs: null;
}

/** The executor's view of its agent, read once from the environment. Frozen. */
export type ExecutorEnvironment = CheckpointingEnvironment | NonCheckpointingEnvironment;

export interface ReadEnvironmentOptions {
  /** Working directory for shortening a long MESOS_DOMAIN_SOCKET path (default `process.cwd()`). */
  readonly cwd?: string;
}

/** Unix socket paths must be shorter than `sizeof(sun_path)` (upstream `DOMAIN_SOCKET_MAX_PATH_LENGTH`). */
export const DOMAIN_SOCKET_MAX_PATH_BYTES = 108;

/** The executor API path under the agent's process id (§1.2). Plain `/api/v1/executor` without one. */
export function executorApiPath(pidId: string | null): string {
  return pidId === null ? '/api/v1/executor' : `/${pidId}/api/v1/executor`;
}

type Env = Record<string, string | undefined>;

/**
 * Reads and validates the executor environment. Throws `EnvironmentError` with code
 * MPE_ENV_MISSING or MPE_ENV_INVALID; its `variable` names the variable at fault.
 *
 * MESOS_EXECUTOR_AUTHENTICATION_TOKEN is deleted from `env` first thing, whatever happens next,
 * so child processes never inherit it (the reference library does the same).
 */
export function readExecutorEnvironment(
  env: Env = process.env,
  options: ReadEnvironmentOptions = {},
): ExecutorEnvironment {
  const rawToken = env[ENV.AUTHENTICATION_TOKEN];
  delete env[ENV.AUTHENTICATION_TOKEN];
  const authenticationToken = rawToken === undefined ? null : new Secret(checkToken(rawToken));

  const frameworkId = required(env, ENV.FRAMEWORK_ID, 'the framework id (FrameworkID.value)');
  const executorId = required(env, ENV.EXECUTOR_ID, 'the executor id (ExecutorID.value)');
  const agentId = optional(env, ENV.SLAVE_ID, 'the agent id (AgentID.value)');

  const pidText = optional(env, ENV.SLAVE_PID, "the agent's PID, e.g. slave(1)@10.0.0.5:5051");
  let agentPid: AgentPid | null = null;
  if (pidText !== null) {
    const pid = parseAgentPid(pidText);
    if (typeof pid === 'string') throw invalidVariable(ENV.SLAVE_PID, pid, pidText);
    agentPid = Object.freeze(pid);
  }

  // With SSL enabled a missing key or certificate is an error even over the Unix socket (which
  // carries no TLS): libprocess refuses to start without them whatever the executor connects to.
  const ssl = readSslFlags(env);
  const endpoint = resolveEndpoint(env, agentPid, ssl.enabled, options.cwd ?? process.cwd());
  const tls: TlsSettings | null = ssl.enabled && endpoint.transport === 'tcp' ? ssl.settings : null;

  const checkpoint = readCheckpoint(env);
  const shutdownGracePeriodMs = requiredDuration(env, ENV.SHUTDOWN_GRACE_PERIOD, 'always set by the agent (since 0.28.0)');

  const sandboxDirectory = readSandbox(env);
  const base = {
    frameworkId,
    executorId,
    agentId,
    agentPid,
    endpoint,
    tls,
    shutdownGracePeriodMs,
    sandboxDirectory,
    authenticationToken,
    local: env[ENV.LOCAL] !== undefined,
  };
  if (checkpoint) {
    // The reference library exits when these are missing while checkpointing; so do we, rather
    // than guess the agent's flags.
    const recoveryTimeoutMs = requiredDuration(env, ENV.RECOVERY_TIMEOUT, 'set by the agent when MESOS_CHECKPOINT=1');
    const subscriptionBackoffMaxMs = requiredDuration(
      env,
      ENV.SUBSCRIPTION_BACKOFF_MAX,
      'set by the agent when MESOS_CHECKPOINT=1',
    );
    return Object.freeze({ ...base, checkpoint: true, recoveryTimeoutMs, subscriptionBackoffMaxMs });
  }
  return Object.freeze({ ...base, checkpoint: false, recoveryTimeoutMs: null, subscriptionBackoffMaxMs: null });
}

function checkToken(token: string): string {
  // A JWT is base64url segments and dots. Anything outside printable ASCII would corrupt the
  // Authorization header. The message never includes the value.
  if (!/^[\x21-\x7e]+$/.test(token)) {
    throw new EnvironmentError(
      'MPE_ENV_INVALID',
      ENV.AUTHENTICATION_TOKEN,
      `${ENV.AUTHENTICATION_TOKEN}: expected a non-empty token of printable ASCII characters without spaces (value not shown)`,
    );
  }
  return token;
}

function resolveEndpoint(env: Env, pid: AgentPid | null, https: boolean, cwd: string): AgentEndpoint {
  const socket = optional(env, ENV.DOMAIN_SOCKET, "the path of the agent's Unix socket");
  if (socket !== null) {
    if (pid === null) {
      throw new EnvironmentError(
        'MPE_ENV_MISSING',
        ENV.SLAVE_PID,
        `${ENV.SLAVE_PID} is not set: with ${ENV.DOMAIN_SOCKET} it is required, because the agent's socket only serves /<pid-id>/api/v1/executor (expected e.g. slave(1)@10.0.0.5:5051)`,
      );
    }
    const path = executorApiPath(pid.id);
    // No TLS over the Unix socket, as in the reference library.
    const socketPath = shortenSocketPath(socket, cwd);
    return Object.freeze({
      transport: 'unix',
      socketPath,
      origin: 'http://localhost',
      path,
      url: `http+unix://${encodeURIComponent(socketPath)}${path}`,
    });
  }
  let address: { host: string; port: number };
  const endpointText = optional(env, ENV.AGENT_ENDPOINT, "the agent's address, <host>:<port>");
  if (endpointText !== null) {
    const parsed = parseHostPort(endpointText);
    if (typeof parsed === 'string') throw invalidVariable(ENV.AGENT_ENDPOINT, parsed, endpointText);
    address = parsed;
  } else if (pid !== null) {
    address = pid;
  } else {
    throw new EnvironmentError(
      'MPE_ENV_MISSING',
      ENV.SLAVE_PID,
      `${ENV.SLAVE_PID} is not set (nor ${ENV.AGENT_ENDPOINT}): expected the agent's PID, e.g. slave(1)@10.0.0.5:5051, to locate the executor API`,
    );
  }
  const scheme = https ? 'https' : 'http';
  const origin = `${scheme}://${formatHostPort(address)}`;
  // The prefixed path works on TCP too (the agent is libprocess' delegate), and is what the
  // reference library uses.
  const path = executorApiPath(pid === null ? null : pid.id);
  return Object.freeze({ transport: 'tcp', scheme, host: address.host, port: address.port, origin, path, url: origin + path });
}

function shortenSocketPath(socket: string, cwd: string): string {
  const bytes = Buffer.byteLength(socket);
  if (bytes < DOMAIN_SOCKET_MAX_PATH_BYTES) return socket;
  // Same fallback as the reference library: the path relative to the working directory.
  const base = resolve(cwd);
  const shorter = `./${relative(base, resolve(base, socket))}`;
  const shorterBytes = Buffer.byteLength(shorter);
  if (shorterBytes < DOMAIN_SOCKET_MAX_PATH_BYTES) return shorter;
  throw new EnvironmentError(
    'MPE_ENV_INVALID',
    ENV.DOMAIN_SOCKET,
    `${ENV.DOMAIN_SOCKET}: expected a socket path shorter than ${DOMAIN_SOCKET_MAX_PATH_BYTES} bytes; got ${bytes} bytes, and ${shorterBytes} bytes relative to the working directory (${JSON.stringify(shorter)})`,
  );
}

function readCheckpoint(env: Env): boolean {
  const value = env[ENV.CHECKPOINT];
  // The agent always writes "1" or "0", and the reference library tests `== "1"`. The docs say
  // "true"; we reject anything else rather than silently read "true" as false.
  if (value === undefined || value === '0') return false;
  if (value === '1') return true;
  throw invalidVariable(ENV.CHECKPOINT, 'expected "1" or "0"', value);
}

function readSandbox(env: Env): string | null {
  for (const name of [ENV.SANDBOX, ENV.DIRECTORY]) {
    const value = optional(env, name, 'an absolute path');
    if (value === null) continue;
    if (!isAbsolute(value)) throw invalidVariable(name, 'expected an absolute path', value);
    return value;
  }
  return null;
}

function required(env: Env, name: string, what: string): string {
  const value = env[name];
  if (value === undefined) {
    throw new EnvironmentError('MPE_ENV_MISSING', name, `${name} is not set: expected ${what}, which the Mesos agent always sets for an executor`);
  }
  if (value === '') throw invalidVariable(name, `expected ${what}, got an empty string`);
  return value;
}

function optional(env: Env, name: string, what: string): string | null {
  const value = env[name];
  if (value === undefined) return null;
  if (value === '') throw invalidVariable(name, `expected ${what}, got an empty string`);
  return value;
}

function requiredDuration(env: Env, name: string, when: string): number {
  const value = env[name];
  if (value === undefined) {
    throw new EnvironmentError(
      'MPE_ENV_MISSING',
      name,
      `${name} is not set: expected a duration such as 5secs or 15mins (${when})`,
    );
  }
  const parsed = tryParseDuration(value);
  if (!parsed.ok) throw invalidVariable(name, `expected a duration such as 5secs or 15mins: ${parsed.reason}`, value);
  return parsed.ms;
}

