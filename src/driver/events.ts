import type { HttpStatusError } from '../errors.js';
import type { Status } from '../executor.js';
import type { AgentInfo, ContainerID, ExecutorInfo, FrameworkInfo, TaskState } from '../proto/types.js';

/** Why the driver considers the agent connection lost. */
export type DisconnectReason =
  | 'stream-ended'
  | 'stream-error'
  | 'framing-error'
  | 'decode-error'
  | 'heartbeat-timeout'
  | 'not-subscribed'
  /** The stream answered 200 and then sent no SUBSCRIBED in time. */
  | 'subscribed-timeout'
  /** A SUBSCRIBE failed before any answer (a connection that could not be made or broke). */
  | 'subscribe-failed';

/** The calls an agent may refuse. */
export type RefusableCall = 'SUBSCRIBE' | 'UPDATE' | 'MESSAGE' | 'HEARTBEAT';

/**
 * What the driver reports as it works (eventemitter3). Listeners run synchronously on the
 * driver's path, so they must be cheap: metrics and logs, nothing else.
 */
export interface DriverEvents {
  /** SUBSCRIBED arrived. `reconnected` is true after a disconnection. */
  subscribed: (info: {
    reconnected: boolean;
    executorInfo: ExecutorInfo;
    frameworkInfo: FrameworkInfo;
    agentInfo: AgentInfo;
    containerId: ContainerID | undefined;
    /** Unacknowledged updates and tasks the SUBSCRIBE carried. */
    carriedUpdates: number;
    carriedTasks: number;
  }) => void;
  /** A SUBSCRIBE was sent (first or retry). */
  subscribing: (info: { attempt: number; carriedUpdates: number; carriedTasks: number }) => void;
  /** A SUBSCRIBE attempt failed and will be retried (or the driver gives up). */
  subscribeFailed: (info: { status: number | undefined; message: string; willRetry: boolean }) => void;
  disconnected: (info: { reason: DisconnectReason; message: string }) => void;
  /** Any event decoded from the stream, by its type name. */
  eventReceived: (info: { type: string }) => void;
  /** An update was recorded in the outbox. */
  updateRecorded: (info: { taskId: string; state: TaskState | number; uuid: string }) => void;
  /** The agent accepted an UPDATE call (202). */
  updateSent: (info: { taskId: string; state: TaskState | number; uuid: string }) => void;
  /** An UPDATE got a retryable answer (503, 404) or failed to send; it will be retried. */
  updateRetry: (info: { taskId: string; uuid: string; status: number | undefined }) => void;
  /**
   * The agent answered a call with a status a retry will not change (anything but 200/202, 503
   * and 404; a 400 to HEARTBEAT from an agent before 1.8 excepted). Not fatal: see the fault table
   * of docs/driver.md for what follows each call.
   */
  callRefused: (info: { call: RefusableCall; status: number; message: string; error: HttpStatusError }) => void;
  /**
   * The agent refused an UPDATE for good: it was dropped from the outbox and, when `replaced`,
   * a minimal update of the same state was recorded in its place.
   */
  updateRefused: (info: { taskId: string; state: TaskState | number; uuid: string; status: number; replaced: boolean }) => void;
  /** ACKNOWLEDGED removed an update. `latencyMs` counts from when it was recorded. */
  updateAcknowledged: (info: { taskId: string; state: TaskState | number; uuid: string; latencyMs: number }) => void;
  /** An Executor callback finished (its promise settled, for async ones). */
  callbackCompleted: (info: { callback: string; durationMs: number }) => void;
  /** An Executor callback threw or rejected. The loop went on. */
  callbackFailed: (info: { callback: string; error: unknown }) => void;
  /** SHUTDOWN arrived, or the driver injected one (no checkpointing, recovery timeout). */
  shutdownRequested: (info: { injected: boolean; reason: string; gracePeriodMs: number }) => void;
  /** The shutdown grace period passed; the driver aborts. A process should exit now. */
  shutdownGraceExpired: () => void;
  /** A HEARTBEAT event arrived. */
  heartbeat: () => void;
  /** The driver reached a final status. */
  terminated: (info: { status: Status; reason: string }) => void;
}
