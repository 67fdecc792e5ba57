// TaskInfo.data → {job, input} or {job, batch}. Every way a payload can be wrong has its own
// exact message, because it goes back to the framework in TASK_ERROR and is all its author will see.
import type { TaskInfo } from '../proto/types.js';
import { truncateUtf8 } from '../protocol/utf8.js';
import { PayloadError } from './errors.js';

export interface TaskPayload {
  /** A registered job name (checked against the known set). */
  readonly job: string;
  /** The payload's `input`, parsed; `undefined` when absent. */
  readonly input: unknown;
}

/** A batch task's data: one job, many inputs, run as one Mesos task (see batch-run.ts). */
export interface BatchPayload {
  readonly kind: 'batch';
  readonly job: string;
  /** The payload's `batch`, parsed: at least one item. */
  readonly items: readonly unknown[];
}

export interface SinglePayload extends TaskPayload {
  readonly kind: 'single';
}

export type ParsedPayload = SinglePayload | BatchPayload;

export interface PayloadLimits {
  /** Largest `TaskInfo.data`, in bytes. */
  readonly maxBytes: number;
  /** Most items of a batch. */
  readonly maxBatchItems: number;
  /** Largest JSON of one batch item (as `JSON.stringify` writes it), in bytes. */
  readonly maxBatchItemBytes: number;
}

export const DEFAULT_MAX_PAYLOAD_BYTES = 1024 * 1024;
/**
 * Most items of one batch task. The main thread keeps a slot per item (its outcome, its result's
 * JSON) until the task ends, and a results file has a line per item: 100 000 keeps the slots to
 * a few MB whatever the results, and is already more than the default 1 MiB of task data can
 * carry of any but the smallest inputs (`0,` is two bytes).
 */
export const DEFAULT_MAX_BATCH_ITEMS = 100_000;
/**
 * Largest JSON of one batch item by default: what a single task's data may be by default, so
 * that raising `maxPayloadBytes` for big batches does not let one item grow with it.
 */
export const DEFAULT_MAX_BATCH_ITEM_BYTES = DEFAULT_MAX_PAYLOAD_BYTES;
const SHAPE = '{"job": <name>, "input": <any JSON>}';
const BATCH_SHAPE = '{"job": <name>, "batch": [<input>, …]}';
const SINGLE_FIELDS: ReadonlySet<string> = new Set(['job', 'input']);
const BATCH_FIELDS: ReadonlySet<string> = new Set(['job', 'input', 'batch']);
/** How many job names an "unknown job" message lists before eliding the rest. */
const LISTED_JOBS = 20;

const utf8 = new TextDecoder('utf-8', { fatal: true });

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/** Longest job name echoed back in a TASK_ERROR message, in UTF-8 bytes (the ellipsis included). */
const MAX_ECHOED_NAME = 100;

/** `unknown job "x"; known: a, b, c` (sorted, elided after a few). */
export function unknownJobMessage(name: string, known: Iterable<string>): string {
  const names = [...known].sort();
  const listed = names.slice(0, LISTED_JOBS).join(', ');
  const more = names.length > LISTED_JOBS ? `, … (${names.length - LISTED_JOBS} more)` : '';
  // A task's job name is outside input: echo at most a readable prefix of it.
  const shown = truncateUtf8(name, MAX_ECHOED_NAME);
  const suffix = Buffer.byteLength(name, 'utf8') > MAX_ECHOED_NAME ? ` (${name.length} characters)` : '';
  return `unknown job ${JSON.stringify(shown)}${suffix}; known: ${names.length === 0 ? '(none)' : listed + more}`;
}

/**
 * Parses and checks a task's data. Throws a {@link PayloadError} saying exactly what is wrong.
 * The parsed object is never merged into anything: `__proto__` in a payload is only ever an
 * own property of a fresh object (JSON.parse), and an unexpected field is refused.
 */
export function parsePayload(data: Uint8Array | undefined, knownJobs: ReadonlySet<string>, maxBytes = DEFAULT_MAX_PAYLOAD_BYTES): TaskPayload {
  const parsed = parse(data, knownJobs, maxBytes, undefined);
  return { job: parsed.job, input: parsed.kind === 'single' ? parsed.input : undefined };
}

/**
 * As {@link parsePayload}, and also accepts a batch: `{"job": <name>, "batch": [<input>, …]}`
 * (at most `maxBatchItems` items, none longer than `maxBatchItemBytes` of JSON). A payload with
 * both `input` and `batch` is refused: which one was meant cannot be guessed.
 */
export function parseTaskData(data: Uint8Array | undefined, knownJobs: ReadonlySet<string>, limits: PayloadLimits): ParsedPayload {
  return parse(data, knownJobs, limits.maxBytes, limits);
}

/** `batch` undefined: batches are not accepted (the field is unexpected, as before they existed). */
function parse(data: Uint8Array | undefined, knownJobs: ReadonlySet<string>, maxBytes: number, batch: PayloadLimits | undefined): ParsedPayload {
  if (data === undefined || data.byteLength === 0) {
    throw new PayloadError('MPE_INVALID_PAYLOAD', `task has no data: expected UTF-8 JSON ${SHAPE}`);
  }
  if (data.byteLength > maxBytes) {
    throw new PayloadError('MPE_PAYLOAD_TOO_LARGE', `task data is ${data.byteLength} bytes, over the limit of ${maxBytes} bytes`);
  }
  let text: string;
  try {
    text = utf8.decode(data);
  } catch {
    throw new PayloadError('MPE_INVALID_PAYLOAD', 'task data is not valid UTF-8');
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new PayloadError('MPE_INVALID_PAYLOAD', `task data is not valid JSON: ${reason}`);
  }
  const depth = nestingDepth(parsed, MAX_PAYLOAD_DEPTH);
  if (depth > MAX_PAYLOAD_DEPTH) {
    // JSON.parse copes with any depth, but the structured clone that takes the input to a worker
    // thread recurses and overflows the stack (a RangeError, ~3000 levels on the main thread).
    throw new PayloadError('MPE_INVALID_PAYLOAD', `task data is nested more than ${MAX_PAYLOAD_DEPTH} levels deep`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new PayloadError('MPE_INVALID_PAYLOAD', `task data must be a JSON object ${SHAPE}, got ${kindOf(parsed)}`);
  }
  const fields = parsed as Record<string, unknown>;
  const allowed = batch === undefined ? SINGLE_FIELDS : BATCH_FIELDS;
  for (const key of Object.keys(fields)) {
    if (!allowed.has(key)) {
      const expected = batch === undefined ? SHAPE : `${SHAPE} or ${BATCH_SHAPE}`;
      throw new PayloadError('MPE_INVALID_PAYLOAD', `task data has an unexpected field ${JSON.stringify(key)}; expected ${expected}`);
    }
  }
  if (!Object.hasOwn(fields, 'job')) {
    throw new PayloadError('MPE_INVALID_PAYLOAD', `task data has no "job" field; expected ${SHAPE}`);
  }
  const job = fields['job'];
  if (typeof job !== 'string') {
    throw new PayloadError('MPE_INVALID_PAYLOAD', `task data's "job" must be a string, got ${kindOf(job)}`);
  }
  if (!knownJobs.has(job)) throw new PayloadError('MPE_UNKNOWN_JOB', unknownJobMessage(job, knownJobs));
  if (batch !== undefined && Object.hasOwn(fields, 'batch')) {
    if (Object.hasOwn(fields, 'input')) {
      throw new PayloadError('MPE_INVALID_PAYLOAD', 'task data has both "input" and "batch": give "input" for one input or "batch" for many');
    }
    return { kind: 'batch', job, items: batchItems(fields['batch'], batch) };
  }
  return { kind: 'single', job, input: Object.hasOwn(fields, 'input') ? fields['input'] : undefined };
}

function batchItems(value: unknown, limits: PayloadLimits): readonly unknown[] {
  if (!Array.isArray(value)) {
    throw new PayloadError('MPE_INVALID_PAYLOAD', `task data's "batch" must be an array of inputs ${BATCH_SHAPE}, got ${kindOf(value)}`);
  }
  if (value.length === 0) {
    // A task that would run nothing is the framework's mistake: said, rather than "finished".
    throw new PayloadError('MPE_INVALID_PAYLOAD', 'task data\'s "batch" is empty: give at least one input');
  }
  if (value.length > limits.maxBatchItems) {
    throw new PayloadError('MPE_PAYLOAD_TOO_LARGE', `task data's "batch" has ${value.length} items, over the limit of ${limits.maxBatchItems}`);
  }
  // Measured re-serialised (JSON.parse keeps no positions in the text): what would cross to a
  // worker. All of it is within the payload limit already, so this costs about what the parse did.
  const limit = limits.maxBatchItemBytes;
  for (let index = 0; index < value.length; index++) {
    const item: unknown = value[index];
    const text = JSON.stringify(item) ?? 'null';
    const bytes = text.length * 3 <= limit ? text.length : Buffer.byteLength(text, 'utf8');
    if (bytes > limit) {
      throw new PayloadError('MPE_PAYLOAD_TOO_LARGE', `task data's "batch" item ${index} is ${bytes} bytes of JSON, over the per-item limit of ${limit} bytes`);
    }
  }
  return value;
}

/** Deepest nesting of arrays and objects accepted in task data. */
export const MAX_PAYLOAD_DEPTH = 1000;

/** The nesting depth of a parsed JSON value, counted without recursion; stops once past `limit`. */
function nestingDepth(value: unknown, limit: number): number {
  let deepest = 0;
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    const here = depth + 1;
    if (here > deepest) {
      deepest = here;
      if (deepest > limit) return deepest;
    }
    for (const child of Array.isArray(v) ? v : Object.values(v)) {
      if (typeof child === 'object' && child !== null) stack.push([child, here]);
    }
  }
  return deepest;
}

/**
 * The task's `mem` resource in whole megabytes (rounded up), when it has a positive scalar one.
 * Several `mem` entries (one per role or reservation) are added up, as Mesos does.
 */
export function taskMemoryMb(task: TaskInfo): number | undefined {
  let total = 0;
  for (const resource of task.resources ?? []) {
    if (resource.name === 'mem' && resource.scalar !== undefined && Number.isFinite(resource.scalar.value)) {
      total += resource.scalar.value;
    }
  }
  return total > 0 ? Math.ceil(total) : undefined;
}

/** The task's (or executor's) `cpus` resource: scalar entries added up, as Mesos does; 0 without. */
export function resourceCpus(resources: TaskInfo['resources']): number {
  let total = 0;
  for (const resource of resources ?? []) {
    if (resource.name === 'cpus' && resource.scalar !== undefined && Number.isFinite(resource.scalar.value) && resource.scalar.value > 0) {
      total += resource.scalar.value;
    }
  }
  return total;
}
