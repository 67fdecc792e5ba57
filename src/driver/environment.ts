// Reads the environment a Mesos agent gives an executor (PROTOCOL.md §1.1–§1.3) once, at the
// boundary, into a frozen, fully resolved `ExecutorEnvironment`. Everything after this trusts it.
// Variable names, PID parsing and the inverse (the builder) live in src/protocol/environment.ts.
import { isAbsolute, relative, resolve } from 'node:path';
import { inspect } from 'node:util';
import { EnvironmentError } from '../errors.js';
import { tryParseDuration } from '../protocol/duration.js';
import { ENV, formatHostPort, parseAgentPid, parseHostPort, type AgentPid } from '../protocol/environment.js';

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

/**
 * The libprocess SSL settings, so the transport can behave as a libprocess client would
 * (`3rdparty/libprocess/src/openssl.cpp`). Present only when the endpoint is https.
 */
export interface TlsSettings {
  /**
   * Verify the agent's certificate: LIBPROCESS_SSL_VERIFY_CERT, implied by
   * LIBPROCESS_SSL_REQUIRE_CERT. **libprocess defaults to false** (no verification).
   */
  readonly verifyCert: boolean;
  /** LIBPROCESS_SSL_CA_FILE: PEM file of trusted CAs; null means the system defaults. */
  readonly caFile: string | null;
  /** LIBPROCESS_SSL_CA_DIR: OpenSSL hashed CA directory; null means the system defaults. */
  readonly caDir: string | null;
  /** LIBPROCESS_SSL_CERT_FILE: client certificate, needed when the agent requires client certs. */
  readonly certFile: string | null;
  /** LIBPROCESS_SSL_KEY_FILE: key of {@link certFile}. */
  readonly keyFile: string | null;
}

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
    if (typeof pid === 'string') throw invalid(ENV.SLAVE_PID, pid, pidText);
    agentPid = Object.freeze(pid);
  }

  const tlsFlags = readSslFlags(env);
  const endpoint = resolveEndpoint(env, agentPid, tlsFlags.enabled, options.cwd ?? process.cwd());
  const tls: TlsSettings | null =
    endpoint.transport === 'tcp' && endpoint.scheme === 'https' ? Object.freeze(tlsFlags.settings) : null;

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
    if (typeof parsed === 'string') throw invalid(ENV.AGENT_ENDPOINT, parsed, endpointText);
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
  throw invalid(ENV.CHECKPOINT, 'expected "1" or "0"', value);
}

function readSandbox(env: Env): string | null {
  for (const name of [ENV.SANDBOX, ENV.DIRECTORY]) {
    const value = optional(env, name, 'an absolute path');
    if (value === null) continue;
    if (!isAbsolute(value)) throw invalid(name, 'expected an absolute path', value);
    return value;
  }
  return null;
}

interface SslFlags {
  readonly enabled: boolean;
  readonly settings: TlsSettings;
}

// libprocess reads LIBPROCESS_SSL_<FLAG>, falling back to the deprecated SSL_<FLAG>
// (`openssl.cpp` `reinitialize`: the LIBPROCESS_ value wins).
function sslVariable(env: Env, name: string): { readonly name: string; readonly value: string } | null {
  const value = env[name];
  if (value !== undefined) return { name, value };
  const legacy = name.replace(/^LIBPROCESS_/, '');
  const legacyValue = env[legacy];
  return legacyValue === undefined ? null : { name: legacy, value: legacyValue };
}

// stout's boolean flag parser: "true"/"1" and "false"/"0"; an empty value means true
// (`stout/flags/flags.hpp` load, `stout/flags/parse.hpp`). libprocess exits on anything else.
function sslBool(env: Env, name: string): boolean {
  const found = sslVariable(env, name);
  if (found === null) return false;
  const { value } = found;
  if (value === '' || value === '1' || value === 'true') return true;
  if (value === '0' || value === 'false') return false;
  throw invalid(found.name, 'expected a boolean: "1", "true", "0" or "false"', value);
}

function sslPath(env: Env, name: string): string | null {
  const found = sslVariable(env, name);
  if (found === null) return null;
  if (found.value === '') throw invalid(found.name, 'expected a path, got an empty string');
  return found.value;
}

function readSslFlags(env: Env): SslFlags {
  const enabled = sslBool(env, ENV.SSL_ENABLED);
  // `require_cert` implies `verify_cert` in libprocess.
  const verifyCert = sslBool(env, ENV.SSL_VERIFY_CERT) || sslBool(env, ENV.SSL_REQUIRE_CERT);
  return {
    enabled,
    settings: {
      verifyCert,
      caFile: sslPath(env, ENV.SSL_CA_FILE),
      caDir: sslPath(env, ENV.SSL_CA_DIR),
      certFile: sslPath(env, ENV.SSL_CERT_FILE),
      keyFile: sslPath(env, ENV.SSL_KEY_FILE),
    },
  };
}

function required(env: Env, name: string, what: string): string {
  const value = env[name];
  if (value === undefined) {
    throw new EnvironmentError('MPE_ENV_MISSING', name, `${name} is not set: expected ${what}, which the Mesos agent always sets for an executor`);
  }
  if (value === '') throw invalid(name, `expected ${what}, got an empty string`);
  return value;
}

function optional(env: Env, name: string, what: string): string | null {
  const value = env[name];
  if (value === undefined) return null;
  if (value === '') throw invalid(name, `expected ${what}, got an empty string`);
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
  if (!parsed.ok) throw invalid(name, `expected a duration such as 5secs or 15mins: ${parsed.reason}`, value);
  return parsed.ms;
}

// Never used for the token: its value must not appear in any message.
function invalid(name: string, expected: string, value?: string): EnvironmentError {
  if (value === undefined) return new EnvironmentError('MPE_ENV_INVALID', name, `${name}: ${expected}`);
  const shown = value.length > 200 ? `${JSON.stringify(value.slice(0, 200))}…` : JSON.stringify(value);
  return new EnvironmentError('MPE_ENV_INVALID', name, `${name}: ${expected}; got ${shown}`);
}
