// Batch tasks in a PoolExecutor with REAL worker threads against the in-process stub driver:
// what the events count, the per-item result bound, and a batch's end on kill and shutdown.
import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { PoolExecutor, type PoolExecutorEvents } from '../../src/pool/index.js';
import { isTerminalState } from '../../src/proto/types.js';
import { StubDriver } from '../helpers/stub-driver.js';
import { killPolicy, task } from '../helpers/pool-tasks.js';
import { waitFor } from '../helpers/wait.js';

const FAULTS = new URL('../fixtures/jobs/faults.js', import.meta.url);
const BATCH = new URL('../fixtures/jobs/batch.js', import.meta.url);

const live = new Set<PoolExecutor>();
// Whatever a test's batch writes goes here, never into the working directory.
const sandbox = mkdtempSync(join(tmpdir(), 'mpe-batch-pool-'));
after(async () => {
  await Promise.all([...live].map((e) => e.destroy()));
  rmSync(sandbox, { recursive: true, force: true });
});

type ItemsInfo = Parameters<PoolExecutorEvents['batchItems']>[0];

async function start(options: { maxResultBytes?: number; threads?: number } = {}): Promise<{ executor: PoolExecutor; driver: StubDriver; items: ItemsInfo[] }> {
  const executor = await PoolExecutor.create({ threads: 2, jobs: [FAULTS, BATCH], sandboxDirectory: sandbox, ...options });
  live.add(executor);
  const driver = new StubDriver();
  const items: ItemsInfo[] = [];
  executor.on('batchItems', (info) => items.push(info));
  executor.registered(driver, { executor_id: { value: 'e1' } }, { user: 'u', name: 'f' }, { hostname: 'h' });
  return { executor, driver, items };
}

const ended = (driver: StubDriver, id: string): Promise<NonNullable<ReturnType<StubDriver['terminal']>>> =>
  waitFor(() => driver.terminal(id), { what: `a terminal update for ${id}`, timeoutMs: 10_000 });
const sum = (items: ItemsInfo[], key: 'succeeded' | 'failed' | 'notRun'): number => items.reduce((total, info) => total + info[key], 0);
const text = (data: Uint8Array | undefined): string => Buffer.from(data ?? new Uint8Array()).toString('utf8');

describe('PoolExecutor: batch tasks', () => {
  it('counts every item once, as succeeded or failed, in batchItems events', async () => {
    const { executor, driver, items } = await start();
    const inputs = Array.from({ length: 40 }, (_, i) => (i % 10 === 3 ? { fail: `no ${i}` } : i));
    executor.launchTask(driver, task('count', { job: 'item', batch: inputs }, { cpus: 2 }));
    const end = await ended(driver, 'count');
    assert.equal(end.state, 'TASK_FAILED');
    assert.equal(end.message, '4 of 40 items failed: item 3: no 3; item 13: no 13; item 23: no 23; item 33: no 33');
    assert.deepEqual([sum(items, 'succeeded'), sum(items, 'failed'), sum(items, 'notRun')], [36, 4, 0]);
    assert.ok(items.every((info) => info.taskId === 'count' && info.job === 'item'));
  });

  it('is one running task however many of its chunks hold threads (busyThreads counts those)', async () => {
    const { executor, driver } = await start();
    executor.launchTask(driver, task('wide', { job: 'announce', batch: [null, null] }, { cpus: 2 }));
    await waitFor(() => executor.busyThreads === 2, { what: 'both items on a thread' });
    assert.deepEqual([executor.running, executor.queued, executor.tasks], [1, 0, 1]);
    executor.killTask(driver, { value: 'wide' });
    assert.equal((await ended(driver, 'wide')).state, 'TASK_KILLED');
    assert.deepEqual([executor.running, executor.busyThreads], [0, 0]);
  });

  it('holds each item\'s result to maxResultBytes, as a single task\'s: that item fails, saying so', async () => {
    const { executor, driver } = await start({ maxResultBytes: 200 });
    executor.launchTask(driver, task('bounded', { job: 'big', batch: [{ bytes: 50 }, { bytes: 500 }] }));
    const end = await ended(driver, 'bounded');
    assert.equal(end.state, 'TASK_FAILED');
    const results = JSON.parse(text(end.data)) as Array<{ result?: string; error?: string }>;
    assert.equal(results[0]?.result?.length, 48);
    assert.match(results[1]?.error ?? '', /^result is at least 500 bytes of JSON, over the limit of 200 bytes$/);
  });

  it('an item that takes its thread down fails its chunk\'s items, and the batch goes on', async () => {
    const { executor, driver, items } = await start();
    const replaced: unknown[] = [];
    executor.on('workerReplaced', (info) => replaced.push(info));
    executor.launchTask(driver, task('crashy', { job: 'exits', batch: [null, null, null] }, { cpus: 1 }));
    const end = await ended(driver, 'crashy');
    assert.equal(end.state, 'TASK_FAILED');
    // Chunks start at one item: each item was run (and crashed its thread) on its own.
    assert.match(end.message ?? '', /^3 of 3 items failed: item 0: .+; item 1: .+; item 2: .+$/);
    assert.equal(replaced.length, 3);
    assert.deepEqual([sum(items, 'succeeded'), sum(items, 'failed')], [0, 3]);
    executor.launchTask(driver, task('healed', { job: 'item', batch: [1] }));
    assert.equal((await ended(driver, 'healed')).state, 'TASK_FINISHED');
  });

  it('a failing batch in a group: its queued group member is killed and never starts', async () => {
    // Results to a file (over 16 bytes): the batch's end waits for the write, time enough for a
    // queued member dispatched meanwhile to start, which it must not.
    const { executor, driver } = await start({ threads: 1, maxResultBytes: 16 });
    executor.launchTaskGroup(driver, [task('gb', { job: 'item', batch: [1, { fail: 'no' }] }), task('gq', { job: 'item', input: 'queued' })]);
    assert.equal((await ended(driver, 'gb')).state, 'TASK_FAILED');
    assert.equal((await ended(driver, 'gq')).state, 'TASK_KILLED');
    assert.deepEqual(driver.states('gq'), ['TASK_STARTING', 'TASK_KILLED']);
  });

  it('a killed batch counts the items that had not ended as not run', async () => {
    const { executor, driver, items } = await start();
    executor.launchTask(driver, task('stop', { job: 'cooperative', batch: Array.from({ length: 10 }, () => ({ ms: 60_000 })) }, { cpus: 2 }));
    await waitFor(() => executor.busyThreads === 2 && driver.states('stop').includes('TASK_RUNNING'), { what: 'two items running' });
    executor.killTask(driver, { value: 'stop' }, killPolicy(5_000));
    const end = await ended(driver, 'stop');
    assert.equal(end.state, 'TASK_KILLED');
    assert.match(end.message ?? '', /^killed on request; /);
    assert.deepEqual([sum(items, 'succeeded'), sum(items, 'failed'), sum(items, 'notRun')], [0, 0, 10]);
    assert.equal(executor.busyThreads, 0, 'every chunk has settled');
  });

  it('a batch whose items ignore the kill has its threads terminated at the grace\'s end', async () => {
    const { executor, driver } = await start();
    executor.launchTask(driver, task('stuck', { job: 'hang', batch: [null, null, null] }, { cpus: 2 }));
    await waitFor(() => executor.busyThreads === 2 && driver.states('stuck').includes('TASK_RUNNING'), { what: 'two items running' });
    executor.killTask(driver, { value: 'stuck' }, killPolicy(0));
    const end = await ended(driver, 'stuck');
    assert.equal(end.state, 'TASK_KILLED');
    assert.match(end.message ?? '', /worker thread was terminated/);
    // The pool healed: a batch after it runs.
    executor.launchTask(driver, task('after', { job: 'item', batch: [1, 2] }));
    assert.equal((await ended(driver, 'after')).state, 'TASK_FINISHED');
  });

  it('shutdown kills a running batch and a queued one: TASK_KILLED each, nothing after', async () => {
    const { executor, driver } = await start();
    executor.launchTask(driver, task('running', { job: 'cooperative', batch: [{ ms: 60_000 }, { ms: 60_000 }] }, { cpus: 2 }));
    executor.launchTask(driver, task('queued', { job: 'item', batch: [1] }));
    await waitFor(() => driver.states('running').includes('TASK_RUNNING'), { what: 'the batch running' });
    executor.shutdown(driver);
    await executor.whenShutDown();
    assert.equal(driver.terminal('running')?.state, 'TASK_KILLED');
    assert.equal(driver.terminal('queued')?.state, 'TASK_KILLED');
    for (const id of ['running', 'queued']) {
      const states = driver.states(id);
      assert.equal(states.filter((s) => isTerminalState(s)).length, 1, `${id}: one terminal update`);
      assert.ok(isTerminalState(states[states.length - 1]!), `${id}: nothing after it`);
    }
  });
});
