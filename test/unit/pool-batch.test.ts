// Batch tasks, piece by piece without a pool: the payload, the chunking, the results and their
// file, and a chunk run on the worker side (on this thread, over a real MessageChannel).
import { strict as assert } from 'node:assert';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MessageChannel, receiveMessageOnPort } from 'node:worker_threads';
import { after, describe, it } from 'node:test';
import { PayloadError } from '../../src/pool/errors.js';
import { parsePayload, parseTaskData, type PayloadLimits } from '../../src/pool/payload.js';
import { BatchResults } from '../../src/pool/batch-results.js';
import { BATCH_RESULTS_FOLDER, concludeBatch, resultsFileName, writeResultsFile } from '../../src/pool/batch-file.js';
import { BatchRun, ChunkSizer } from '../../src/pool/batch-run.js';
import { runChunk, type JobLookup } from '../../workers/batch.js';
import { WorkerChannel, type RunLink } from '../../workers/channel.js';
import type { Job } from '../../workers/job.js';
import type { ChunkResponse, ItemResponse } from '../../workers/protocol.js';

const JOBS: ReadonlySet<string> = new Set(['noop', 'primes']);
const LIMITS: PayloadLimits = { maxBytes: 4096, maxBatchItems: 5, maxBatchItemBytes: 64 };
const bytes = (text: string): Uint8Array => Buffer.from(text, 'utf8');
const json = (value: unknown): Uint8Array => bytes(JSON.stringify(value));
const text = (data: Uint8Array | undefined): string => Buffer.from(data ?? new Uint8Array()).toString('utf8');

function refused(data: string, code: string, message: string): void {
  assert.throws(
    () => parseTaskData(bytes(data), JOBS, LIMITS),
    (error: unknown) => error instanceof PayloadError && error.code === code && error.message === message,
  );
}

describe('batch payloads', () => {
  it('parses {job, batch} as a batch and {job, input} as one task', () => {
    assert.deepEqual(parseTaskData(bytes('{"job":"primes","batch":[{"limit":10},null,3]}'), JOBS, LIMITS), {
      kind: 'batch',
      job: 'primes',
      items: [{ limit: 10 }, null, 3],
    });
    assert.deepEqual(parseTaskData(bytes('{"job":"noop","input":1}'), JOBS, LIMITS), { kind: 'single', job: 'noop', input: 1 });
    assert.deepEqual(parseTaskData(bytes('{"job":"noop"}'), JOBS, LIMITS), { kind: 'single', job: 'noop', input: undefined });
  });

  it('refuses a batch that is not a non-empty array, or given with an input', () => {
    refused('{"job":"noop","batch":{"a":1}}', 'MPE_INVALID_PAYLOAD', 'task data\'s "batch" must be an array of inputs {"job": <name>, "batch": [<input>, …]}, got an object');
    refused('{"job":"noop","batch":"x"}', 'MPE_INVALID_PAYLOAD', 'task data\'s "batch" must be an array of inputs {"job": <name>, "batch": [<input>, …]}, got a string');
    refused('{"job":"noop","batch":null}', 'MPE_INVALID_PAYLOAD', 'task data\'s "batch" must be an array of inputs {"job": <name>, "batch": [<input>, …]}, got null');
    refused('{"job":"noop","batch":[]}', 'MPE_INVALID_PAYLOAD', 'task data\'s "batch" is empty: give at least one input');
    refused('{"job":"noop","input":1,"batch":[1]}', 'MPE_INVALID_PAYLOAD', 'task data has both "input" and "batch": give "input" for one input or "batch" for many');
  });

  it('refuses too many items, and an item over the per-item limit, naming it', () => {
    refused('{"job":"noop","batch":[1,2,3,4,5,6]}', 'MPE_PAYLOAD_TOO_LARGE', 'task data\'s "batch" has 6 items, over the limit of 5');
    const long = 'x'.repeat(63); // 65 bytes of JSON
    refused(`{"job":"noop","batch":[1,"${long}"]}`, 'MPE_PAYLOAD_TOO_LARGE', 'task data\'s "batch" item 1 is 65 bytes of JSON, over the per-item limit of 64 bytes');
    // Counted in UTF-8: 31 two-byte characters and the quotes are 64 bytes (fits), 32 are 66.
    assert.equal(parseTaskData(bytes(`{"job":"noop","batch":["${'é'.repeat(31)}"]}`), JOBS, LIMITS).kind, 'batch');
    refused(`{"job":"noop","batch":["${'é'.repeat(32)}"]}`, 'MPE_PAYLOAD_TOO_LARGE', 'task data\'s "batch" item 0 is 66 bytes of JSON, over the per-item limit of 64 bytes');
    // The whole data's own limit comes first.
    assert.throws(() => parseTaskData(bytes(`{"job":"noop","batch":[${'1,'.repeat(3000)}1]}`), JOBS, LIMITS), /over the limit of 4096 bytes/);
  });

  it('still checks the job of a batch, and lists the batch shape for an unexpected field', () => {
    assert.throws(() => parseTaskData(bytes('{"job":"nope","batch":[1]}'), JOBS, LIMITS), (e: unknown) => e instanceof PayloadError && e.code === 'MPE_UNKNOWN_JOB');
    refused('{"job":"noop","inputs":[1]}', 'MPE_INVALID_PAYLOAD', 'task data has an unexpected field "inputs"; expected {"job": <name>, "input": <any JSON>} or {"job": <name>, "batch": [<input>, …]}');
  });

  it('parsePayload (single tasks only) still refuses "batch" as an unexpected field', () => {
    assert.throws(() => parsePayload(bytes('{"job":"noop","batch":[1]}'), JOBS), /unexpected field "batch"/);
  });
});

describe('ChunkSizer', () => {
  it('starts at one item and grows toward the target time, at most 4× a step', () => {
    const sizer = new ChunkSizer(10, 1000);
    assert.equal(sizer.next(1000, 2), 1);
    sizer.observe(1, 1); // 1 ms an item: 10 fit, but growth is capped
    assert.equal(sizer.next(1000, 2), 4);
    sizer.observe(4, 4);
    assert.equal(sizer.next(1000, 2), 10);
    sizer.observe(10, 10);
    assert.equal(sizer.next(1000, 2), 10);
  });

  it('stays at one for slow items, and caps fast ones at the maximum', () => {
    const slow = new ChunkSizer(10, 1000);
    slow.observe(1, 50);
    assert.equal(slow.next(100, 4), 1);
    const fast = new ChunkSizer(10, 100);
    for (let i = 0; i < 10; i++) fast.observe(fast.next(100_000, 1), 0);
    assert.equal(fast.next(100_000, 1), 100);
  });

  it('takes no more than an even share of what is left (so the end spreads over the threads), down to a quarter of its size', () => {
    const sizer = new ChunkSizer(10, 1000);
    for (let i = 0; i < 10; i++) sizer.observe(100, 0.1);
    assert.equal(sizer.next(1000, 4), 250);
    assert.equal(sizer.next(6, 4), 6, 'a quarter of 1000 is more than is left');
    assert.equal(sizer.next(1, 4), 1);
    const sixteen = new ChunkSizer(16, 1000);
    sixteen.observe(1, 1);
    sixteen.observe(4, 4);
    sixteen.observe(16, 16);
    assert.equal(sixteen.next(1000, 4), 16);
    assert.equal(sixteen.next(40, 4), 10, 'an even share');
    assert.equal(sixteen.next(6, 4), 4, 'a quarter of 16');
  });
});

function answer(items: ItemResponse[], elapsedMs = 1): ChunkResponse {
  return { kind: 'chunk', ok: true, items, elapsedMs };
}
const ok = (value: unknown): ItemResponse => ({ ok: true, json: json(value) });
const threw = (message: string): ItemResponse => ({ ok: false, failure: 'threw', message });

describe('BatchRun', () => {
  it('hands out chunks up to its concurrency, and is over when every item has its outcome', () => {
    const run = new BatchRun([1, 2, 3], 2, 1000);
    const a = run.take()!;
    const b = run.take()!;
    assert.equal(run.take(), undefined, 'at its concurrency');
    assert.deepEqual([a.first, a.items, b.first, b.items], [0, [1], 1, [2]]);
    run.complete(b, answer([ok('two')]));
    assert.equal(run.ready, true);
    const c = run.take()!;
    assert.deepEqual([c.first, c.items], [2, [3]]);
    run.complete(c, answer([threw('boom')]));
    assert.equal(run.over, false, 'a chunk is still out');
    run.complete(a, answer([ok('one')]));
    assert.equal(run.over, true);
    assert.equal(run.results.failed, 1);
    assert.equal(text(run.results.inlineJson(1000)), '[{"result":"one"},{"result":"two"},{"error":"boom"}]');
  });

  it('gives every item of a lost chunk its error, and the items a stopped chunk never started theirs', () => {
    const run = new BatchRun([1, 2, 3, 4], 1, 1000);
    const a = run.take()!;
    run.lose(a, 'its worker thread crashed');
    const b = run.take()!;
    run.complete(b, answer([]));
    assert.equal(run.results.get(0)?.ok, false);
    assert.deepEqual(run.results.get(0), { ok: false, message: 'its worker thread crashed' });
    assert.deepEqual(run.results.get(b.first), { ok: false, message: 'not run: the task was being stopped' });
  });

  it('hands out nothing once stopped, and is over when its chunks are back', () => {
    const run = new BatchRun([1, 2, 3], 3, 1000);
    const a = run.take()!;
    run.stop();
    assert.equal(run.take(), undefined);
    assert.equal(run.over, false);
    run.complete(a, answer([], 0));
    assert.equal(run.over, true);
    assert.equal(run.results.complete, false, 'the items never handed out have no outcome');
  });

  it('a sizer shared by batches of one job: the next batch starts where the last chunks were; a stopped chunk teaches nothing', () => {
    const sizer = new ChunkSizer(10, 1000);
    const first = new BatchRun(Array.from({ length: 100 }, (_, i) => i), 1, 1000, sizer);
    let chunk = first.take()!;
    first.complete(chunk, answer(chunk.items.map(ok), 0.5 * chunk.items.length)); // 0.5 ms an item
    chunk = first.take()!;
    assert.equal(chunk.items.length, 4);
    const second = new BatchRun(Array.from({ length: 100 }, (_, i) => i), 1, 1000, sizer);
    const start = second.take()!;
    assert.equal(start.items.length, 4, 'not one again');
    second.stop();
    second.complete(start, answer([ok(0)], 500)); // the kill came after a long wait
    assert.equal(sizer.next(1000, 1), 4, 'unchanged by the stopped chunk');
  });

  it('treats a chunk that never ran (killed on its way) as the failure of its items', () => {
    const run = new BatchRun([1], 1, 1000);
    const a = run.take()!;
    run.complete(a, { kind: 'chunk', ok: false, failure: 'stopped', message: 'stopped before it started' });
    assert.deepEqual(run.results.get(0), { ok: false, message: 'stopped before it started' });
  });
});

describe('BatchResults', () => {
  it('counts progress and names the lowest failed items, bounded', () => {
    const results = new BatchResults(30, 1_000_000);
    for (let i = 29; i >= 0; i--) results.record(i, i % 2 === 0 ? { ok: false, message: `bad ${i} ${'x'.repeat(300)}` } : { ok: true, json: json(i) });
    assert.equal(results.progressMessage(), '30/30 items done, 15 failed');
    const summary = results.summary();
    assert.match(summary, /^15 of 30 items failed: item 0: bad 0 x+…; item 2: bad 2 /);
    assert.match(summary, /item 18: bad 18 x+…; … \(5 more\)$/);
    assert.doesNotMatch(summary, /item 20:/);
    assert.equal(new BatchResults(2, 10).summary(), '2 items done');
  });

  it('keeps the first outcome of an item only', () => {
    const results = new BatchResults(1, 100);
    results.record(0, { ok: true, json: json(1) });
    results.record(0, { ok: false, message: 'again' });
    assert.equal(results.failed, 0);
    assert.equal(results.settled, 1);
  });

  it('replaces a result that would pass the kept-bytes bound with an error saying so', () => {
    const results = new BatchResults(3, 10);
    results.record(0, { ok: true, json: json('123456') }); // 8 bytes
    results.record(1, { ok: true, json: json('abc') }); // 5 more: over
    results.record(2, { ok: true, json: json(1) }); // 1 more: fits
    assert.deepEqual(results.get(1), { ok: false, message: "its result was dropped: the batch's results passed 10 bytes (maxBatchResultBytes)" });
    assert.equal(results.get(2)?.ok, true);
    assert.equal(results.keptBytes, 9);
  });

  it('gives the inline JSON only when it fits, byte for byte', () => {
    const results = new BatchResults(2, 100);
    results.record(0, { ok: true, json: json({ a: 'é' }) });
    results.record(1, { ok: false, message: 'say "no"' });
    const full = '[{"result":{"a":"é"}},{"error":"say \\"no\\""}]';
    assert.equal(text(results.inlineJson(Buffer.byteLength(full))), full);
    assert.deepEqual(JSON.parse(full), [{ result: { a: 'é' } }, { error: 'say "no"' }]);
    assert.equal(results.inlineJson(Buffer.byteLength(full) - 1), undefined);
  });

  it('writes NDJSON lines in item order, in chunks of about the size asked', () => {
    const results = new BatchResults(3, 100);
    results.record(2, { ok: true, json: json([2]) });
    results.record(0, { ok: true, json: json(null) });
    results.record(1, { ok: false, message: 'x' });
    const chunks = [...results.ndjson(1)];
    assert.equal(chunks.length, 3);
    assert.equal(chunks.map(text).join(''), '{"index":0,"result":null}\n{"index":1,"error":"x"}\n{"index":2,"result":[2]}\n');
  });
});

describe('batch results file', () => {
  const dirs: string[] = [];
  after(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });
  const sandbox = async (): Promise<string> => {
    const dir = await mkdtemp(join(tmpdir(), 'mpe-batch-'));
    dirs.push(dir);
    return dir;
  };

  it('names the file after a safe task id, and hashes any other', () => {
    assert.equal(resultsFileName('task-1.a_b'), 'task-1.a_b.ndjson');
    const odd = resultsFileName('../etc/passwd');
    assert.match(odd, /^_\._etc_passwd-[0-9a-f]{12}\.ndjson$/);
    assert.notEqual(resultsFileName('a/b'), resultsFileName('a:b'), 'replaced characters do not make two ids share a file');
    assert.ok(resultsFileName('x'.repeat(500)).length < 130);
  });

  it('writes the NDJSON under batch-results/ and leaves no temporary file', async () => {
    const dir = await sandbox();
    const results = new BatchResults(2, 100);
    results.record(0, { ok: true, json: json({ n: 1 }) });
    results.record(1, { ok: false, message: 'boom' });
    const written = await writeResultsFile(dir, 't/1', results);
    assert.match(written.path, new RegExp(`^${BATCH_RESULTS_FOLDER}/t_1-[0-9a-f]{12}\\.ndjson$`));
    const content = await readFile(join(dir, written.path), 'utf8');
    assert.equal(content, '{"index":0,"result":{"n":1}}\n{"index":1,"error":"boom"}\n');
    assert.equal(written.bytes, Buffer.byteLength(content));
    assert.deepEqual(await readdir(join(dir, BATCH_RESULTS_FOLDER)), [written.path.split('/')[1]]);
  });

  it('concludes inline when the results fit, with FINISHED only when no item failed', async () => {
    const dir = await sandbox();
    const results = new BatchResults(2, 100);
    results.record(0, { ok: true, json: json(1) });
    results.record(1, { ok: true, json: json(2) });
    const end = await concludeBatch(results, 1000, dir, 't');
    assert.deepEqual({ ...end, data: text(end.data) }, { state: 'TASK_FINISHED', message: '2 items done', data: '[{"result":1},{"result":2}]' });
    const failing = new BatchResults(1, 100);
    failing.record(0, { ok: false, message: 'no' });
    assert.equal((await concludeBatch(failing, 1000, dir, 't')).state, 'TASK_FAILED');
    assert.deepEqual(await readdir(dir), [], 'no file when the results fit');
  });

  it('concludes with a file when the results are over the data limit, the message and data naming it', async () => {
    const dir = await sandbox();
    const results = new BatchResults(3, 1000);
    for (let i = 0; i < 3; i++) results.record(i, i === 1 ? { ok: false, message: 'bad' } : { ok: true, json: json('r'.repeat(20)) });
    const end = await concludeBatch(results, 40, dir, 'big');
    assert.equal(end.state, 'TASK_FAILED');
    const pointer = JSON.parse(text(end.data)) as { resultsFile: string; bytes: number; items: number; failed: number };
    assert.equal(pointer.resultsFile, 'batch-results/big.ndjson');
    assert.deepEqual([pointer.items, pointer.failed], [3, 1]);
    assert.equal(end.message, `1 of 3 items failed: item 1: bad; results in the sandbox's batch-results/big.ndjson (${pointer.bytes} bytes of NDJSON, over the 40-byte limit of an update's data)`);
    const lines = (await readFile(join(dir, pointer.resultsFile), 'utf8')).trimEnd().split('\n').map((line) => JSON.parse(line) as unknown);
    assert.deepEqual(lines, [
      { index: 0, result: 'r'.repeat(20) },
      { index: 1, error: 'bad' },
      { index: 2, result: 'r'.repeat(20) },
    ]);
  });

  it('fails the task, saying why, when the file cannot be written', async () => {
    const dir = await sandbox();
    const results = new BatchResults(1, 1000);
    results.record(0, { ok: true, json: json('r'.repeat(50)) });
    const end = await concludeBatch(results, 10, join(dir, 'missing\0dir'), 't');
    assert.equal(end.state, 'TASK_FAILED');
    assert.equal(end.data, undefined);
    assert.match(end.message, /^1 items done; the results \(over 10 bytes, too large for the update\) could not be written to the sandbox: /);
  });
});

describe('runChunk (the worker side)', () => {
  const lookupOf =
    (job: Job): JobLookup =>
    (name) =>
      name === 'j' ? { ok: true, job } : { ok: false, failure: 'unknown-job', message: `unknown job "${name}"` };

  /** A chunk on a thread channel of its own (port1: the main thread's end). */
  function request(items: unknown[], first = 0): { port1: MessageChannel['port1']; req: Parameters<typeof runChunk>[0]; link: RunLink } {
    const { port1, port2 } = new MessageChannel();
    const link = new WorkerChannel(port2).open(1);
    return { port1, link, req: { kind: 'chunk', runId: 1, taskId: 't', job: 'j', first, items, maxResultBytes: 20, maxFrameworkMessageBytes: 100 } };
  }

  it('calls the job once per item, in order, each with its own index; an item error is that item\'s', async () => {
    const seen: Array<[unknown, number | undefined]> = [];
    const job: Job = (input, ctx) => {
      seen.push([input, ctx.batchIndex]);
      if (input === 'bad') throw new Error('bad input');
      if (input === 'big') return 'x'.repeat(100);
      return { got: input };
    };
    const { port1, req, link } = request([1, 'bad', 'big', 4], 10);
    const response = await runChunk(req, link, lookupOf(job));
    port1.close();
    assert.deepEqual(seen, [[1, 10], ['bad', 11], ['big', 12], [4, 13]]);
    assert.ok(response.ok);
    const shown = response.items.map((item) => (item.ok ? text(item.json) : `${item.failure}: ${item.message}`));
    assert.deepEqual(shown, ['{"got":1}', 'threw: bad input', 'result-too-large: result is at least 102 bytes of JSON, over the limit of 20 bytes', '{"got":4}']);
    assert.ok(response.elapsedMs >= 0);
  });

  it('stops before its next item once aborted: the rest never start', async () => {
    const seen: unknown[] = [];
    const { port1, req, link } = request([1, 2, 3]);
    const job: Job = async (input, ctx) => {
      seen.push(input);
      if (input === 1) {
        port1.postMessage({ type: 'abort', runId: 1, reason: 'killed' });
        // The abort is delivered on the thread's channel; the job sees it through its context.
        await new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve(), { once: true }));
      }
      return input;
    };
    // In a worker, piscina's port keeps the thread alive while the job waits (the channel does
    // not, on purpose); here a timer does.
    const alive = setInterval(() => {}, 60_000);
    const response = await runChunk(req, link, lookupOf(job)).finally(() => clearInterval(alive));
    port1.close();
    assert.deepEqual(seen, [1]);
    assert.ok(response.ok);
    assert.equal(response.items.length, 1);
  });

  it('runs nothing when the job cannot run here, and says "started" first', async () => {
    const { port1, req, link } = request([1]);
    const response = await runChunk({ ...req, job: 'other' }, link, lookupOf(() => 1));
    assert.deepEqual(response, { kind: 'chunk', ok: false, failure: 'unknown-job', message: 'unknown job "other"' });
    // What the worker posted is on the channel, before any result.
    assert.equal((receiveMessageOnPort(port1)?.message as { type: string } | undefined)?.type, 'started');
    port1.close();
  });
});
