/**
 * A batch task on the worker pool: several runs at once (one per chunk of its items, see
 * batch-run.ts), as one object that the scheduler drives like a single {@link TaskRun}. It is
 * created at the task's dispatch and disposed when its last run has settled. A kill reaches
 * every chunk in flight at once (their ctx.signal aborts; at the grace's end their threads are
 * terminated), and no chunk is handed out after it, so queued items never start.
 *
 * The batch's progress is its own (items done, rate-limited like a job's); the items' own
 * `ctx.progress` is not forwarded.
 */
import type { Clock } from '../clock.js';
import type { ChunkResponse } from '../../workers/protocol.js';
import { BatchRun, type Chunk, type ChunkSizer } from './batch-run.js';
import { ProgressLimiter } from './progress.js';
import type { TaskRun } from './task-run.js';
import type { Outcome } from './task-state.js';

/** What the chunks' items did, to count them (the `batchItems` event). */
export interface ItemCounts {
  readonly succeeded: number;
  readonly failed: number;
}

export class BatchTask {
  readonly batch: BatchRun;
  readonly #clock: Clock;
  readonly #runs = new Set<TaskRun>();
  readonly #progress: ProgressLimiter<string>;
  #escalationTimer: unknown;
  /** Escalation terminated the chunks' threads: the batch ends as a terminated run does. */
  #terminated = false;
  #disposed = false;
  /** Items counted so far (the `batchItems` event): the rest of a killed batch never ran to its end. */
  #counted = 0;

  constructor(
    items: readonly unknown[],
    concurrency: number,
    maxKeptBytes: number,
    sizer: ChunkSizer,
    clock: Clock,
    progressIntervalMs: number,
    sendProgress: (message: string) => void,
  ) {
    this.batch = new BatchRun(items, concurrency, maxKeptBytes, sizer);
    this.#clock = clock;
    this.#progress = new ProgressLimiter<string>(progressIntervalMs, clock, sendProgress);
  }

  /** Another chunk can be handed out now. */
  get ready(): boolean {
    return !this.#disposed && this.batch.ready;
  }

  /** Its chunks' runs in flight. */
  get runs(): number {
    return this.#runs.size;
  }

  /** Takes the next chunk and starts its run with `start` (which creates the TaskRun). */
  dispatch(start: (chunk: Chunk) => TaskRun): TaskRun | undefined {
    const chunk = this.ready ? this.batch.take() : undefined;
    if (chunk === undefined) return undefined;
    const run = start(chunk);
    this.#runs.add(run);
    return run;
  }

  /**
   * A chunk's run is over: answered, or lost (`outcome` says how). Returns what its items did,
   * none once the batch is stopped (a kill: those items count as not run, see {@link notCounted}).
   * The caller has disposed the run (everything it posted came before its answer).
   */
  settle(run: TaskRun, end: { readonly kind: 'answered'; readonly response: ChunkResponse } | { readonly kind: 'lost'; readonly outcome: Outcome }): ItemCounts {
    this.#runs.delete(run);
    const chunk = run.chunk;
    if (chunk === undefined) return { succeeded: 0, failed: 0 };
    const results = this.batch.results;
    const [settled, failed] = [results.settled, results.failed];
    if (end.kind === 'answered') this.batch.complete(chunk, end.response);
    else this.batch.lose(chunk, lostMessage(end.outcome));
    if (this.batch.stopped) return { succeeded: 0, failed: 0 };
    const counts = { succeeded: results.settled - settled - (results.failed - failed), failed: results.failed - failed };
    this.#counted += counts.succeeded + counts.failed;
    this.#progress.offer(results.progressMessage());
    return counts;
  }

  /** Items not counted as succeeded or failed: at a killed batch's end, the ones that had not ended when the kill came. */
  get notCounted(): number {
    return this.batch.results.count - this.#counted;
  }

  /** Every chunk is back and no more will be handed out: the task can end. */
  get over(): boolean {
    return this.batch.over;
  }

  /** How the task's runs ended when it was stopped (a kill): as a single run's would have. */
  stoppedOutcome(): Outcome {
    return this.#terminated ? { kind: 'terminated' } : { kind: 'stopped', message: `${this.batch.results.settled} of ${this.batch.results.count} items had ended` };
  }

  // ---- what the scheduler does to a task's run (TaskRun's own methods) ----

  /** Counts the first TASK_RUNNING against the progress interval. */
  progressSent(): void {
    this.#progress.markSent();
  }

  /** Stops the batch: no chunk is handed out from now on, and every chunk in flight is asked to stop. */
  stop(reason: string): void {
    this.batch.stop();
    this.#progress.close();
    for (const run of this.#runs) run.stop(reason);
  }

  armEscalation(at: number, fire: () => void): void {
    if (this.#disposed) return;
    this.#clearEscalation();
    this.#escalationTimer = this.#clock.setTimeout(() => {
      this.#escalationTimer = undefined;
      fire();
    }, Math.max(0, at - this.#clock.now()));
  }

  /** The grace is over: every chunk's thread is terminated (a queued one is dropped by piscina). */
  terminate(): void {
    this.#terminated = true;
    this.#clearEscalation();
    this.batch.stop();
    for (const run of this.#runs) run.terminate();
  }

  /** Ends everything it holds (its chunks' runs too). Idempotent. */
  dispose(): void {
    for (const run of this.#runs) run.dispose();
    this.#runs.clear();
    if (this.#disposed) return;
    this.#disposed = true;
    this.batch.stop();
    this.#clearEscalation();
    this.#progress.close();
  }

  #clearEscalation(): void {
    if (this.#escalationTimer !== undefined) this.#clock.clearTimeout(this.#escalationTimer);
    this.#escalationTimer = undefined;
  }
}

/** The error of each item of a chunk whose run was lost. */
function lostMessage(outcome: Outcome): string {
  switch (outcome.kind) {
    case 'failed':
    case 'stopped':
      return outcome.message;
    case 'terminated':
      return 'its worker thread was terminated';
    case 'succeeded':
      return 'its run was lost';
  }
}
