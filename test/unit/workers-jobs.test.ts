// The worker side without threads: result encoding, the job registry, built-in jobs' inputs.
import { strict as assert } from 'node:assert';
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { describe, it } from 'node:test';
import type { JobContext } from '../../workers/job.js';
import { WorkerChannel } from '../../workers/channel.js';
import { createTaskContext } from '../../workers/context.js';
import type { WorkerToMain } from '../../workers/protocol.js';
import * as builtins from '../../workers/jobs/index.js';
import { addModuleJobs, BUILTIN_SOURCE, JobRegistryError, loadJobRegistry, type RegisteredJob } from '../../workers/registry.js';
import { encodeJson } from '../../workers/result.js';
import { memoryBucketMb } from '../../src/pool/worker-pool.js';
import { waitFor } from '../helpers/wait.js';

function fakeContext(): { ctx: JobContext; controller: AbortController; progress: Array<[string, unknown]> } {
  const controller = new AbortController();
  const progress: Array<[string, unknown]> = [];
  const ctx: JobContext = {
    taskId: 't',
    signal: controller.signal,
    get aborted() {
      return controller.signal.aborted;
    },
    throwIfAborted: () => controller.signal.throwIfAborted(),
    progress: (message, data) => progress.push([message, data]),
    sendFrameworkMessage: () => {},
    spawn: () => {
      throw new Error('no spawn in this fake');
    },
  };
  return { ctx, controller, progress };
}

describe('encodeJson', () => {
  const text = (r: ReturnType<typeof encodeJson>): string => (r.ok ? Buffer.from(r.json).toString() : `!${r.failure}: ${r.message}`);
  it('encodes values, undefined as null', () => {
    assert.equal(text(encodeJson({ a: [1, 'é'] }, 100)), '{"a":[1,"é"]}');
    assert.equal(text(encodeJson(undefined, 100)), 'null');
    assert.equal(text(encodeJson(null, 100)), 'null');
  });
  it('refuses values without a JSON form', () => {
    assert.equal(text(encodeJson(() => 1, 100)), '!result-not-json: result is not JSON-serialisable: a function has no JSON form');
    assert.equal(text(encodeJson(Symbol('s'), 100)), '!result-not-json: result is not JSON-serialisable: a symbol has no JSON form');
    assert.match(text(encodeJson({ n: 1n }, 100)), /^!result-not-json: result is not JSON-serialisable: .*BigInt/);
    const cycle: Record<string, unknown> = {};
    cycle['self'] = cycle;
    assert.match(text(encodeJson(cycle, 100)), /^!result-not-json: result is not JSON-serialisable: .*circular/i);
  });
  it('refuses JSON over the limit, counting UTF-8 bytes', () => {
    assert.equal(text(encodeJson('é'.repeat(5), 12)), '"ééééé"');
    assert.equal(text(encodeJson('é'.repeat(6), 12)), '!result-too-large: result is 14 bytes of JSON, over the limit of 12 bytes');
    assert.equal(text(encodeJson('xx', 3, 'progress data')), '!result-too-large: progress data is 4 bytes of JSON, over the limit of 3 bytes');
  });
});

describe('job registry', () => {
  const job = (): null => null;
  it('takes every named function export of a module without a default-exported object', () => {
    const registry = new Map<string, RegisteredJob>();
    assert.equal(addModuleJobs(registry, { a: job, b: job, notAJob: 42 }, 'm1'), 2);
    assert.deepEqual([...registry.keys()], ['a', 'b']);
  });
  it('takes only the functions of a default-exported object when there is one: named exports are helpers', () => {
    const registry = new Map<string, RegisteredJob>();
    assert.equal(addModuleJobs(registry, { helper: job, default: { c: job, d: 'x', e: job } }, 'm1'), 2);
    assert.deepEqual([...registry.keys()], ['c', 'e']);
  });
  it('with names (module#a,b) takes exactly those, from named exports or the default object', () => {
    const registry = new Map<string, RegisteredJob>();
    assert.equal(addModuleJobs(registry, { a: job, helper: job, default: { c: job, d: job } }, 'm1', ['a', 'c']), 2);
    assert.deepEqual([...registry.keys()], ['a', 'c']);
    assert.throws(() => addModuleJobs(new Map(), { a: job, n: 42 }, 'm2', ['n']), {
      name: 'JobRegistryError',
      message: 'job module m2 has no job function "n" (named in #n)',
    });
    assert.throws(() => addModuleJobs(new Map(), { a: job }, 'm2', ['default']), /has no job function "default"/);
  });
  it('refuses names already taken, listing each with both sources', () => {
    const registry = new Map<string, RegisteredJob>();
    addModuleJobs(registry, { a: job }, 'm1');
    assert.throws(() => addModuleJobs(registry, { a: job }, 'm2'), { name: 'JobRegistryError', message: 'job "a" is exported by both m1 and m2 (rename them)' });
    assert.equal(registry.size, 1, 'nothing of a refused module is registered');
    const withBuiltins = new Map<string, RegisteredJob>();
    addModuleJobs(withBuiltins, builtins, BUILTIN_SOURCE);
    assert.throws(() => addModuleJobs(withBuiltins, { default: { spin: job, mine: job, sleep: job } }, 'file:///jobs.js'), {
      message: 'jobs "spin", "sleep" are exported by both built-in jobs and file:///jobs.js (rename them, or drop the built-ins: --no-builtin-jobs, builtinJobs: false)',
    });
    assert.equal(withBuiltins.has('mine'), false);
  });
  it('refuses a module with no jobs, and names that are not job names', () => {
    assert.throws(() => addModuleJobs(new Map(), { x: 1 }, 'm'), { message: 'job module m exports no job functions' });
    assert.throws(() => addModuleJobs(new Map(), { default: { '../x': job } }, 'm'), /export "..\/x" is not a valid job name/);
  });
  it('the built-in jobs are the ones of DESIGN.md', async () => {
    const registry = await loadJobRegistry([], builtins);
    assert.deepEqual([...registry.keys()].sort(), ['fail', 'noop', 'primes', 'progress', 'sha256', 'sleep', 'spin']);
  });
  it('a module URL\'s fragment names the exports to register', async () => {
    const declared = new URL('../fixtures/jobs/declared.js', import.meta.url).href;
    assert.deepEqual([...(await loadJobRegistry([declared], undefined)).keys()], ['shout']);
    assert.deepEqual([...(await loadJobRegistry([`${declared}#extra,shout`], undefined)).keys()], ['extra', 'shout']);
  });
  it('a module that fails to load is a clear error', async () => {
    await assert.rejects(loadJobRegistry(['file:///nonexistent/jobs.js'], undefined), (error: unknown) => {
      assert.ok(error instanceof JobRegistryError);
      assert.match(error.message, /^job module file:\/\/\/nonexistent\/jobs.js failed to load: /);
      return true;
    });
  });
});

describe('built-in jobs', () => {
  it('validate their input with exact messages', () => {
    const { ctx } = fakeContext();
    assert.throws(() => builtins.primes({ limit: -1 }, ctx), { name: 'JobInputError', message: 'primes: input.limit must be an integer from 0 to 10000000, got -1' });
    assert.throws(() => builtins.primes({ limit: 1.5 }, ctx), /got 1.5$/);
    assert.throws(() => builtins.primes({ limit: '10' }, ctx), /got "10"$/);
    assert.throws(() => builtins.primes([1], ctx), { message: 'primes: input must be an object, got [1]' });
    assert.throws(() => builtins.spin({}, ctx), { message: 'spin: input.ms must be an integer from 0 to 600000, got nothing' });
    assert.throws(() => builtins.sha256({ bytes: 1, rounds: 0 }, ctx), /sha256: input.rounds must be an integer from 1 to/);
    assert.throws(() => builtins.fail({ message: 3 }), { message: 'fail: input.message must be a string, got 3' });
    // Only own properties count: a polluted prototype is not an input.
    const sneaky = Object.create({ limit: 5 }) as object;
    assert.deepEqual(builtins.primes(sneaky, ctx), { limit: 100_000, count: 9_592 });
  });

  it('compute what they say', async () => {
    const { ctx, progress } = fakeContext();
    assert.equal(builtins.noop(), null);
    assert.deepEqual(builtins.primes({ limit: 100 }, ctx), { limit: 100, count: 25 });
    assert.deepEqual(builtins.primes({ limit: 2 }, ctx), { limit: 2, count: 0 });
    assert.deepEqual(builtins.primes({ limit: 3 }, ctx), { limit: 3, count: 1 });
    const sha = builtins.sha256({ bytes: 3, rounds: 1 }, ctx);
    assert.equal(sha.digest, '9834876dcfb05cb167a5c24953eba58c4ac89b1adf57f28f2f9d09af107ee8f0'); // sha256("aaa")
    assert.throws(() => builtins.fail({ message: 'on purpose' }), { message: 'on purpose' });
    assert.throws(() => builtins.fail(undefined), { message: 'failed on purpose' });
    assert.ok(builtins.spin({ ms: 5 }, ctx).ms >= 5);
    assert.deepEqual(await builtins.sleep({ ms: 1 }, ctx), { ms: 1 });
    assert.deepEqual(await builtins.progress({ steps: 3, ms: 0 }, ctx), { steps: 3 });
    assert.deepEqual(progress, [['step 1/3', { step: 1, steps: 3 }], ['step 2/3', { step: 2, steps: 3 }], ['step 3/3', { step: 3, steps: 3 }]]);
  });

  it('stop when their task is killed', async () => {
    const { ctx, controller } = fakeContext();
    controller.abort(new DOMException('killed', 'AbortError'));
    assert.throws(() => builtins.spin({ ms: 60_000 }, ctx), { name: 'AbortError' });
    assert.throws(() => builtins.primes({ limit: 10_000_000 }, ctx), { name: 'AbortError' });
    assert.throws(() => builtins.sha256({ bytes: 10, rounds: 10_000_000 }, ctx), { name: 'AbortError' });
    await assert.rejects(builtins.sleep({ ms: 60_000 }, ctx), { name: 'AbortError' });
  });
});

describe('task context', () => {
  it('sees an abort sent on its channel even while the job never yields', () => {
    const { port1, port2 } = new MessageChannel();
    const link = new WorkerChannel(port2).open(1);
    const task = createTaskContext('t', link, 1024);
    try {
      assert.equal(task.ctx.aborted, false);
      port1.postMessage({ type: 'abort', runId: 1, reason: 'killed on request' });
      // No await in between: the 'message' event cannot have run; polling must find it.
      assert.equal(task.ctx.aborted, true);
      assert.equal(task.ctx.signal.aborted, true);
      assert.throws(() => task.ctx.throwIfAborted(), { name: 'AbortError', message: 'killed on request' });
    } finally {
      task.close();
      port1.close();
    }
  });

  it('refuses progress data without a JSON form, and posts nothing after close', async () => {
    const { port1, port2 } = new MessageChannel();
    const link = new WorkerChannel(port2).open(7);
    const task = createTaskContext('t', link, 1024);
    const received: WorkerToMain[] = [];
    port1.on('message', (m: WorkerToMain) => received.push(m));
    assert.throws(() => task.ctx.progress('x', { n: 1n }), /ctx.progress: progress data is not JSON-serialisable/);
    task.ctx.progress('one', { n: 1 });
    task.ctx.sendFrameworkMessage('hi');
    task.close();
    task.ctx.progress('after close');
    await new Promise((resolve) => setImmediate(resolve));
    port1.close();
    assert.deepEqual(received.map((m) => [m.type, m.runId]), [['progress', 7], ['frameworkMessage', 7]]);
  });
});

describe("a worker thread's channel", () => {
  /** The main thread's end and a worker's channel, in one thread (the channel is just two ports). */
  function channel(): { main: MessagePort; worker: WorkerChannel; received: WorkerToMain[] } {
    const { port1, port2 } = new MessageChannel();
    const received: WorkerToMain[] = [];
    port1.on('message', (m: WorkerToMain) => received.push(m));
    return { main: port1, worker: new WorkerChannel(port2), received };
  }
  const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

  it('carries a run\'s messages in the order posted, its result after its last progress', async () => {
    const { main, worker, received } = channel();
    try {
      const link = worker.open(1);
      link.post({ type: 'started', runId: 1, threadId: 0 });
      for (let i = 0; i < 50; i++) link.post({ type: 'progress', runId: 1, message: `p${i}` });
      link.post({ type: 'result', runId: 1, response: { kind: 'result', ok: true, json: new Uint8Array([49]) } });
      link.close();
      link.post({ type: 'progress', runId: 1, message: 'after the end' });
      await waitFor(() => received.length >= 52, { what: 'the run\'s messages' });
      await settle();
      assert.deepEqual(received.map((m) => m.type), ['started', ...Array<string>(50).fill('progress'), 'result']);
      assert.deepEqual(received.filter((m) => m.type === 'progress').map((m) => (m as { message: string }).message), Array.from({ length: 50 }, (_, i) => `p${i}`));
    } finally {
      main.close();
    }
  });

  it('ignores an abort for a run that has already ended, and does not let it reach the next run', async () => {
    const { main, worker } = channel();
    try {
      const first = worker.open(1);
      first.close();
      main.postMessage({ type: 'abort', runId: 1, reason: 'too late' });
      await settle();
      const second = worker.open(2);
      let aborted: string | undefined;
      second.onAbort = (reason) => (aborted = reason);
      second.poll();
      await settle();
      assert.equal(second.abortReason, undefined);
      assert.equal(aborted, undefined);
      main.postMessage({ type: 'abort', runId: 2, reason: 'killed' });
      await waitFor(() => aborted !== undefined, { what: 'the abort of the current run' });
      assert.equal(second.abortReason, 'killed');
    } finally {
      main.close();
    }
  });

  it('remembers the abort of a run not begun yet, so that it never starts; drops those of runs it will never get', async () => {
    const { main, worker } = channel();
    try {
      // Run 3 is aborted on its way (the main thread told every thread); run 2 was another thread's.
      main.postMessage({ type: 'abort', runId: 2, reason: 'other thread' });
      main.postMessage({ type: 'abort', runId: 3, reason: 'killed before it started' });
      // No await: open() takes pending messages off the channel itself.
      const link = worker.open(3);
      assert.equal(link.abortReason, 'killed before it started');
      link.close();
      const later = worker.open(4);
      assert.equal(later.abortReason, undefined);
      later.close();
    } finally {
      main.close();
    }
  });
});

describe('memoryBucketMb', () => {
  it('rounds a task mem down to 4 buckets per doubling, at least 16 MB', () => {
    const buckets = new Set<number>();
    for (let mem = 64; mem < 124; mem++) buckets.add(memoryBucketMb(mem));
    assert.deepEqual([...buckets], [64, 80, 96, 112]);
    assert.deepEqual([1, 16, 17, 20, 31.9, 128, 200, 1000, 4096, 5000].map(memoryBucketMb), [16, 16, 16, 20, 28, 128, 192, 896, 4096, 4096]);
  });
});
