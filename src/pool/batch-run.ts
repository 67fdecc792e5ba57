// The main thread's side of a batch task: which items go to a worker next, in chunks, and what
// came back. Pure (no pool, no timers): the executor asks for a chunk whenever it has a thread
// for the task, and reports each chunk's answer or loss.
//
// Why chunks: every run costs the main thread the same (a request, a channel, a response, its
// bookkeeping: 0.1-0.6 ms measured on a 2-core machine, most of it posting the request with its
// transferred port) whatever the job does, so items of 1 ms would each pay what a 1 ms task
// pays. A chunk of k items pays it once. Why adaptive: a big chunk of slow items would leave the
// task's other threads idle at its end, so chunks grow toward CHUNK_TARGET_MS of the thread's
// time from one item (for a job's first batch; the scheduler keeps one sizer per job, so later
// batches start where its last chunks were), and never take more than an even share of what is
// left.
import type { ChunkResponse, ItemResponse } from '../../workers/protocol.js';
import { BatchResults, type ItemOutcome } from './batch-results.js';

/**
 * Thread time a chunk aims at: the main thread's cost per chunk and the worker's wait for its
 * next chunk stay about 1 % beside it. Larger costs little: the even-share cap keeps a batch's
 * last chunks level across its threads, and a kill reaches a chunk between (and within) items.
 */
export const CHUNK_TARGET_MS = 50;
/** Most items in one chunk (bounds one structured clone and one response, whatever the items). */
export const MAX_CHUNK_ITEMS = 1000;
/** Most a chunk grows from one to the next: one fast item must not send a thousand slow ones. */
const MAX_GROWTH = 4;
/** The even share of a batch's end is not cut below the chunk size over this. */
const MIN_SHARE = 4;

/** Sizes the next chunk from the thread time the last ones took per item. */
export class ChunkSizer {
  #size = 1;
  readonly #targetMs: number;
  readonly #maxItems: number;

  constructor(targetMs = CHUNK_TARGET_MS, maxItems = MAX_CHUNK_ITEMS) {
    this.#targetMs = targetMs;
    this.#maxItems = maxItems;
  }

  /**
   * The size of the next chunk, when `remaining` items are left for `concurrency` threads: its
   * size, but no more than an even share of what is left, so that a batch's last chunks end
   * together on its threads. The share is not cut below a quarter of the size: each halving
   * near the end is one more run to pay for, and a small batch would be all end.
   */
  next(remaining: number, concurrency: number): number {
    const share = Math.max(Math.ceil(remaining / Math.max(1, concurrency)), Math.ceil(this.#size / MIN_SHARE));
    return Math.max(1, Math.min(this.#size, remaining, share));
  }

  /** A chunk of `items` took `elapsedMs` of its thread's time. */
  observe(items: number, elapsedMs: number): void {
    if (items <= 0 || !Number.isFinite(elapsedMs) || elapsedMs < 0) return;
    const perItem = elapsedMs / items;
    const fit = perItem === 0 ? this.#maxItems : Math.floor(this.#targetMs / perItem);
    this.#size = Math.max(1, Math.min(this.#maxItems, fit, this.#size * MAX_GROWTH));
  }
}

/** Items handed to one worker run: `items[i]` is the batch's item `first + i`. */
export interface Chunk {
  readonly first: number;
  readonly items: readonly unknown[];
}

function itemOutcome(item: ItemResponse): ItemOutcome {
  if (item.ok) return { ok: true, json: item.json };
  // The worker always sends a string; a worker file of another version might not.
  return { ok: false, message: typeof item.message === 'string' ? item.message : 'the item failed (its worker gave no message)' };
}

export class BatchRun {
  readonly results: BatchResults;
  readonly #items: readonly unknown[];
  readonly #concurrency: number;
  readonly #sizer: ChunkSizer;
  #next = 0;
  #inFlight = 0;
  #stopped = false;

  /**
   * `concurrency`: most chunks of this task in flight at once (the task's cpus rounded up, at
   * least 1). `maxKeptBytes`: the bound of its results (`maxBatchResultBytes`).
   */
  constructor(items: readonly unknown[], concurrency: number, maxKeptBytes: number, sizer = new ChunkSizer()) {
    this.#items = items;
    this.#concurrency = Math.max(1, Math.floor(concurrency));
    this.results = new BatchResults(items.length, maxKeptBytes);
    this.#sizer = sizer;
  }

  get concurrency(): number {
    return this.#concurrency;
  }

  /** Chunks handed out and not yet answered. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** Items not yet handed out. */
  get pending(): number {
    return this.#stopped ? 0 : this.#items.length - this.#next;
  }

  /** Another chunk can be handed out now: items left, under its concurrency, not stopped. */
  get ready(): boolean {
    return !this.#stopped && this.#next < this.#items.length && this.#inFlight < this.#concurrency;
  }

  /** Nothing more will happen: every item has its outcome, or it was stopped and no chunk is out. */
  get over(): boolean {
    return this.#inFlight === 0 && (this.#stopped || this.results.complete);
  }

  get stopped(): boolean {
    return this.#stopped;
  }

  /** The next chunk, when {@link ready}. */
  take(): Chunk | undefined {
    if (!this.ready) return undefined;
    const size = this.#sizer.next(this.#items.length - this.#next, this.#concurrency);
    const first = this.#next;
    this.#next += size;
    this.#inFlight++;
    return { first, items: this.#items.slice(first, first + size) };
  }

  /** A chunk's worker answered. */
  complete(chunk: Chunk, response: ChunkResponse): void {
    this.#inFlight--;
    if (!response.ok) {
      this.#failRest(chunk, 0, response.message);
      return;
    }
    const answered = Math.min(response.items.length, chunk.items.length);
    for (let i = 0; i < answered; i++) this.results.record(chunk.first + i, itemOutcome(response.items[i]!));
    // A stopped chunk's time says when the kill came, not what its items cost.
    if (answered > 0 && !this.#stopped) this.#sizer.observe(answered, response.elapsedMs);
    // Fewer answers than items: the chunk stopped at an abort, and the rest never started.
    this.#failRest(chunk, answered, 'not run: the task was being stopped');
  }

  /** A chunk's run was lost (its thread crashed, ran out of memory, was terminated). */
  lose(chunk: Chunk, message: string): void {
    this.#inFlight--;
    this.#failRest(chunk, 0, message);
  }

  /** No more chunks: the task is being killed (chunks out are aborted by the caller). */
  stop(): void {
    this.#stopped = true;
  }

  #failRest(chunk: Chunk, from: number, message: string): void {
    for (let i = from; i < chunk.items.length; i++) this.results.record(chunk.first + i, { ok: false, message });
  }
}
