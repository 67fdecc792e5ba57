// LocalAgent options: validated once at construction, then resolved into a deeply frozen config
// that the rest of the agent trusts (STYLE.md practices 1 and 2).
import { randomUUID } from 'node:crypto';
import { userInfo } from 'node:os';
import { createSecureContext } from 'node:tls';
import { InvalidOptionError } from '../errors.js';
import type { ContentType } from '../protocol/codec.js';
import { AGENT_DEFAULTS, DEFAULT_AGENT_PID_ID, PID_ID } from '../protocol/environment-variables.js';
import type { ExecutorInfo, FrameworkCapabilityType, FrameworkInfo } from '../proto/types.js';
import * as is from '../validate.js';

/** Claims an executor token stands for; upstream puts them in a JWT (`fid`, `eid`, `cid`). */
export interface ExecutorClaims {
  readonly fid?: string;
  readonly eid?: string;
  readonly cid?: string;
}

/**
 * What to do with launched tasks still in TASK_STAGING (in the agent's view) that a SUBSCRIBE
 * does not list in `unacknowledged_tasks`:
 * - `'always'`: upstream (`Slave::subscribe` checks on every SUBSCRIBE): such a task's LAUNCH
 *   never reached the executor, so it becomes TASK_LOST / TASK_DROPPED;
 * - `'after-restart'`: only on the first SUBSCRIBE after {@link LocalAgent.restart}.
 */
export type UnlistedTaskRule = 'always' | 'after-restart';

export interface LocalAgentOptions {
  /** Address to bind. Default `127.0.0.1`. */
  host?: string;
  /** Port to bind; 0 (default) picks a free one. */
  port?: number;
  /** The agent's libprocess process id, the first part of `MESOS_SLAVE_PID`. Default `slave(1)`. */
  pidId?: string;
  /** `AgentID.value`. Default: a fresh `<uuid>-S0`. */
  agentId?: string;
  /** `AgentInfo.hostname`. Default: `host`. */
  hostname?: string;
  /**
   * The framework. Defaults: `user` the current OS user, `name` `local-framework`, `id` a fresh
   * `<uuid>-0000`, `checkpoint` false (the protobuf default). Without checkpointing an agent
   * restart destroys the executor, as upstream's does: set `checkpoint: true` for an executor
   * that should reconnect across {@link LocalAgent.restart}.
   */
  frameworkInfo?: Partial<FrameworkInfo>;
  /** Shorthand: adds the PARTITION_AWARE capability (agent-made DROPPED/GONE instead of LOST). */
  partitionAware?: boolean;
  /** Shorthand: adds the TASK_KILLING_STATE capability. */
  taskKillingState?: boolean;
  /** The executor. Defaults: `executor_id` {@link executorId}, `framework_id` the framework's, `name`. */
  executorInfo?: Partial<ExecutorInfo>;
  /** `ExecutorID.value`; ignored when `executorInfo.executor_id` is given. Default `mesos-pool-executor`. */
  executorId?: string;
  /** `ContainerID.value` of the first executor run. Default: a fresh UUID. */
  containerId?: string;
  /** Call encodings accepted (others get 415) and offered for the event stream. Default: both. */
  contentTypes?: readonly ContentType[];
  /** HEARTBEAT event interval; the first comes one interval after SUBSCRIBED. Default 30 minutes, as upstream. */
  heartbeatIntervalMs?: number;
  /**
   * `--executor_registration_timeout`: an executor launched by {@link LocalAgent.launchExecutor}
   * that has not subscribed within this is killed, and its tasks become TASK_FAILED
   * (REASON_EXECUTOR_REGISTRATION_TIMEOUT). Default 1 minute, as upstream.
   */
  executorRegistrationTimeoutMs?: number;
  /**
   * `--executor_reregistration_timeout`: after a restart with checkpointing, the re-registration
   * window, in which SUBSCRIBE is served and other calls get 503; an executor that has not
   * subscribed again by its end is killed, and its tasks become TASK_LOST (TASK_GONE if
   * partition-aware) with REASON_EXECUTOR_REREGISTRATION_TIMEOUT. Default 2 s; at most 15 s, as upstream.
   */
  executorReregistrationTimeoutMs?: number;
  /**
   * ACKNOWLEDGED events always leave after the 202 (in a later turn of the event loop), as
   * upstream's follow the checkpoint of the update; with a delay, those due within it leave
   * together at its end. Default 0. See also {@link LocalAgent.delayAcks}.
   */
  ackDelayMs?: number;
  /** Send each batch of due ACKNOWLEDGED events in reverse order (upstream does not keep their order). Default false. */
  reorderAcks?: boolean;
  /**
   * Turns on executor authentication: every request must carry `Authorization: Bearer <token>`.
   * The token is opaque (upstream uses a JWT, which executors never look into): it stands for the
   * claims of the current executor run (fid, eid, cid) and is written to
   * `MESOS_EXECUTOR_AUTHENTICATION_TOKEN`.
   */
  authToken?: string;
  /** More accepted tokens with the claims they stand for (to provoke 403 claim mismatches). */
  extraAuthTokens?: Readonly<Record<string, ExecutorClaims>>;
  /** `MESOS_RECOVERY_TIMEOUT` (when checkpointing). Default 15 minutes. */
  recoveryTimeoutMs?: number;
  /**
   * `MESOS_SUBSCRIPTION_BACKOFF_MAX` (when checkpointing). Default `executorReregistrationTimeoutMs`
   * (2 s): upstream writes that flag's value there, so that an executor retries within the window.
   */
  subscriptionBackoffMaxMs?: number;
  /**
   * `--executor_shutdown_grace_period`: time between SHUTDOWN and killing the executor, and
   * `MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD`. `executorInfo.shutdown_grace_period` wins. Default 5 s.
   */
  shutdownGracePeriodMs?: number;
  /** The executor's sandbox (MESOS_DIRECTORY, MESOS_SANDBOX, default cwd). Default: a temp dir made by start() and removed by stop(). */
  sandboxDir?: string;
  /** Operator variables (`--executor_environment_variables`), overridden by the MESOS_* ones. */
  extraEnvironment?: Readonly<Record<string, string>>;
  /** Keep every call in {@link LocalAgent.calls}. Default true; turn off for benchmarks. */
  recordCalls?: boolean;
  /** Keep each task's accepted statuses and TaskInfo. Default: same as `recordCalls`. */
  recordStatuses?: boolean;
  /** See {@link UnlistedTaskRule}. Default `'always'` (upstream). */
  unlistedStagingTasks?: UnlistedTaskRule;
  /** Largest request body accepted, in bytes (larger: 413 and the connection closed). Default 64 MiB. */
  maxBodyBytes?: number;
  /**
   * Also serve the executor API on a Unix domain socket (`--http_executor_domain_sockets`,
   * since Mesos 1.10), given to the executor as `MESOS_DOMAIN_SOCKET`. As upstream, only
   * `/<pidId>/api/v1/executor` and `/<pidId>/api/v1` are served there; other paths get 403.
   * The socket lives in a temporary directory made by start(). Default false.
   */
  domainSocket?: boolean;
  /**
   * Serve the executor API over TLS (https) with this identity. The executor learns nothing of
   * it from the agent: as upstream, give it the libprocess variables (`LIBPROCESS_SSL_ENABLED`,
   * `LIBPROCESS_SSL_CA_FILE`, …) through `extraEnvironment` (`--executor_environment_variables`).
   */
  tls?: AgentTlsOptions;
}

/** A TLS listener instead of plain HTTP (the domain socket stays plain). */
export interface AgentTlsOptions {
  /** PEM private key. */
  key: string | Buffer;
  /** PEM certificate, followed by its intermediates if any. */
  cert: string | Buffer;
  /** PEM CA certificates a client certificate must chain to (with `requestClientCert`). */
  ca?: string | Buffer | ReadonlyArray<string | Buffer>;
  /**
   * Ask every client for a certificate and refuse the connection without one that `ca`
   * verifies, as libprocess does with `LIBPROCESS_SSL_REQUIRE_CLIENT_CERT`. Default false.
   */
  requestClientCert?: boolean;
}

export interface AgentTlsConfig {
  readonly key: string;
  readonly cert: string;
  readonly ca: readonly string[] | undefined;
  readonly requestClientCert: boolean;
}

/** The resolved, frozen configuration. */
export interface AgentConfig {
  readonly host: string;
  readonly port: number;
  readonly pidId: string;
  readonly agentId: string;
  readonly hostname: string;
  readonly frameworkInfo: Readonly<FrameworkInfo> & { readonly id: { readonly value: string } };
  /** `frameworkInfo.checkpoint`. */
  readonly checkpoint: boolean;
  readonly partitionAware: boolean;
  readonly executorInfo: Readonly<ExecutorInfo>;
  readonly executorId: string;
  readonly frameworkId: string;
  readonly containerId: string;
  readonly contentTypes: readonly ContentType[];
  readonly heartbeatIntervalMs: number;
  readonly executorRegistrationTimeoutMs: number;
  readonly executorReregistrationTimeoutMs: number;
  readonly ackDelayMs: number;
  readonly reorderAcks: boolean;
  readonly authToken: string | undefined;
  readonly extraAuthTokens: Readonly<Record<string, ExecutorClaims>>;
  readonly recoveryTimeoutMs: number;
  readonly subscriptionBackoffMaxMs: number;
  readonly shutdownGracePeriodMs: number;
  readonly sandboxDir: string | undefined;
  readonly extraEnvironment: Readonly<Record<string, string>>;
  readonly recordCalls: boolean;
  readonly recordStatuses: boolean;
  readonly unlistedStagingTasks: UnlistedTaskRule;
  readonly maxBodyBytes: number;
  readonly domainSocket: boolean;
  readonly tls: AgentTlsConfig | undefined;
}

const ALL_CONTENT_TYPES: readonly ContentType[] = ['application/json', 'application/x-protobuf'];
// setTimeout's limit; a longer heartbeat interval would fire at once.
const MAX_TIMER_MS = 2 ** 31 - 1;
// MAX_EXECUTOR_REREGISTRATION_TIMEOUT (src/slave/constants.hpp).
const MAX_REREGISTRATION_TIMEOUT_MS = 15_000;

/** Fresh defaults each time: no shared mutable default objects. */
function defaults() {
  return {
    host: '127.0.0.1',
    port: 0,
    pidId: DEFAULT_AGENT_PID_ID,
    heartbeatIntervalMs: 30 * 60_000,
    executorRegistrationTimeoutMs: 60_000,
    executorReregistrationTimeoutMs: 2000,
    recoveryTimeoutMs: AGENT_DEFAULTS.recoveryTimeoutMs,
    shutdownGracePeriodMs: AGENT_DEFAULTS.shutdownGracePeriodMs,
    maxBodyBytes: 64 * 1024 * 1024,
  };
}

function currentUser(): string {
  try {
    return userInfo().username;
  } catch {
    // No passwd entry (some containers): fall back like a shell would.
    return process.env['USER'] ?? 'root';
  }
}

/** Validates `options`, fills in defaults and returns a deeply frozen config. Throws InvalidOptionError. */
export function resolveAgentOptions(options: LocalAgentOptions = {}): AgentConfig {
  if (options === null || typeof options !== 'object') {
    throw is.invalidOption('options', 'an object', options);
  }
  const d = defaults();
  const host = is.optional(options.host, 'host', is.nonEmptyString) ?? d.host;
  const port = is.optional(options.port, 'port', is.integer(0, 65535)) ?? d.port;
  const pidId = is.optional(options.pidId, 'pidId', PID_ID) ?? d.pidId;
  const agentId = is.optional(options.agentId, 'agentId', is.nonEmptyString) ?? `${randomUUID()}-S0`;
  const hostname = is.optional(options.hostname, 'hostname', is.nonEmptyString) ?? host;

  // Cloned so that freezing the config never freezes the caller's objects.
  const fi = structuredClone(optObject(options.frameworkInfo, 'frameworkInfo') ?? {});
  const frameworkId = is.optional(fi.id?.value, 'frameworkInfo.id.value', is.nonEmptyString) ?? `${randomUUID()}-0000`;
  const capabilities = [...(fi.capabilities ?? [])];
  const partitionAware = is.optional(options.partitionAware, 'partitionAware', is.boolean) ?? false;
  const addCapability = (type: FrameworkCapabilityType): void => {
    if (!capabilities.some((c) => c.type === type)) capabilities.push({ type });
  };
  if (partitionAware) addCapability('PARTITION_AWARE');
  if (is.optional(options.taskKillingState, 'taskKillingState', is.boolean) === true) addCapability('TASK_KILLING_STATE');
  const frameworkInfo = {
    ...fi,
    user: is.optional(fi.user, 'frameworkInfo.user', is.nonEmptyString) ?? currentUser(),
    name: is.optional(fi.name, 'frameworkInfo.name', is.nonEmptyString) ?? 'local-framework',
    id: { value: frameworkId },
    checkpoint: is.optional(fi.checkpoint, 'frameworkInfo.checkpoint', is.boolean) ?? false,
    ...(capabilities.length > 0 ? { capabilities } : {}),
  };

  const ei = structuredClone(optObject(options.executorInfo, 'executorInfo') ?? {});
  const executorId =
    is.optional(ei.executor_id?.value, 'executorInfo.executor_id.value', is.nonEmptyString) ??
    is.optional(options.executorId, 'executorId', is.nonEmptyString) ??
    'mesos-pool-executor';
  const executorInfo: ExecutorInfo = {
    ...ei,
    executor_id: { value: executorId },
    framework_id: { value: frameworkId },
    name: ei.name ?? 'mesos-pool-executor (local agent)',
  };

  let shutdownGracePeriodMs = is.optional(options.shutdownGracePeriodMs, 'shutdownGracePeriodMs', is.milliseconds()) ?? d.shutdownGracePeriodMs;
  if (ei.shutdown_grace_period !== undefined) {
    // ExecutorInfo.shutdown_grace_period wins over the agent flag (src/slave/slave.cpp).
    const ns = Number(ei.shutdown_grace_period.nanoseconds);
    if (!Number.isFinite(ns) || ns < 0) {
      throw new InvalidOptionError(
        'executorInfo.shutdown_grace_period',
        `executorInfo.shutdown_grace_period.nanoseconds: expected a non-negative number, got ${String(ei.shutdown_grace_period.nanoseconds)}`,
      );
    }
    shutdownGracePeriodMs = ns / 1e6;
  }

  const contentTypes = options.contentTypes === undefined ? ALL_CONTENT_TYPES : [...options.contentTypes];
  if (!Array.isArray(contentTypes) || contentTypes.length === 0 || contentTypes.some((t) => !ALL_CONTENT_TYPES.includes(t))) {
    throw new InvalidOptionError(
      'contentTypes',
      `contentTypes: expected a non-empty list of ${ALL_CONTENT_TYPES.map((t) => `'${t}'`).join(' and ')}, got ${JSON.stringify(options.contentTypes)}`,
    );
  }

  const heartbeatIntervalMs = is.optional(options.heartbeatIntervalMs, 'heartbeatIntervalMs', is.integer(1, MAX_TIMER_MS)) ?? d.heartbeatIntervalMs;
  const executorRegistrationTimeoutMs =
    is.optional(options.executorRegistrationTimeoutMs, 'executorRegistrationTimeoutMs', is.milliseconds(MAX_TIMER_MS)) ?? d.executorRegistrationTimeoutMs;
  // Upstream's flag check: "Expected `--executor_reregistration_timeout` to be not more than 15secs".
  const executorReregistrationTimeoutMs =
    is.optional(options.executorReregistrationTimeoutMs, 'executorReregistrationTimeoutMs', is.milliseconds(MAX_REREGISTRATION_TIMEOUT_MS)) ??
    d.executorReregistrationTimeoutMs;
  const authToken = is.optional(options.authToken, 'authToken', is.nonEmptyString);
  const extraAuthTokens = optObject(options.extraAuthTokens, 'extraAuthTokens') ?? {};
  for (const [token, claims] of Object.entries(extraAuthTokens)) {
    if (token === '' || /\s/.test(token)) {
      throw new InvalidOptionError('extraAuthTokens', 'extraAuthTokens: a token must be non-empty and contain no whitespace');
    }
    optObject(claims, 'extraAuthTokens[…]');
  }
  if (authToken !== undefined && /\s/.test(authToken)) {
    // A token with a space could never be sent as `Bearer <token>` (the header must be two parts).
    throw new InvalidOptionError('authToken', 'authToken: expected a token without whitespace');
  }

  const recordCalls = is.optional(options.recordCalls, 'recordCalls', is.boolean) ?? true;
  const recordStatuses = is.optional(options.recordStatuses, 'recordStatuses', is.boolean) ?? recordCalls;
  const rule = is.optional(options.unlistedStagingTasks, 'unlistedStagingTasks', is.oneOf(['always', 'after-restart'])) ?? 'always';
  const extraEnvironment = optObject(options.extraEnvironment, 'extraEnvironment') ?? {};
  for (const [name, value] of Object.entries(extraEnvironment)) {
    if (typeof value !== 'string') {
      throw new InvalidOptionError('extraEnvironment', `extraEnvironment.${name}: expected a string, got ${is.describeValue(value)}`);
    }
  }

  return deepFreeze({
    host,
    port,
    pidId,
    agentId,
    hostname,
    frameworkInfo,
    checkpoint: frameworkInfo.checkpoint,
    partitionAware: capabilities.some((c) => c.type === 'PARTITION_AWARE'),
    executorInfo,
    executorId,
    frameworkId,
    containerId: is.optional(options.containerId, 'containerId', is.nonEmptyString) ?? randomUUID(),
    contentTypes,
    heartbeatIntervalMs,
    executorRegistrationTimeoutMs,
    executorReregistrationTimeoutMs,
    ackDelayMs: is.optional(options.ackDelayMs, 'ackDelayMs', is.milliseconds(MAX_TIMER_MS)) ?? 0,
    reorderAcks: is.optional(options.reorderAcks, 'reorderAcks', is.boolean) ?? false,
    authToken,
    extraAuthTokens: { ...extraAuthTokens },
    recoveryTimeoutMs: is.optional(options.recoveryTimeoutMs, 'recoveryTimeoutMs', is.milliseconds()) ?? d.recoveryTimeoutMs,
    // Upstream writes --executor_reregistration_timeout into MESOS_SUBSCRIPTION_BACKOFF_MAX.
    subscriptionBackoffMaxMs: is.optional(options.subscriptionBackoffMaxMs, 'subscriptionBackoffMaxMs', is.milliseconds()) ?? executorReregistrationTimeoutMs,
    shutdownGracePeriodMs,
    sandboxDir: is.optional(options.sandboxDir, 'sandboxDir', is.nonEmptyString),
    extraEnvironment: { ...extraEnvironment },
    recordCalls,
    recordStatuses,
    unlistedStagingTasks: rule,
    maxBodyBytes: is.optional(options.maxBodyBytes, 'maxBodyBytes', is.integer(1, Number.MAX_SAFE_INTEGER)) ?? d.maxBodyBytes,
    domainSocket: is.optional(options.domainSocket, 'domainSocket', is.boolean) ?? false,
    tls: resolveTls(options.tls),
  });
}

function resolveTls(options: AgentTlsOptions | undefined): AgentTlsConfig | undefined {
  if (optObject(options, 'tls') === undefined) return undefined;
  const tls = options!;
  const pem = (value: unknown, option: string): string => {
    const text = Buffer.isBuffer(value) ? value.toString('utf8') : value;
    if (typeof text !== 'string' || text === '') throw is.invalidOption(option, 'a PEM string or Buffer', value);
    return text;
  };
  const key = pem(tls.key, 'tls.key');
  const cert = pem(tls.cert, 'tls.cert');
  const ca = tls.ca === undefined ? undefined : (Array.isArray(tls.ca) ? tls.ca : [tls.ca]).map((c: unknown) => pem(c, 'tls.ca'));
  const requestClientCert = is.optional(tls.requestClientCert, 'tls.requestClientCert', is.boolean) ?? false;
  if (requestClientCert && ca === undefined) {
    throw new InvalidOptionError('tls.ca', 'tls.ca: required with tls.requestClientCert (the CAs a client certificate must chain to)');
  }
  try {
    // Checked once here: a key that does not match its certificate, or text that is not PEM.
    createSecureContext({ key, cert, ...(ca !== undefined ? { ca: [...ca] } : {}) });
  } catch (error) {
    throw new InvalidOptionError('tls', `tls: the key, certificate or CAs are unusable: ${(error as Error).message}`);
  }
  return { key, cert, ca, requestClientCert };
}

/** An object option, keeping its declared type. */
function optObject<T>(value: T | undefined, option: string): T | undefined {
  return is.optional(value, option, is.plainObject) === undefined ? undefined : value;
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value) && !ArrayBuffer.isView(value)) {
    for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
    Object.freeze(value);
  }
  return value;
}
