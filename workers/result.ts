// JSON encoding of job results and progress data, done in the worker so that a big or
// slow-to-serialise result costs the worker's time, not the main thread's.
//
// On a worker with a heap limit (a task's `mem`), an allocation that does not fit is not always
// an orderly ERR_WORKER_OUT_OF_MEMORY: V8 may abort the whole PROCESS ("FATAL ERROR ... heap out
// of memory"), taking every other task with it. A job's own allocations are the job's risk (see
// the README); ours must never be the one: the size is checked BEFORE any copy is made (a
// string's length bounds its JSON size from below), serialisation stops as soon as the output is
// known to be over the limit, and it is refused when it could not fit in the heap left.
import { getHeapStatistics } from 'node:v8';
import { boundMessage } from '../src/protocol/utf8.js';
import { describeThrown } from './describe.js';

export type EncodedJson =
  | { readonly ok: true; readonly json: Uint8Array }
  | { readonly ok: false; readonly failure: 'result-not-json' | 'result-too-large'; readonly message: string };

const encoder = new TextEncoder();

/**
 * Of the heap left, what serialisation never plans to use: V8's own work (a GC, the next
 * allocations of the job's leftover code) needs room too.
 */
const HEAP_RESERVE_BYTES = 4 * 1024 * 1024;

/**
 * V8 heap bytes the JSON text may take, per character of it: two-byte strings (2) built in parts
 * and then flattened into one string (×2).
 */
const HEAP_BYTES_PER_CHAR = 4;

/** A JSON string literal may need escapes (`\"`, `\\`, `\u0000`, a lone surrogate `\udxxx`). */
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

/**
 * Thrown by the replacer to stop serialisation, and told apart by identity: what a toJSON throws
 * may be a revoked Proxy, on which even `instanceof` throws.
 */
const STOP: unique symbol = Symbol('stop');
let stopMessage = '';

function stop(message: string): never {
  stopMessage = message;
  throw STOP;
}

/** Upper bound, in characters, of the JSON literal of a string of this content. */
function stringChars(text: string): number {
  return NEEDS_ESCAPE.test(text) ? 6 * text.length + 2 : text.length + 2;
}

function tooLarge(what: string, message: string): EncodedJson {
  return { ok: false, failure: 'result-too-large', message: `${what} ${message}` };
}

/** Heap bytes serialisation may use on this thread now. */
function heapBudget(): number {
  const heap = getHeapStatistics();
  return heap.heap_size_limit - heap.used_heap_size - HEAP_RESERVE_BYTES;
}

function mib(bytes: number): string {
  return `${Math.max(0, Math.round(bytes / (1024 * 1024)))} MiB`;
}

/**
 * A replacer that leaves every value as it is (so the JSON is exactly `JSON.stringify`'s) and
 * keeps two running counts: a LOWER bound of the UTF-8 bytes written so far (each character is
 * at least one byte) and an UPPER bound of the characters. It stops (throws {@link STOP}) as soon as the
 * lower bound passes `maxBytes` or the upper bound could not fit in the heap: the output is then
 * never built past about that size.
 */
function boundedReplacer(maxBytes: number, heapBytes: number): (this: unknown, key: string, value: unknown) => unknown {
  let least = 0;
  let most = 0;
  let root = true;
  return function replace(this: unknown, key: string, value: unknown): unknown {
    if (root) {
      root = false;
    } else if (Array.isArray(this)) {
      least += 1; // the comma or bracket
      most += 1;
    } else {
      // "key": — a key whose value has no JSON form is dropped, so it is not counted.
      if (value === undefined || typeof value === 'function' || typeof value === 'symbol') return value;
      least += key.length + 3;
      most += stringChars(key) + 2;
    }
    switch (typeof value) {
      case 'string':
        least += value.length + 2;
        most += stringChars(value);
        break;
      case 'number':
        least += 1;
        most += 24;
        break;
      case 'boolean':
        least += 4;
        most += 5;
        break;
      case 'object':
        least += value === null ? 4 : 2;
        most += value === null ? 4 : 2;
        break;
      default:
        most += 4;
    }
    if (least > maxBytes) stop(`is over ${maxBytes} bytes of JSON, the limit (stopped at ${least} bytes)`);
    if (most * HEAP_BYTES_PER_CHAR > heapBytes) {
      stop(`could take up to ${mib(most * HEAP_BYTES_PER_CHAR)} of heap to serialise, more than its worker thread has left (${mib(heapBytes)})`);
    }
    return value;
  };
}

/**
 * The UTF-8 JSON of `value` (`undefined` → `null`), or why it has none or is too large.
 * `what` names the value in messages ("result", "progress data").
 */
export function encodeJson(value: unknown, maxBytes: number, what = 'result'): EncodedJson {
  if (value === undefined) return { ok: true, json: encoder.encode('null') };
  let text: string | undefined;
  try {
    if (typeof value === 'string') {
      // Its JSON is at least its length + 2 bytes: a long one is refused before a single copy
      // is made (a shorter one is measured exactly below).
      if (value.length > maxBytes) return tooLarge(what, `is at least ${value.length + 2} bytes of JSON, over the limit of ${maxBytes} bytes`);
      const budget = heapBudget();
      const chars = stringChars(value);
      if (chars * HEAP_BYTES_PER_CHAR > budget) {
        return tooLarge(what, `could take up to ${mib(chars * HEAP_BYTES_PER_CHAR)} of heap to serialise, more than its worker thread has left (${mib(budget)})`);
      }
      text = JSON.stringify(value);
    } else if (typeof value === 'object' && value !== null) {
      text = JSON.stringify(value, boundedReplacer(maxBytes, heapBudget()));
    } else {
      text = JSON.stringify(value);
    }
  } catch (error) {
    if (error === STOP) return tooLarge(what, stopMessage);
    // A toJSON may throw anything: described without trusting it.
    const reason = describeThrown(error).message;
    return { ok: false, failure: 'result-not-json', message: boundMessage(`${what} is not JSON-serialisable: ${reason}`) };
  }
  // JSON.stringify gives undefined (no error) for a function or a symbol at the top.
  if (text === undefined) {
    return { ok: false, failure: 'result-not-json', message: `${what} is not JSON-serialisable: a ${typeof value} has no JSON form` };
  }
  // UTF-8 takes 1 to 3 bytes per UTF-16 code unit: counted without encoding when in doubt.
  // (Buffer.byteLength counts without allocating.)
  const bytes = text.length * 3 <= maxBytes ? text.length : Buffer.byteLength(text, 'utf8');
  if (bytes > maxBytes) return tooLarge(what, `is ${bytes} bytes of JSON, over the limit of ${maxBytes} bytes`);
  // TextEncoder gives a fresh buffer (Buffer.from may slice a shared pool, which is then copied whole).
  return { ok: true, json: encoder.encode(text) };
}
