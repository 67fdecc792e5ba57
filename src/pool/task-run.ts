/**
 * One run of a task on the worker pool, as one object: created when the task is dispatched,
 * disposed when the run settles. It owns everything that exists only while a job is in a
 * worker: its run id on the threads' channels, the piscina abort signal, the thread running it
 * (once known), the process groups the job spawned, its progress limiter and its
 * kill-escalation timer. The task (TaskRecord) keeps only what outlives a run; its lifecycle
 * decides, the run carries out.
 *
 * A run settles once BOTH its result has come on its thread's channel (after everything else
 * it posted: one ordered channel) and piscina has the thread back, so that the slot it frees is
 * really free; or when its thread is lost.
 *
 * A run tells its host what happened (started, progress, a framework message, its settlement)
 * and never sends a status update itself, so that a task owning several runs is the same code.
 */
import type { Worker } from 'node:worker_threads';
import type { Clock } from '../clock.js';
import type { Logger } from '../log.js';
import type { ChunkRequest, ChunkResponse, RunRequest, RunResponse, WorkerToMain } from '../../workers/protocol.js';
import type { Chunk } from './batch-run.js';
import { killGroup } from '../../workers/process-group.js';
import type { PoolExecutorEvents } from './events.js';
import { classifyRunError } from './faults.js';
import { ProgressLimiter } from './progress.js';
import type { StatusReporter } from './status.js';
import type { ProgressUpdate, TaskRecord } from './task-table.js';
import type { Outcome } from './task-state.js';
import type { RunListener, WorkerPool } from './worker-pool.js';

/** What a run uses of the worker pool (a test gives a fake). */
export type RunPool = Pick<WorkerPool, 'open' | 'close' | 'run' | 'abort' | 'drainChannels' | 'thread' | 'heapLimitFor'>;

/** What a run needs of the executor: fixed settings, and where it reports. */
export interface RunHost {
  readonly clock: Clock;
  readonly logger: Logger;
  readonly pool: RunPool;
  readonly progressIntervalMs: number;
  readonly maxResultBytes: number;
  readonly maxFrameworkMessageBytes: number;
  /** How long a thread terminated by escalation gets to exit before the run settles anyway. */
  readonly terminateWaitMs: number;
  /** The pool was destroyed under the run: its messages no longer matter. */
  readonly destroyed: boolean;
  /** Framework messages of jobs go to the driver through it. */
  readonly reporter: Pick<StatusReporter, 'sendFrameworkMessage'>;
  /** The executor's events a run reports itself. */
  emit<E extends 'workerReplaced' | 'frameworkMessageDropped'>(event: E, info: Parameters<PoolExecutorEvents[E]>[0]): void;
  /** The worker began the job. */
  started(run: TaskRun): void;
  /** A progress update, already rate-limited. */
  progress(run: TaskRun, update: ProgressUpdate): void;
  /** A thread terminated by escalation that has not exited in `terminateWaitMs`: it still holds a CPU. */
  lingering(thread: Worker): void;
  /**
   * The run is over (once); the host disposes it, then ends the task. For a chunk's run, only
   * when it was lost (the outcome says how); an answered chunk goes to {@link chunkAnswered}.
   */
  settled(run: TaskRun, outcome: Outcome): void;
  /** A chunk's worker answered (the run is over, as for {@link settled}). */
  chunkAnswered(run: TaskRun, response: ChunkResponse): void;
}

function waitForExit(worker: Worker, ms: number, clock: Clock): Promise<boolean> {
  if (worker.threadId === -1) return Promise.resolve(true);
  return new Promise((resolve) => {
    const onExit = (): void => {
      clock.clearTimeout(timer);
      resolve(true);
    };
    const timer = clock.setTimeout(() => {
      worker.off('exit', onExit);
      resolve(false);
    }, ms);
    worker.once('exit', onExit);
  });
}

export function responseOutcome(response: RunResponse): Outcome {
  if (response.ok) return { kind: 'succeeded', data: response.json };
  // The worker always sends a string; a worker file of another version might not.
  const message = typeof response.message === 'string' ? response.message : 'the job failed (its worker gave no message)';
  if (response.failure === 'stopped') return { kind: 'stopped', message };
  return { kind: 'failed', message };
}

/** What the worker answered on the channel: a single run's outcome, or a chunk's response. */
type Answer = { readonly kind: 'outcome'; readonly outcome: Outcome } | { readonly kind: 'chunk'; readonly response: ChunkResponse };

/**
 * The run's piscina abort signal, in the EventEmitter form piscina also takes (`once`, and
 * `removeListener` or `off`, of 'abort'): an AbortController (an EventTarget) per run costs more, and
 * only a kill escalation ever fires it.
 */
export class RunSignal {
  aborted = false;
  reason: unknown;
  #listener: (() => void) | undefined;

  once(_event: 'abort', listener: () => void): this {
    this.#listener = listener;
    return this;
  }

  /** What piscina calls when the run is over (its types say `off`). */
  removeListener(_event: 'abort', listener: () => void): this {
    if (this.#listener === listener) this.#listener = undefined;
    return this;
  }

  off(event: 'abort', listener: () => void): this {
    return this.removeListener(event, listener);
  }

  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    const listener = this.#listener;
    this.#listener = undefined;
    listener?.();
  }
}

export class TaskRun implements RunListener {
  readonly task: TaskRecord;
  /** The batch items this run carries; undefined for a single task's run. */
  readonly chunk: Chunk | undefined;
  readonly runId: number;
  readonly #host: RunHost;
  /** Aborting it makes piscina drop the queued run or terminate the thread running it. */
  readonly #abort = new RunSignal();
  /** Made at the first progress (most jobs send none). */
  #progress: ProgressLimiter<ProgressUpdate> | undefined;
  /** When the task's first TASK_RUNNING went out, counted against the progress interval. */
  #runningSentAt: number | undefined;
  /** The thread running it, once the worker said "started". */
  #threadId: number | undefined;
  #thread: Worker | undefined;
  /** Its result, once it came on the channel. */
  #answer: Answer | undefined;
  /** piscina has the thread back. */
  #released = false;
  /** Asked to stop: told again to its thread once known. */
  #stopReason: string | undefined;
  #settled = false;
  #escalationTimer: unknown;
  /** Leaders of the process groups its job started with ctx.spawn and that have not exited. */
  #processGroups: Set<number> | undefined;
  /** Escalation aborted the run: its rejection is ours. */
  #terminating = false;
  #disposed = false;

  /** Creates the run and hands it to the pool at once: the task's input, or `chunk` of its batch. */
  constructor(task: TaskRecord, host: RunHost, chunk?: Chunk) {
    this.task = task;
    this.chunk = chunk;
    this.#host = host;
    this.runId = host.pool.open(this);
    const { maxResultBytes, maxFrameworkMessageBytes } = host;
    const request: RunRequest | ChunkRequest =
      chunk === undefined
        ? { kind: 'run', runId: this.runId, taskId: task.id, job: task.job, input: task.input, maxResultBytes, maxFrameworkMessageBytes }
        : { kind: 'chunk', runId: this.runId, taskId: task.id, job: task.job, first: chunk.first, items: chunk.items, maxResultBytes, maxFrameworkMessageBytes };
    let pending: Promise<void>;
    try {
      pending = host.pool.run(request, task.memoryMb, this.#abort);
    } catch (error) {
      pending = Promise.reject(error);
    }
    pending
      .then(
        () => this.#onReleased(),
        (error: unknown) => this.#onRejected(error),
      )
      .catch((error: unknown) => host.logger.error({ taskId: task.id, err: error }, 'internal error while ending a task'));
  }

  /** Counts the first TASK_RUNNING (sent by the task) against the progress interval. */
  progressSent(): void {
    this.#runningSentAt = this.#host.clock.now();
    this.#progress?.markSent();
  }

  /** Asks the job to stop: its ctx.signal aborts, and its process groups get SIGTERM. */
  stop(reason: string): void {
    if (this.#disposed) return;
    this.#stopReason = reason;
    this.#host.pool.abort(this.runId, reason, this.#threadId);
    // Whether or not the job's thread gets to the abort (a busy loop may not).
    this.#signalGroups('SIGTERM');
  }

  /** (Re)arms the escalation timer to call `fire` at clock time `at`. */
  armEscalation(at: number, fire: () => void): void {
    if (this.#disposed) return;
    this.#clearEscalation();
    this.#escalationTimer = this.#host.clock.setTimeout(() => {
      this.#escalationTimer = undefined;
      fire();
    }, Math.max(0, at - this.#host.clock.now()));
  }

  /** The grace is over: piscina removes the run if still queued, or terminates its thread. */
  terminate(): void {
    this.#terminating = true;
    this.#clearEscalation();
    this.#abort.abort(new Error('kill grace period over'));
  }

  /** Ends everything the run holds; nothing the job started outlives it. Idempotent. */
  dispose(): void {
    // Before the terminal update (the thread may be gone, so its own cleanup cannot be relied on).
    this.#signalGroups('SIGKILL');
    this.#processGroups?.clear();
    if (this.#disposed) return;
    this.#disposed = true;
    this.#clearEscalation();
    this.#progress?.close();
    this.#host.pool.close(this.runId);
  }

  /** A message of this run from its thread's channel, in order. */
  message(message: WorkerToMain, threadId: number): void {
    const task = this.task;
    if (this.#disposed || task.lifecycle.phase === 'ended') return;
    switch (message.type) {
      case 'result': {
        const response = message.response;
        this.#answer = response.kind === 'chunk' ? { kind: 'chunk', response } : { kind: 'outcome', outcome: responseOutcome(response) };
        if (this.#released) this.#settle(this.#answer);
        break;
      }
      case 'started':
        this.#threadId = threadId;
        this.#thread = this.#host.pool.thread(threadId);
        // An abort sent before the thread was known may have missed it (a thread whose channel
        // was not announced yet): this one reaches it (a second is ignored).
        if (this.#stopReason !== undefined) this.#host.pool.abort(this.runId, this.#stopReason, threadId);
        this.#host.started(this);
        break;
      case 'progress':
        if (task.lifecycle.acceptsProgress) {
          this.#progressLimiter().offer(message.data === undefined ? { message: message.message } : { message: message.message, data: message.data });
        }
        break;
      case 'frameworkMessage':
        this.#host.reporter.sendFrameworkMessage(task.id, message.data);
        break;
      case 'spawned':
        (this.#processGroups ??= new Set()).add(message.pid);
        if (task.lifecycle.killing) killGroup(message.pid, 'SIGTERM');
        break;
      case 'childExited':
        this.#processGroups?.delete(message.pid);
        break;
      case 'frameworkMessageDropped':
        // Logged once per task: a job looping on oversized messages must not flood the log.
        if (!task.messageDropped) {
          task.messageDropped = true;
          const limit = this.#host.maxFrameworkMessageBytes;
          this.#host.logger.warn({ taskId: task.id, job: task.job, bytes: message.bytes, limit }, 'framework message from a job dropped: over the size limit');
        }
        this.#host.emit('frameworkMessageDropped', { taskId: task.id, job: task.job, bytes: message.bytes });
        break;
    }
  }

  #onReleased(): void {
    this.#released = true;
    // The result was posted before piscina was answered, but on another port: it may still be
    // on its way (then it settles the run when it comes).
    if (this.#answer !== undefined) this.#settle(this.#answer);
  }

  #progressLimiter(): ProgressLimiter<ProgressUpdate> {
    if (this.#progress === undefined) {
      const host = this.#host;
      this.#progress = new ProgressLimiter<ProgressUpdate>(host.progressIntervalMs, host.clock, (update) => host.progress(this, update));
      if (this.#runningSentAt !== undefined) this.#progress.markSent(this.#runningSentAt);
    }
    return this.#progress;
  }

  async #onRejected(error: unknown): Promise<void> {
    const host = this.#host;
    if (host.destroyed) {
      this.#settle({ kind: 'outcome', outcome: { kind: 'terminated' } });
      return;
    }
    // The loss races the channel: what the run posted before it (started, progress, even its
    // result) is handled first.
    host.pool.drainChannels();
    if (this.#answer !== undefined) {
      // It had finished: the thread died after posting its result (a job's leftover timer).
      this.#settle(this.#answer);
      return;
    }
    const fault = classifyRunError(error, host.pool.heapLimitFor(this.task.memoryMb), this.#terminating);
    if (fault.loss !== 'kill') {
      host.logger.warn({ taskId: this.task.id, job: this.task.job, loss: fault.loss, err: error }, 'worker thread lost');
      host.emit('workerReplaced', { reason: fault.loss, taskId: this.task.id });
    } else if (this.#thread !== undefined) {
      // piscina has called terminate(); the run settles once the thread is really gone.
      const thread = this.#thread;
      const exited = await waitForExit(thread, host.terminateWaitMs, host.clock);
      if (!exited && thread.threadId !== -1) {
        host.logger.warn({ taskId: this.task.id }, 'terminated worker thread has not exited yet; it holds its slot until it does');
        host.lingering(thread);
      }
      host.emit('workerReplaced', { reason: 'kill', taskId: this.task.id });
    }
    this.#settle({ kind: 'outcome', outcome: fault.outcome });
  }

  #settle(answer: Answer): void {
    if (this.#settled) return;
    this.#settled = true;
    if (answer.kind === 'chunk') this.#host.chunkAnswered(this, answer.response);
    else this.#host.settled(this, answer.outcome);
  }

  #signalGroups(signal: NodeJS.Signals): void {
    const groups = this.#processGroups;
    if (groups === undefined) return;
    for (const pid of groups) killGroup(pid, signal);
  }

  #clearEscalation(): void {
    if (this.#escalationTimer !== undefined) this.#host.clock.clearTimeout(this.#escalationTimer);
    this.#escalationTimer = undefined;
  }
}
