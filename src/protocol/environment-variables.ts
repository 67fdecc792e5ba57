// The executor environment a Mesos agent writes (PROTOCOL.md §1.1), as pure pieces both sides of
// the wire may import: the variable names, parsers for the agent PID and `host:port`, and the
// builder the local agent uses to launch an executor process exactly as upstream does
// (`executorEnvironment()` in `src/slave/slave.cpp`, plus MESOS_SANDBOX from the containerizer).
// The executor side's reader lives in src/driver/executor-environment.ts.
import { InvalidOptionError } from '../errors.js';
import * as is from '../validate.js';
import { formatDuration } from './duration.js';

/** Names of the variables an agent sets for an executor, and of the libprocess SSL variables it may pass on. */
export const ENV = Object.freeze({
  LIBPROCESS_IP: 'LIBPROCESS_IP',
  LIBPROCESS_PORT: 'LIBPROCESS_PORT',
  FRAMEWORK_ID: 'MESOS_FRAMEWORK_ID',
  EXECUTOR_ID: 'MESOS_EXECUTOR_ID',
  DIRECTORY: 'MESOS_DIRECTORY',
  SLAVE_ID: 'MESOS_SLAVE_ID',
  SLAVE_PID: 'MESOS_SLAVE_PID',
  AGENT_ENDPOINT: 'MESOS_AGENT_ENDPOINT',
  CHECKPOINT: 'MESOS_CHECKPOINT',
  HTTP_COMMAND_EXECUTOR: 'MESOS_HTTP_COMMAND_EXECUTOR',
  DOMAIN_SOCKET: 'MESOS_DOMAIN_SOCKET',
  SHUTDOWN_GRACE_PERIOD: 'MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD',
  RECOVERY_TIMEOUT: 'MESOS_RECOVERY_TIMEOUT',
  SUBSCRIPTION_BACKOFF_MAX: 'MESOS_SUBSCRIPTION_BACKOFF_MAX',
  AUTHENTICATION_TOKEN: 'MESOS_EXECUTOR_AUTHENTICATION_TOKEN',
  SANDBOX: 'MESOS_SANDBOX',
  LOCAL: 'MESOS_LOCAL',
  // libprocess reads LIBPROCESS_SSL_<FLAG>, and SSL_<FLAG> as a deprecated fallback
  // (`3rdparty/libprocess/src/openssl.cpp`, `reinitialize`).
  SSL_ENABLED: 'LIBPROCESS_SSL_ENABLED',
  SSL_VERIFY_CERT: 'LIBPROCESS_SSL_VERIFY_CERT',
  SSL_REQUIRE_CERT: 'LIBPROCESS_SSL_REQUIRE_CERT',
  SSL_CA_FILE: 'LIBPROCESS_SSL_CA_FILE',
  SSL_CA_DIR: 'LIBPROCESS_SSL_CA_DIR',
  SSL_CERT_FILE: 'LIBPROCESS_SSL_CERT_FILE',
  SSL_KEY_FILE: 'LIBPROCESS_SSL_KEY_FILE',
} as const);

/** The agent's libprocess process id; a single agent per host is always `slave(1)`. */
export const DEFAULT_AGENT_PID_ID = 'slave(1)';

/** Agent defaults (`src/slave/constants.hpp`, `src/slave/flags.cpp`). */
export const AGENT_DEFAULTS = Object.freeze({
  /** `--executor_shutdown_grace_period`: 5secs. */
  shutdownGracePeriodMs: 5_000,
  /** `--recovery_timeout`: 15mins. */
  recoveryTimeoutMs: 15 * 60_000,
  /** `--executor_reregistration_timeout`: 2secs (the agent rejects more than 15secs). */
  subscriptionBackoffMaxMs: 2_000,
});

/** A `host:port` address; `host` carries no brackets, even for IPv6. */
export interface HostPort {
  readonly host: string;
  readonly port: number;
}

/** A libprocess PID `<id>@<host>:<port>`, e.g. `slave(1)@10.0.0.5:5051`. */
export interface AgentPid extends HostPort {
  readonly id: string;
}

// An RFC 3986 path segment without '%' (no escapes needed) and without '@' (the PID separator).
const PID_ID_RE = /^[A-Za-z0-9\-._~!$&'()*+,;=:]+$/;
const HOST_PORT_RE = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9.-]+)):([0-9]{1,5})$/;

/** Parses `host:port` (`[v6]:port` for IPv6); returns a reason string when malformed. */
export function parseHostPort(text: string): HostPort | string {
  const match = HOST_PORT_RE.exec(text);
  if (match === null) return 'expected <host>:<port>, e.g. 10.0.0.5:5051 or [::1]:5051';
  const port = Number(match[3]);
  if (port < 1 || port > 65535) return `expected a port from 1 to 65535, got ${match[3]}`;
  return { host: match[1] ?? match[2] ?? '', port };
}

/** Formats a {@link HostPort} as libprocess prints an address: IPv6 in brackets. */
export function formatHostPort({ host, port }: HostPort): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Tells whether `id` can be a libprocess process id in a URL path (e.g. `slave(1)`). */
export function isValidPidId(id: string): boolean {
  return PID_ID_RE.test(id);
}

/** The option check of a pid id (`pidId` of the agent and of the environment builder). */
export const PID_ID: is.Check<string> = {
  expected: 'a libprocess process id such as "slave(1)"',
  test: (value): value is string => typeof value === 'string' && isValidPidId(value),
};

/** Parses a libprocess PID `<id>@<host>:<port>`; returns a reason string when malformed. */
export function parseAgentPid(text: string): AgentPid | string {
  const at = text.indexOf('@');
  if (at === -1) return 'expected <id>@<host>:<port>, e.g. slave(1)@10.0.0.5:5051';
  const id = text.slice(0, at);
  if (!isValidPidId(id)) return 'expected <id>@<host>:<port> with a non-empty id made of URL path characters, e.g. slave(1)@10.0.0.5:5051';
  const address = parseHostPort(text.slice(at + 1));
  if (typeof address === 'string') return address;
  return { id, ...address };
}

/** What {@link buildExecutorEnvironment} needs: the facts an agent knows when it launches an executor. */
export interface ExecutorEnvironmentSpec {
  readonly frameworkId: string;
  readonly executorId: string;
  readonly agentId: string;
  /** The agent's advertised address, `host:port` (IPv6 as `[v6]:port`). */
  readonly agentAddress: string;
  /** The agent's libprocess process id (default `slave(1)`). */
  readonly pidId?: string;
  /** Host path of this executor run's sandbox (MESOS_DIRECTORY). */
  readonly directory: string;
  /** The sandbox as the executor sees it (MESOS_SANDBOX); defaults to `directory`, as for a container without its own rootfs. */
  readonly sandbox?: string;
  readonly checkpoint: boolean;
  /** Default 5secs, the agent's `--executor_shutdown_grace_period` default. */
  readonly shutdownGracePeriodMs?: number;
  /** Written only when checkpointing. Default 15mins (`--recovery_timeout`). */
  readonly recoveryTimeoutMs?: number;
  /** Written only when checkpointing. Default 2secs (`--executor_reregistration_timeout`). */
  readonly subscriptionBackoffMaxMs?: number;
  /** Written as MESOS_EXECUTOR_AUTHENTICATION_TOKEN when given. */
  readonly authenticationToken?: string;
  /** Written as MESOS_DOMAIN_SOCKET when given. */
  readonly domainSocket?: string;
  /** MESOS_HTTP_COMMAND_EXECUTOR (default false). */
  readonly httpCommandExecutor?: boolean;
  /** Copied to LIBPROCESS_IP when given (the agent copies its own). */
  readonly libprocessIp?: string;
  /**
   * Operator variables (`--executor_environment_variables`), e.g. LIBPROCESS_SSL_*. Written
   * after LIBPROCESS_IP and before the other variables, which override them, as upstream.
   */
  readonly extraVariables?: Readonly<Record<string, string>>;
}

/**
 * Builds the environment a Mesos agent gives an executor, variables in upstream's order
 * (`executorEnvironment()` in `src/slave/slave.cpp`; MESOS_SANDBOX is added last by the
 * containerizer). Durations are printed as stout does (`15mins`, `5secs`). Throws
 * `InvalidOptionError` naming the field at fault.
 */
export function buildExecutorEnvironment(spec: ExecutorEnvironmentSpec): Record<string, string> {
  for (const key of ['frameworkId', 'executorId', 'agentId', 'directory'] as const) is.required(spec[key], key, is.nonEmptyString);
  const address = parseHostPort(spec.agentAddress);
  if (typeof address === 'string') {
    throw new InvalidOptionError('agentAddress', `agentAddress: ${address}; got ${JSON.stringify(spec.agentAddress)}`);
  }
  const pidId = spec.pidId ?? DEFAULT_AGENT_PID_ID;
  is.required(pidId, 'pidId', PID_ID);
  const env: Record<string, string> = {};
  if (spec.libprocessIp !== undefined) env[ENV.LIBPROCESS_IP] = spec.libprocessIp;
  for (const [name, value] of Object.entries(spec.extraVariables ?? {})) {
    if (typeof value !== 'string') {
      throw new InvalidOptionError('extraVariables', `extraVariables.${name}: expected a string, got ${is.describeValue(value)}`);
    }
    env[name] = value;
  }
  // libprocess-based executors must bind a random port, never the agent's.
  env[ENV.LIBPROCESS_PORT] = '0';
  env[ENV.FRAMEWORK_ID] = spec.frameworkId;
  env[ENV.EXECUTOR_ID] = spec.executorId;
  env[ENV.DIRECTORY] = spec.directory;
  env[ENV.SLAVE_ID] = spec.agentId;
  const agentAddress = formatHostPort(address);
  env[ENV.SLAVE_PID] = `${pidId}@${agentAddress}`;
  env[ENV.AGENT_ENDPOINT] = agentAddress;
  env[ENV.CHECKPOINT] = spec.checkpoint ? '1' : '0';
  env[ENV.HTTP_COMMAND_EXECUTOR] = spec.httpCommandExecutor === true ? '1' : '0';
  if (spec.domainSocket !== undefined) {
    is.required(spec.domainSocket, 'domainSocket', is.nonEmptyString);
    env[ENV.DOMAIN_SOCKET] = spec.domainSocket;
  }
  env[ENV.SHUTDOWN_GRACE_PERIOD] = formatDuration(
    spec.shutdownGracePeriodMs ?? AGENT_DEFAULTS.shutdownGracePeriodMs,
    'shutdownGracePeriodMs',
  );
  if (spec.checkpoint) {
    env[ENV.RECOVERY_TIMEOUT] = formatDuration(spec.recoveryTimeoutMs ?? AGENT_DEFAULTS.recoveryTimeoutMs, 'recoveryTimeoutMs');
    env[ENV.SUBSCRIPTION_BACKOFF_MAX] = formatDuration(
      spec.subscriptionBackoffMaxMs ?? AGENT_DEFAULTS.subscriptionBackoffMaxMs,
      'subscriptionBackoffMaxMs',
    );
  }
  if (spec.authenticationToken !== undefined) {
    // Never echo the token in an error message.
    if (spec.authenticationToken === '') {
      throw new InvalidOptionError('authenticationToken', 'authenticationToken: expected a non-empty token');
    }
    env[ENV.AUTHENTICATION_TOKEN] = spec.authenticationToken;
  }
  env[ENV.SANDBOX] = spec.sandbox ?? spec.directory;
  return env;
}
