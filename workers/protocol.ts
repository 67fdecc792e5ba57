/**
 * The main thread <-> worker thread contract, in one place (both sides import these types).
 *
 * Two channels carry it:
 * 1. piscina's own request/response: the main thread `run()`s a {@link WorkerRequest}. The
 *    describe handshake is answered there; a run or chunk is answered with {@link Posted} once
 *    its result has gone out on channel 2, so a piscina rejection only ever means the worker
 *    thread itself died (crash, `process.exit`, out of memory) or we terminated it (escalation).
 * 2. ONE persistent `MessageChannel` per worker thread, announced by the worker on piscina's
 *    port ({@link ChannelAnnouncement}) when it loads: everything a run says, addressed by its
 *    run id and in order (started, progress, framework messages, spawned/childExited, then its
 *    {@link ResultMessage}); the main thread's "abort" goes the other way on it.
 *
 * On channel 2 the result comes after every message the run posted before it: no reconciling
 * of two unordered channels. Only a thread's loss (a piscina rejection) races the channel, and
 * the main thread takes the channel's pending messages first.
 */
import type { MessagePort } from 'node:worker_threads';

/** piscina `workerData`: fixed when a pool is created, so only configuration names modules. */
export interface WorkerStartup {
  /** Load the built-in jobs (workers/jobs). */
  readonly builtinJobs: boolean;
  /** `file:` URLs of the job modules, resolved by the main thread from the executor's options. */
  readonly jobModules: readonly string[];
}

/** The ready handshake: which jobs this worker loaded (or why it could not). */
export interface DescribeRequest {
  readonly kind: 'describe';
}

export interface RunRequest {
  readonly kind: 'run';
  /** Addresses the run's messages on the thread's channel (increasing: see workers/channel.ts). */
  readonly runId: number;
  readonly taskId: string;
  /** A registered job name (validated by the main thread, looked up in a Map by the worker). */
  readonly job: string;
  readonly input: unknown;
  /** Results whose JSON is longer than this many bytes are refused. */
  readonly maxResultBytes: number;
  /** `ctx.sendFrameworkMessage` data longer than this many bytes is dropped (never cloned over). */
  readonly maxFrameworkMessageBytes: number;
}

/**
 * A chunk of a batch task's items, run one after another on one thread (each a call of the job
 * with a context of its own). Its channel is as a single run's: "started" once, the abort.
 */
export interface ChunkRequest {
  readonly kind: 'chunk';
  /** As a run's: its messages and result on the thread's channel carry it. */
  readonly runId: number;
  readonly taskId: string;
  readonly job: string;
  /** Index in the batch of `items[0]` (what `ctx.batchIndex` counts from). */
  readonly first: number;
  readonly items: readonly unknown[];
  /** Each item's result is bounded as a single task's is. */
  readonly maxResultBytes: number;
  readonly maxFrameworkMessageBytes: number;
}

export type WorkerRequest = DescribeRequest | RunRequest | ChunkRequest;

export type DescribeResponse =
  | { readonly kind: 'described'; readonly ok: true; readonly jobs: readonly string[]; readonly threadId: number }
  | { readonly kind: 'described'; readonly ok: false; readonly message: string };

/** Why a job did not produce a result, as the worker saw it. */
export type RunFailureKind =
  /** The job threw or rejected on its own. */
  | 'threw'
  /** The job threw or rejected after its signal was aborted (a cooperative stop). */
  | 'stopped'
  /** The job returned a value that has no JSON form (a function, a BigInt, a cycle, ...). */
  | 'result-not-json'
  /** The result's JSON is over `maxResultBytes`. */
  | 'result-too-large'
  /** The worker has no such job (the main thread should have caught it). */
  | 'unknown-job'
  /** The worker could not load its job modules. */
  | 'jobs-unavailable';

export type RunResponse =
  | { readonly kind: 'result'; readonly ok: true; readonly json: Uint8Array }
  | {
      readonly kind: 'result';
      readonly ok: false;
      readonly failure: RunFailureKind;
      readonly message: string;
      /** The thrown error's `name`, when it was an Error. */
      readonly errorName?: string;
    };

/** One item of a chunk: its result, or why it has none (an item's error is that item's only). */
export type ItemResponse =
  | { readonly ok: true; readonly json: Uint8Array }
  | { readonly ok: false; readonly failure: RunFailureKind; readonly message: string; readonly errorName?: string };

export type ChunkResponse =
  /**
   * `items[i]` is the outcome of the chunk's item i, in order; fewer than the chunk's items when
   * it stopped at an abort (the rest never started). `elapsedMs`: the thread's time for them,
   * which sizes the next chunks.
   */
  | { readonly kind: 'chunk'; readonly ok: true; readonly items: readonly ItemResponse[]; readonly elapsedMs: number }
  /** No item ran: aborted before it started, or the job cannot run on this worker. */
  | { readonly kind: 'chunk'; readonly ok: false; readonly failure: 'stopped' | 'unknown-job' | 'jobs-unavailable'; readonly message: string };

/** piscina's answer to a run or chunk: its result went out on the thread's channel. */
export interface Posted {
  readonly kind: 'posted';
}

export type WorkerResponse = DescribeResponse | Posted;

// ---- the thread's channel ----

/** Posted by a worker on piscina's port when it loads: the main thread's end of its channel. */
export const CHANNEL_ANNOUNCEMENT = 'mpe:channel';

export interface ChannelAnnouncement {
  readonly kind: typeof CHANNEL_ANNOUNCEMENT;
  readonly threadId: number;
  /** Transferred. */
  readonly port: MessagePort;
}

export function isChannelAnnouncement(value: unknown): value is ChannelAnnouncement {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === CHANNEL_ANNOUNCEMENT;
}

/** Every message a run posts names its run. */
interface OfRun {
  readonly runId: number;
}

/** A run's last message: its response (a single run's, or a chunk's). */
export interface ResultMessage extends OfRun {
  readonly type: 'result';
  readonly response: RunResponse | ChunkResponse;
}

export interface StartedMessage extends OfRun {
  readonly type: 'started';
  /** The worker's `threadId`: lets the main thread find the Worker to wait for its exit. */
  readonly threadId: number;
}

export interface ProgressMessage extends OfRun {
  readonly type: 'progress';
  readonly message: string;
  /** JSON of the job's `data` argument, already serialised in the worker. */
  readonly data?: Uint8Array;
}

export interface FrameworkMessageOut extends OfRun {
  readonly type: 'frameworkMessage';
  readonly data: Uint8Array;
}

/** A framework message the worker dropped for its size: only its size crosses, for the log. */
export interface FrameworkMessageDropped extends OfRun {
  readonly type: 'frameworkMessageDropped';
  readonly bytes: number;
}

/**
 * A process the job started with `ctx.spawn`: the leader of a process group of its own, which
 * the main thread kills before the task's terminal update (the worker thread may be gone by then).
 */
export interface SpawnedMessage extends OfRun {
  readonly type: 'spawned';
  readonly pid: number;
}

/** A `ctx.spawn` process exited: its group is no longer the task's to kill. */
export interface ChildExitedMessage extends OfRun {
  readonly type: 'childExited';
  readonly pid: number;
}

export type WorkerToMain = ResultMessage | StartedMessage | ProgressMessage | FrameworkMessageOut | FrameworkMessageDropped | SpawnedMessage | ChildExitedMessage;

export interface AbortMessage {
  readonly type: 'abort';
  /** The run to stop; an abort for a run the thread has ended is ignored. */
  readonly runId: number;
  readonly reason: string;
}

export type MainToWorker = AbortMessage;
