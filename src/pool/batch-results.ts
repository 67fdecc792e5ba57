// A batch task's results: one slot per item, filled as chunks come back in any order, read in
// item order at the end. Pure (no I/O): the terminal update's data, its message, and the lines
// of the results file when the data would be too large for a status update (batch-file.ts).
import { truncateUtf8 } from '../protocol/utf8.js';

/** How one item ended: its result's JSON (already bounded by the worker), or its error. */
export type ItemOutcome = { readonly ok: true; readonly json: Uint8Array } | { readonly ok: false; readonly message: string };

/** See `maxBatchResultBytes` (options.ts). */
export const DEFAULT_MAX_BATCH_RESULT_BYTES = 64 * 1024 * 1024;

/** Failed items a terminal message names (the lowest indices), and how much of each one's message. */
const LISTED_FAILURES = 10;
const LISTED_MESSAGE_BYTES = 200;

const encoder = new TextEncoder();
const RESULT_OPEN = encoder.encode('{"result":');
const ERROR_OPEN = encoder.encode('{"error":');
const CLOSE = encoder.encode('}');

export class BatchResults {
  readonly #slots: Array<ItemOutcome | undefined>;
  readonly #maxKeptBytes: number;
  #settled = 0;
  #failed = 0;
  #keptBytes = 0;

  /** `maxKeptBytes`: most bytes of results and error messages kept (`maxBatchResultBytes`). */
  constructor(count: number, maxKeptBytes: number) {
    this.#slots = new Array<ItemOutcome | undefined>(count).fill(undefined);
    this.#maxKeptBytes = maxKeptBytes;
  }

  get count(): number {
    return this.#slots.length;
  }

  get settled(): number {
    return this.#settled;
  }

  get failed(): number {
    return this.#failed;
  }

  /** Every item has its outcome. */
  get complete(): boolean {
    return this.#settled === this.#slots.length;
  }

  /** Bytes of results and messages kept so far. */
  get keptBytes(): number {
    return this.#keptBytes;
  }

  /**
   * Records an item's outcome (the first one only: an item is never run twice). A result or a
   * message that would take the kept bytes past the bound is replaced by a short error saying
   * so: the memory of a batch, and its results file, stay bounded whatever its jobs return.
   */
  record(index: number, outcome: ItemOutcome): void {
    if (index < 0 || index >= this.#slots.length || this.#slots[index] !== undefined) return;
    const bytes = outcome.ok ? outcome.json.byteLength : Buffer.byteLength(outcome.message, 'utf8');
    let kept = outcome;
    if (this.#keptBytes + bytes > this.#maxKeptBytes) {
      kept = { ok: false, message: `its ${outcome.ok ? 'result' : 'error'} was dropped: the batch's results passed ${this.#maxKeptBytes} bytes (maxBatchResultBytes)` };
    } else {
      this.#keptBytes += bytes;
    }
    this.#slots[index] = kept;
    this.#settled++;
    if (!kept.ok) this.#failed++;
  }

  /** The outcome of item `index`, once recorded. */
  get(index: number): ItemOutcome | undefined {
    return this.#slots[index];
  }

  /** `37/100 items done, 2 failed`: the text of a progress update. */
  progressMessage(): string {
    return `${this.#settled}/${this.#slots.length} items done, ${this.#failed} failed`;
  }

  /**
   * `3 of 100 items failed: item 4: boom; item 17: …` (the lowest indices, each message cut
   * short, at most {@link LISTED_FAILURES}); `100 items done` when none failed.
   */
  summary(): string {
    if (this.#failed === 0) return `${this.#slots.length} items done`;
    const listed: string[] = [];
    for (let index = 0; index < this.#slots.length && listed.length < LISTED_FAILURES; index++) {
      const slot = this.#slots[index];
      if (slot !== undefined && !slot.ok) listed.push(`item ${index}: ${truncateUtf8(slot.message, LISTED_MESSAGE_BYTES)}`);
    }
    const more = this.#failed > listed.length ? `; … (${this.#failed - listed.length} more)` : '';
    return `${this.#failed} of ${this.#slots.length} items failed: ${listed.join('; ')}${more}`;
  }

  /**
   * The results as one JSON array in item order, `[{"result": …}, {"error": "…"}, …]`, when
   * that is at most `maxBytes`; undefined otherwise (counted before anything is copied).
   */
  inlineJson(maxBytes: number): Uint8Array | undefined {
    const parts: Uint8Array[] = [];
    let total = 1;
    const open = encoder.encode('[');
    parts.push(open);
    for (let index = 0; index < this.#slots.length; index++) {
      const slot = this.#slots[index];
      const piece = slot === undefined || !slot.ok ? encoder.encode(JSON.stringify(slot?.message ?? 'no outcome')) : slot.json;
      const head = slot === undefined || !slot.ok ? ERROR_OPEN : RESULT_OPEN;
      total += (index === 0 ? 0 : 1) + head.byteLength + piece.byteLength + CLOSE.byteLength;
      if (total + 1 > maxBytes) return undefined;
      if (index > 0) parts.push(COMMA);
      parts.push(head, piece, CLOSE);
    }
    parts.push(encoder.encode(']'));
    return Buffer.concat(parts, total + 1);
  }

  /**
   * The results as NDJSON, one line per item in order: `{"index":i,"result":…}` or
   * `{"index":i,"error":"…"}`, in buffers of about `chunkBytes` (so that a writer can write
   * a big file in a few calls without holding a second copy of it all).
   */
  *ndjson(chunkBytes = 256 * 1024): Generator<Uint8Array> {
    let parts: Uint8Array[] = [];
    let size = 0;
    for (let index = 0; index < this.#slots.length; index++) {
      const slot = this.#slots[index];
      const line =
        slot !== undefined && slot.ok
          ? [encoder.encode(`{"index":${index},"result":`), slot.json, LINE_END]
          : [encoder.encode(`{"index":${index},"error":${JSON.stringify(slot?.message ?? 'no outcome')}`), LINE_END];
      for (const part of line) {
        parts.push(part);
        size += part.byteLength;
      }
      if (size >= chunkBytes) {
        yield Buffer.concat(parts, size);
        parts = [];
        size = 0;
      }
    }
    if (size > 0) yield Buffer.concat(parts, size);
  }
}

const COMMA = encoder.encode(',');
const LINE_END = encoder.encode('}\n');
