// The driver's options: what a caller may set, validated once and frozen (STYLE.md §1, §2).
import type { Clock } from '../clock.js';
import type { Logger } from '../log.js';
import * as is from '../validate.js';
import type { ContentType } from '../protocol/codec.js';
import type { ExecutorEnvironment } from './executor-environment.js';
import type { AgentTransport } from './transport.js';

export interface MesosExecutorDriverOptions {
  /**
   * The environment to read the agent's variables from (default `process.env`). The
   * authentication token is deleted from it once read.
   */
  env?: Record<string, string | undefined>;
  /** An already-read environment; `env` is then ignored. */
  environment?: ExecutorEnvironment;
  /** Wire encoding of calls and events (default protobuf). */
  contentType?: ContentType;
  logger?: Logger;
  /** Replaces the HTTP transport (tests, custom transports). */
  transport?: AgentTransport;
  timers?: Clock;
  /** Uniform [0, 1) source for backoff jitter. */
  random?: () => number;
  /**
   * How often the agent sends HEARTBEAT events (30 minutes upstream, not announced on the
   * wire). The liveness watchdog is armed once a first HEARTBEAT proves the agent sends them
   * (agents before 1.8 do not).
   */
  heartbeatIntervalMs?: number;
  /** Silence for this many heartbeat intervals means a dead connection (default 2). */
  livenessMultiplier?: number;
  /** Interval of HEARTBEAT calls to the agent (default 30 minutes, as upstream); 0 disables them. */
  heartbeatCallIntervalMs?: number;
  /**
   * Delay before sending SUBSCRIBE again after the agent answered one without a stream (503
   * while it recovers, 404 before its routes exist, any refusal): 1 s, as upstream's executors
   * retry their registration.
   */
  subscribeRetryIntervalMs?: number;
  /** Delay before retrying an UPDATE that got 503/404 or failed to send (default 1 s). */
  updateRetryIntervalMs?: number;
  /**
   * Milliseconds from the SUBSCRIBE's 200 to the SUBSCRIBED event (default 30 s). A real agent
   * writes SUBSCRIBED right behind the 200; a stream silent past this is counted as lost.
   */
  subscribedTimeoutMs?: number;
  /** Calls pipelined on the call connection at most (default 32): more pipelining, fewer writes. */
  pipelining?: number;
  /** Most updates held while unacknowledged (default 100 000). */
  maxUnacknowledgedUpdates?: number;
  /** Most bytes of status data held while unacknowledged (default 512 MiB). */
  maxUnacknowledgedBytes?: number;
  /** Largest event accepted from the stream (default 64 MiB). */
  maxEventBytes?: number;
  /** Milliseconds to wait for an answer to a call (default 30 s). */
  callTimeoutMs?: number;
}

export interface ResolvedDriverOptions {
  readonly contentType: ContentType;
  readonly heartbeatIntervalMs: number;
  readonly livenessMultiplier: number;
  readonly heartbeatCallIntervalMs: number;
  readonly subscribeRetryIntervalMs: number;
  readonly updateRetryIntervalMs: number;
  readonly subscribedTimeoutMs: number;
  readonly pipelining: number;
  readonly maxUnacknowledgedUpdates: number;
  readonly maxUnacknowledgedBytes: number;
  readonly maxEventBytes: number;
  readonly callTimeoutMs: number;
}

const MINUTE = 60_000;

type NumericOption = {
  [K in keyof MesosExecutorDriverOptions]-?: MesosExecutorDriverOptions[K] extends number | undefined ? K : never;
}[keyof MesosExecutorDriverOptions];

/** Validates the numeric and encoding options and returns them defaulted and frozen. */
export function resolveDriverOptions(options: MesosExecutorDriverOptions): ResolvedDriverOptions {
  const number = (name: NumericOption, fallback: number, allowZero = false): number =>
    is.optional(options[name], name, allowZero ? is.number(0) : is.positiveNumber) ?? fallback;
  return Object.freeze({
    contentType: is.optional(options.contentType, 'contentType', is.oneOf(['application/x-protobuf', 'application/json'])) ?? 'application/x-protobuf',
    heartbeatIntervalMs: number('heartbeatIntervalMs', 30 * MINUTE),
    livenessMultiplier: number('livenessMultiplier', 2),
    heartbeatCallIntervalMs: number('heartbeatCallIntervalMs', 30 * MINUTE, true),
    subscribeRetryIntervalMs: number('subscribeRetryIntervalMs', 1000),
    updateRetryIntervalMs: number('updateRetryIntervalMs', 1000),
    subscribedTimeoutMs: number('subscribedTimeoutMs', 30_000),
    pipelining: Math.floor(number('pipelining', 32)),
    maxUnacknowledgedUpdates: number('maxUnacknowledgedUpdates', 100_000),
    maxUnacknowledgedBytes: number('maxUnacknowledgedBytes', 512 * 1024 * 1024),
    maxEventBytes: number('maxEventBytes', 64 * 1024 * 1024),
    callTimeoutMs: number('callTimeoutMs', 30_000),
  });
}
