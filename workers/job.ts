import type { ChildProcess, SpawnOptions } from 'node:child_process';

/**
 * The public job contract.
 *
 * A job module is an ES module that exports jobs as named functions, or as a default-exported
 * object of functions (or both; a name may appear once across all modules):
 *
 * ```ts
 * import type { Job } from 'mesos-pool-executor';
 * export const resize: Job<{ width: number }, { ok: true }> = async (input, ctx) => {
 *   ctx.progress('loading');
 *   // ... CPU work, checking ctx.aborted now and then ...
 *   return { ok: true };
 * };
 * ```
 *
 * - A task names its job by the exported name: `TaskInfo.data` is `{"job": "resize", "input": ...}`.
 *   Only modules given in the executor's configuration are loaded, once per worker thread; a
 *   task can never name a module or path.
 * - `input` is the payload's `input`, as parsed JSON (`undefined` when absent). Validate it: a
 *   task comes from outside.
 * - The returned value (or the promise's value) becomes the `TASK_FINISHED` update's `data`, as
 *   JSON (`undefined` becomes `null`). A value with no JSON form or a JSON over the executor's
 *   result limit makes the task `TASK_FAILED` with a message saying so.
 * - A throw or rejection makes the task `TASK_FAILED` with the error's message.
 * - A job runs on a worker thread shared with other tasks (one at a time): leave no timers or
 *   listeners behind, and never call `process.exit()` (it takes the thread down; the task fails).
 * - Start child processes with {@link JobContext.spawn}, never `execSync`/`spawnSync` (or other
 *   blocking calls): a thread blocked in one cannot be terminated, and its child is not the
 *   task's to kill.
 */
export type Job<Input = unknown, Result = unknown> = (input: Input, ctx: JobContext) => Result | Promise<Result>;

/** What a job gets besides its input. */
export interface JobContext {
  /** The Mesos task id. */
  readonly taskId: string;
  /**
   * In a batch task (`{"job", "batch": [...]}`), the index of this call's input in the batch;
   * undefined in a single task. Each item is a call of its own, with a context of its own.
   */
  readonly batchIndex?: number;
  /**
   * Aborts when the task is killed (or the executor shuts down). Stop promptly: a job still
   * running when the kill grace period ends has its worker thread terminated. Pass it to
   * anything that takes a signal (`timers/promises`, `fetch`, streams). The abort event needs
   * the thread's event loop: a synchronous CPU loop will not see it; poll {@link aborted}.
   */
  readonly signal: AbortSignal;
  /**
   * True once the task has been asked to stop. Unlike `signal.aborted`, it also notices a
   * kill while the job is busy in synchronous code, so check it now and then in CPU loops
   * (it costs about a microsecond: check every few thousand iterations, not every one).
   */
  readonly aborted: boolean;
  /** Throws the abort reason (an `AbortError`) when {@link aborted} is true. */
  throwIfAborted(): void;
  /**
   * Reports progress: becomes a `TASK_RUNNING` update with this message (and `data` as JSON).
   * Updates are rate-limited per task and coalesced (the latest wins), so call it as often as
   * convenient. Throws a `TypeError` when `data` has no JSON form. In a batch item it is
   * ignored: a batch's progress is the count of its items done.
   */
  progress(message: string, data?: unknown): void;
  /**
   * Sends opaque bytes (a string is sent as UTF-8) to the scheduler. Best effort: data over the
   * executor's message limit (1 MiB by default) is dropped with a warning.
   */
  sendFrameworkMessage(data: Uint8Array | string): void;
  /**
   * `child_process.spawn`, owned by the task: the process leads a process group of its own
   * (`detached`), which gets SIGTERM when the task is killed (its signal aborts) and SIGKILL when
   * the task ends, whatever the end (before its terminal update, even if the thread was
   * terminated). Wait for what you need before returning: nothing it started outlives the task.
   */
  spawn(command: string, args?: readonly string[], options?: SpawnOptions): ChildProcess;
}

/** What a job module may export. */
export interface JobModule {
  readonly default?: Readonly<Record<string, Job>>;
  readonly [name: string]: unknown;
}
