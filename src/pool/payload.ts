// TaskInfo.data → {job, input}. Every way a payload can be wrong has its own exact message,
// because it goes back to the framework in TASK_ERROR and is all its author will see.
import type { TaskInfo } from '../proto/types.js';
import { truncateUtf8 } from '../protocol/utf8.js';
import { PayloadError } from './errors.js';

export interface TaskPayload {
  /** A registered job name (checked against the known set). */
  readonly job: string;
  /** The payload's `input`, parsed; `undefined` when absent. */
  readonly input: unknown;
}

export const DEFAULT_MAX_PAYLOAD_BYTES = 1024 * 1024;
const SHAPE = '{"job": <name>, "input": <any JSON>}';
const ALLOWED_FIELDS: ReadonlySet<string> = new Set(['job', 'input']);
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
  for (const key of Object.keys(fields)) {
    if (!ALLOWED_FIELDS.has(key)) {
      throw new PayloadError('MPE_INVALID_PAYLOAD', `task data has an unexpected field ${JSON.stringify(key)}; expected ${SHAPE}`);
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
  return { job, input: Object.hasOwn(fields, 'input') ? fields['input'] : undefined };
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
