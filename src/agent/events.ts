// The LocalAgent's typed event map and the shapes it reports.
import type { ContentType } from '../protocol/codec.js';
import type { Call, CallType, Event, TaskStatus } from '../proto/types.js';
import type { StreamCloseReason } from './agent-event-stream.js';
import type { ExecutorExit } from './executor-process.js';
import type { UpdateOutcome } from './agent-task-table.js';

/**
 * The agent's lifecycle:
 * ```
 * stopped --start()--> running --restart()--> down --(downMs)--> containerizer-recovery
 *                         ^                                            |
 *                         |                                        (recoverMs)
 *                         +------(reregisterMs)------ recovering <-----+
 * ```
 * - `down`: no TCP listener (connections are refused);
 * - `containerizer-recovery`: 503 `Agent has not finished recovery` to every request;
 * - `recovering`: the re-registration window, with checkpointing only: SUBSCRIBE and HEARTBEAT
 *   are served, other calls get 503 (§7.4); without checkpointing nothing was recovered and
 *   containerizer recovery leads straight to `running`.
 * stop() leads to `stopped` from anywhere.
 */
export type AgentPhase = 'stopped' | 'running' | 'down' | 'containerizer-recovery' | 'recovering';

/** The executor as the agent sees it (upstream `Executor::State`). */
export type ExecutorState = 'REGISTERING' | 'RUNNING' | 'TERMINATING' | 'TERMINATED';

/** One request to the executor endpoint and the answer it got. */
export interface CallRecord {
  /** `Date.now()` when answered. */
  readonly at: number;
  readonly method: string;
  readonly path: string;
  /** The listener the request came in on (`unix` with `domainSocket`, `tls` with `tls`). */
  readonly transport: 'tcp' | 'tls' | 'unix';
  readonly contentType: string | undefined;
  /** The decoded call's type (undefined: not decoded). */
  readonly type: CallType | number | undefined;
  readonly call: Call | undefined;
  /** HTTP status sent back (200 for an accepted SUBSCRIBE). */
  readonly status: number;
  /** Response body ('' for 200/202). */
  readonly body: string;
  /** Answered by {@link LocalAgent.respondStatus}, not by the endpoint's logic. */
  readonly forced: boolean;
}

export interface SubscribedInfo {
  readonly call: Call;
  readonly contentType: ContentType;
  /** Not the executor run's first SUBSCRIBE. */
  readonly resubscribe: boolean;
  /** First SUBSCRIBE after a {@link LocalAgent.restart}. */
  readonly afterRestart: boolean;
}

/** Where a status update came from. */
export type UpdateSource = 'executor' | 'replay' | 'agent';

export interface StatusUpdateInfo {
  readonly taskId: string;
  /** As recorded when accepted (agent_id, executor_id, timestamp filled in), else as received. */
  readonly status: TaskStatus;
  readonly outcome: UpdateOutcome;
  readonly duplicate: boolean;
  readonly source: UpdateSource;
  /** An ACKNOWLEDGED is due for it (it may still be withheld or lost). */
  readonly ackDue: boolean;
}

export interface AcknowledgedInfo {
  readonly taskId: string;
  readonly uuid: Uint8Array;
  /** Written to a live stream (false: no stream, or a silent one). */
  readonly delivered: boolean;
}

export interface TaskTerminalInfo {
  readonly taskId: string;
  readonly status: TaskStatus;
}

export interface EventSentInfo {
  readonly event: Event;
  /** Written to a live stream (false: lost, as upstream loses events to a disconnected executor). */
  readonly delivered: boolean;
}

export interface LocalAgentEvents {
  /** Every request to the executor endpoint, after it was answered. */
  call: [CallRecord];
  subscribed: [SubscribedInfo];
  statusUpdate: [StatusUpdateInfo];
  acknowledged: [AcknowledgedInfo];
  /** MESSAGE call data. */
  frameworkMessage: [Uint8Array];
  executorExited: [ExecutorExit];
  taskTerminal: [TaskTerminalInfo];
  /** Every event the agent tried to send. */
  event: [EventSentInfo];
  streamClosed: [StreamCloseReason];
  phase: [AgentPhase];
}

/** Running totals, for "nothing lost, nothing duplicated" checks. */
export interface AgentCounters {
  /** HTTP requests on any path. */
  readonly requests: number;
  readonly subscribes: number;
  /** UPDATE calls answered 202. */
  readonly updatesReceived: number;
  /** `unacknowledged_updates` entries replayed from SUBSCRIBE. */
  readonly updatesReplayed: number;
  /** Update outcomes (executor, replayed and agent-made updates together). */
  readonly accepted: number;
  readonly duplicates: number;
  readonly dropped: number;
  readonly ignored: number;
  readonly unknownTask: number;
  readonly rejected: number;
  /** Updates the agent made itself (LOST/DROPPED after restart, FAILED on executor exit, KILLED while queued). */
  readonly agentGenerated: number;
  readonly acksSent: number;
  /** ACKs held back by withholdAcks(true). */
  readonly acksWithheld: number;
  /** Withheld ACKs thrown away (withholdAcks(false) without deliver, or a restart). */
  readonly acksDropped: number;
  /** ACKs due while no stream was writable. */
  readonly acksLost: number;
  readonly messagesReceived: number;
  readonly heartbeatsSent: number;
  readonly launchesSent: number;
  readonly eventsSent: number;
  readonly eventsLost: number;
}
