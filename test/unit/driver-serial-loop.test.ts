import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { SerialLoop } from '../../src/driver/serial-loop.js';

function deferred(): { promise: Promise<void>; resolve: () => void; reject: (e: unknown) => void } {
  let resolve!: () => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('SerialLoop', () => {
  it('runs synchronous tasks inline, in order', () => {
    const seen: number[] = [];
    const loop = new SerialLoop();
    for (let i = 0; i < 5; i++) loop.enqueue({ name: 't', run: () => void seen.push(i) });
    assert.deepEqual(seen, [0, 1, 2, 3, 4]);
    assert.equal(loop.busy, false);
  });

  it('awaits a returned promise before starting the next task', async () => {
    const seen: string[] = [];
    const loop = new SerialLoop();
    const gate = deferred();
    loop.enqueue({
      name: 'slow',
      run: async () => {
        seen.push('slow:start');
        await gate.promise;
        seen.push('slow:end');
      },
    });
    loop.enqueue({ name: 'fast', run: () => void seen.push('fast') });
    assert.deepEqual(seen, ['slow:start']);
    assert.equal(loop.pending, 1);
    gate.resolve();
    await loop.idle();
    assert.deepEqual(seen, ['slow:start', 'slow:end', 'fast']);
  });

  it('reports a throwing task and a rejecting task, then goes on', async () => {
    const errors: Array<[string, unknown]> = [];
    const seen: string[] = [];
    const loop = new SerialLoop({ onError: (name, error) => errors.push([name, error]) });
    loop.enqueue({ name: 'throws', run: () => { throw new Error('boom'); } });
    loop.enqueue({ name: 'rejects', run: () => Promise.reject(new Error('later')) });
    loop.enqueue({ name: 'ok', run: () => void seen.push('ok') });
    await loop.idle();
    assert.deepEqual(errors.map(([n, e]) => [n, (e as Error).message]), [['throws', 'boom'], ['rejects', 'later']]);
    assert.deepEqual(seen, ['ok']);
  });

  it('measures durations including awaited time', async () => {
    const done: Array<[string, number]> = [];
    const loop = new SerialLoop({ onDone: (name, ms) => done.push([name, ms]) });
    const gate = deferred();
    loop.enqueue({ name: 'async', run: () => gate.promise });
    loop.enqueue({ name: 'sync', run: () => {} });
    assert.equal(done.length, 0);
    gate.resolve();
    await loop.idle();
    assert.deepEqual(done.map(([n]) => n), ['async', 'sync']);
    for (const [, ms] of done) assert.ok(ms >= 0);
  });

  it('queues a task enqueued from inside a running task after it (no re-entrancy)', () => {
    const seen: string[] = [];
    const loop = new SerialLoop();
    loop.enqueue({
      name: 'outer',
      run: () => {
        loop.enqueue({ name: 'inner', run: () => void seen.push('inner') });
        seen.push('outer');
      },
    });
    assert.deepEqual(seen, ['outer', 'inner']);
  });

  it('close() drops queued tasks and refuses new ones; the running one finishes', async () => {
    const seen: string[] = [];
    const loop = new SerialLoop();
    const gate = deferred();
    loop.enqueue({ name: 'running', run: async () => { await gate.promise; seen.push('running'); } });
    loop.enqueue({ name: 'queued', run: () => void seen.push('queued') });
    loop.close();
    loop.enqueue({ name: 'late', run: () => void seen.push('late') });
    gate.resolve();
    await loop.idle();
    assert.deepEqual(seen, ['running']);
  });

  it('closeWith() runs only the final task after the running one', async () => {
    const seen: string[] = [];
    const loop = new SerialLoop();
    const gate = deferred();
    loop.enqueue({ name: 'running', run: async () => { await gate.promise; seen.push('running'); } });
    loop.enqueue({ name: 'queued', run: () => void seen.push('queued') });
    loop.closeWith({ name: 'error', run: () => void seen.push('error') });
    loop.enqueue({ name: 'late', run: () => void seen.push('late') });
    gate.resolve();
    await loop.idle();
    assert.deepEqual(seen, ['running', 'error']);
  });

  it('keeps order over a long burst (queue compaction)', async () => {
    const seen: number[] = [];
    const loop = new SerialLoop();
    const gate = deferred();
    loop.enqueue({ name: 'gate', run: () => gate.promise });
    for (let i = 0; i < 5000; i++) loop.enqueue({ name: 'n', run: () => void seen.push(i) });
    gate.resolve();
    await loop.idle();
    assert.equal(seen.length, 5000);
    assert.ok(seen.every((v, i) => v === i));
  });
});
