/**
 * The main thread <-> worker thread contract, in one place (both sides import these types).
 *
 * Two channels carry it:
 * 1. piscina's own request/response: the main thread `run()`s a {@link WorkerRequest}; the
 *    worker answers with a {@link WorkerResponse}. A job's success AND its failure travel in
 *    the same response shape (`ok`), so a piscina rejection only ever means the worker thread
 *    itself died (crash, `process.exit`, out of memory) or we terminated it (kill escalation).
 * 2. one `MessageChannel` per task, its second port transferred with the request: the worker
 *    says "started" (so TASK_RUNNING means a thread really began the job), forwards progress and
 *    framework messages, and the main thread sends the cooperative "abort" through it.
 *
 * Messages on two different ports are not ordered with respect to each other: the main
 * thread must cope with a response arriving before the "started" message of the same task.
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
  readonly taskId: string;
  /** A registered job name (validated by the main thread, looked up in a Map by the worker). */
  readonly job: string;
  readonly input: unknown;
  /** The worker's end of this task's channel (transferred). */
  readonly port: MessagePort;
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
  readonly taskId: string;
  readonly job: string;
  /** Index in the batch of `items[0]` (what `ctx.batchIndex` counts from). */
  readonly first: number;
  readonly items: readonly unknown[];
  readonly port: MessagePort;
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

export type WorkerResponse = DescribeResponse | RunResponse | ChunkResponse;

// ---- per-task port ----

export interface StartedMessage {
  readonly type: 'started';
  /** The worker's `threadId`: lets the main thread find the Worker to wait for its exit. */
  readonly threadId: number;
}

export interface ProgressMessage {
  readonly type: 'progress';
  readonly message: string;
  /** JSON of the job's `data` argument, already serialised in the worker. */
  readonly data?: Uint8Array;
}

export interface FrameworkMessageOut {
  readonly type: 'frameworkMessage';
  readonly data: Uint8Array;
}

/** A framework message the worker dropped for its size: only its size crosses, for the log. */
export interface FrameworkMessageDropped {
  readonly type: 'frameworkMessageDropped';
  readonly bytes: number;
}

/**
 * A process the job started with `ctx.spawn`: the leader of a process group of its own, which
 * the main thread kills before the task's terminal update (the worker thread may be gone by then).
 */
export interface SpawnedMessage {
  readonly type: 'spawned';
  readonly pid: number;
}

/** A `ctx.spawn` process exited: its group is no longer the task's to kill. */
export interface ChildExitedMessage {
  readonly type: 'childExited';
  readonly pid: number;
}

export type WorkerToMain = StartedMessage | ProgressMessage | FrameworkMessageOut | FrameworkMessageDropped | SpawnedMessage | ChildExitedMessage;

export interface AbortMessage {
  readonly type: 'abort';
  readonly reason: string;
}

export type MainToWorker = AbortMessage;
