// Each pool metric moves as its name says: first from the typed PoolExecutorEvents of a stand-in
// pool, then with a REAL PoolExecutor (worker threads) under the in-process stub driver.
import { strict as assert } from 'node:assert';
import { after, describe, it } from 'node:test';
import { EventEmitter } from 'eventemitter3';
import { Registry } from 'prom-client';
import { parseExposition, sampleSum } from '../../src/metrics/exposition.js';
import * as N from '../../src/metrics/names.js';
import { POOL_METRIC_NAMES, registerPoolMetrics } from '../../src/metrics/pool-metrics.js';
import type { PoolExecutorEvents } from '../../src/pool/events.js';
import { PoolExecutor } from '../../src/pool/index.js';
import { jobTask, task } from '../helpers/pool-tasks.js';
import { StubDriver } from '../helpers/stub-driver.js';
import { waitFor } from '../helpers/wait.js';

class FakePool extends EventEmitter<PoolExecutorEvents> {
  readonly jobs = ['noop', 'primes'];
  queued = 0;
  running = 0;
  busyThreads = 0;
  threads = 4;
}

async function read(registry: Registry): Promise<(name: string, labels?: Record<string, string>) => number> {
  const samples = parseExposition(await registry.metrics());
  return (name, labels) => sampleSum(samples, name, labels);
}

describe('pool metrics (typed events)', () => {
  it('registers every pool family with one series per registered job', async () => {
    const registry = new Registry();
    registerPoolMetrics(registry, new FakePool());
    assert.deepEqual(registry.getMetricsAsArray().map((m) => m.name).sort(), [...POOL_METRIC_NAMES].sort());
    const samples = parseExposition(await registry.metrics());
    const jobs = new Set(samples.filter((s) => s.name === `${N.TASK_DURATION_SECONDS}_count`).map((s) => s.labels.job_name));
    assert.deepEqual([...jobs].sort(), ['noop', 'primes']);
  });

  it('launched counts accepted and refused tasks; durations and queue waits observe by job', async () => {
    const registry = new Registry();
    const pool = new FakePool();
    registerPoolMetrics(registry, pool);
    pool.emit('taskAccepted', { taskId: 'a', job: 'primes' });
    pool.emit('taskRejected', { taskId: 'b', state: 'TASK_ERROR', message: 'unknown job "evil"' });
    pool.emit('taskStarted', { taskId: 'a', job: 'primes', queueWaitMs: 20 });
    pool.emit('taskEnded', { taskId: 'a', job: 'primes', state: 'TASK_FINISHED', durationMs: 1_500 });
    const get = await read(registry);
    assert.equal(get(N.TASKS_LAUNCHED_TOTAL), 2);
    assert.equal(get(`${N.TASK_QUEUE_WAIT_SECONDS}_count`, { job_name: 'primes' }), 1);
    assert.equal(get(`${N.TASK_QUEUE_WAIT_SECONDS}_bucket`, { job_name: 'primes', le: '0.025' }), 1);
    assert.equal(get(`${N.TASK_QUEUE_WAIT_SECONDS}_bucket`, { job_name: 'primes', le: '0.01' }), 0);
    assert.equal(get(`${N.TASK_DURATION_SECONDS}_sum`, { job_name: 'primes' }), 1.5);
    assert.equal(get(`${N.TASK_DURATION_SECONDS}_count`, { job_name: 'noop' }), 0);
  });

  it('tasks_ended_total counts ended tasks by job and terminal state, every pair at 0 first', async () => {
    const registry = new Registry();
    const pool = new FakePool();
    registerPoolMetrics(registry, pool);
    let samples = parseExposition(await registry.metrics()).filter((s) => s.name === N.TASKS_ENDED_TOTAL);
    assert.deepEqual(
      samples.map((s) => `${s.labels.job_name} ${s.labels.state} ${s.value}`),
      ['noop TASK_FINISHED 0', 'noop TASK_FAILED 0', 'noop TASK_KILLED 0', 'primes TASK_FINISHED 0', 'primes TASK_FAILED 0', 'primes TASK_KILLED 0'],
    );
    pool.emit('taskEnded', { taskId: 'a', job: 'primes', state: 'TASK_FINISHED', durationMs: 1 });
    pool.emit('taskEnded', { taskId: 'b', job: 'primes', state: 'TASK_FAILED', durationMs: 1 });
    pool.emit('taskEnded', { taskId: 'c', job: 'noop', state: 'TASK_KILLED', durationMs: 1 });
    pool.emit('taskEnded', { taskId: 'd', job: 'notRegistered', state: 'TASK_FAILED', durationMs: 1 });
    pool.emit('taskRejected', { taskId: 'e', state: 'TASK_ERROR', message: 'unknown job' });
    const get = await read(registry);
    assert.equal(get(N.TASKS_ENDED_TOTAL, { job_name: 'primes', state: 'TASK_FINISHED' }), 1);
    assert.equal(get(N.TASKS_ENDED_TOTAL, { job_name: 'primes', state: 'TASK_FAILED' }), 1);
    assert.equal(get(N.TASKS_ENDED_TOTAL, { job_name: 'noop', state: 'TASK_KILLED' }), 1);
    assert.equal(get(N.TASKS_ENDED_TOTAL), 3, 'neither an unregistered job nor a refused task is counted');
    samples = parseExposition(await registry.metrics()).filter((s) => s.name === N.TASKS_ENDED_TOTAL);
    assert.equal(samples.length, 6, 'no new series');
  });

  it('batch_items_total counts batch items by job and outcome, every pair at 0 first', async () => {
    const registry = new Registry();
    const pool = new FakePool();
    registerPoolMetrics(registry, pool);
    const series = parseExposition(await registry.metrics()).filter((s) => s.name === N.BATCH_ITEMS_TOTAL);
    assert.deepEqual(
      series.map((s) => `${s.labels.job_name} ${s.labels.outcome} ${s.value}`),
      ['noop succeeded 0', 'noop failed 0', 'noop not_run 0', 'primes succeeded 0', 'primes failed 0', 'primes not_run 0'],
    );
    pool.emit('batchItems', { taskId: 'a', job: 'primes', succeeded: 7, failed: 2, notRun: 0 });
    pool.emit('batchItems', { taskId: 'a', job: 'primes', succeeded: 3, failed: 0, notRun: 0 });
    pool.emit('batchItems', { taskId: 'b', job: 'noop', succeeded: 0, failed: 0, notRun: 40 });
    pool.emit('batchItems', { taskId: 'c', job: 'notRegistered', succeeded: 5, failed: 5, notRun: 5 });
    const get = await read(registry);
    assert.equal(get(N.BATCH_ITEMS_TOTAL, { job_name: 'primes', outcome: 'succeeded' }), 10);
    assert.equal(get(N.BATCH_ITEMS_TOTAL, { job_name: 'primes', outcome: 'failed' }), 2);
    assert.equal(get(N.BATCH_ITEMS_TOTAL, { job_name: 'noop', outcome: 'not_run' }), 40);
    assert.equal(get(N.BATCH_ITEMS_TOTAL), 52, 'an unregistered job is not counted');
  });

  it('a job outside the registered set never becomes a label value', async () => {
    const registry = new Registry();
    const pool = new FakePool();
    registerPoolMetrics(registry, pool);
    pool.emit('taskStarted', { taskId: 'x', job: 'notRegistered', queueWaitMs: 1 });
    pool.emit('taskEnded', { taskId: 'x', job: 'notRegistered', state: 'TASK_FINISHED', durationMs: 1 });
    const text = await registry.metrics();
    assert.ok(!text.includes('notRegistered'));
  });

  it('kill escalations and worker replacements by reason', async () => {
    const registry = new Registry();
    const pool = new FakePool();
    registerPoolMetrics(registry, pool);
    pool.emit('killEscalated', { taskId: 'a', job: 'noop' });
    for (const reason of ['kill', 'oom', 'oom', 'crash', 'exit'] as const) pool.emit('workerReplaced', { reason, taskId: 'a' });
    const get = await read(registry);
    assert.equal(get(N.KILL_ESCALATIONS_TOTAL), 1);
    assert.equal(get(N.WORKER_REPLACEMENTS_TOTAL, { reason: 'oom' }), 2);
    assert.equal(get(N.WORKER_REPLACEMENTS_TOTAL, { reason: 'kill' }), 1);
    assert.equal(get(N.WORKER_REPLACEMENTS_TOTAL), 5);
  });

  it('health checks by result, health-check kills by type, checks by result; every series exists at 0 first', async () => {
    const registry = new Registry();
    const pool = new FakePool();
    registerPoolMetrics(registry, pool);
    let get = await read(registry);
    for (const result of ['passed', 'failed', 'ignored']) assert.equal(get(N.HEALTH_CHECKS_TOTAL, { result }), 0, result);
    for (const type of ['COMMAND', 'HTTP', 'TCP']) assert.equal(get(N.HEALTH_CHECK_KILLS_TOTAL, { type }), 0, type);
    for (const result of ['completed', 'failed']) assert.equal(get(N.CHECKS_TOTAL, { result }), 0, result);
    for (const result of ['passed', 'passed', 'ignored', 'failed', 'failed'] as const) {
      pool.emit('healthCheck', { taskId: 't', job: 'noop', type: 'HTTP', result, durationMs: 3 });
    }
    pool.emit('healthCheckKill', { taskId: 't', job: 'noop', type: 'HTTP', consecutiveFailures: 2 });
    pool.emit('checkResult', { taskId: 'u', job: 'noop', type: 'TCP', result: 'completed', durationMs: 1 });
    pool.emit('checkResult', { taskId: 'u', job: 'noop', type: 'TCP', result: 'failed', durationMs: 1 });
    get = await read(registry);
    assert.deepEqual(['passed', 'failed', 'ignored'].map((result) => get(N.HEALTH_CHECKS_TOTAL, { result })), [2, 2, 1]);
    assert.deepEqual(['COMMAND', 'HTTP', 'TCP'].map((type) => get(N.HEALTH_CHECK_KILLS_TOTAL, { type })), [0, 1, 0]);
    assert.deepEqual(['completed', 'failed'].map((result) => get(N.CHECKS_TOTAL, { result })), [1, 1]);
  });

  it('queued, running, threads and utilization read the pool at scrape time', async () => {
    const registry = new Registry();
    const pool = new FakePool();
    registerPoolMetrics(registry, pool);
    pool.queued = 5;
    pool.running = 3;
    pool.busyThreads = 3;
    let get = await read(registry);
    assert.equal(get(N.TASKS_QUEUED), 5);
    assert.equal(get(N.TASKS_RUNNING), 3);
    assert.equal(get(N.POOL_THREADS), 4);
    assert.equal(get(N.POOL_UTILIZATION_RATIO), 0.75);
    // One batch task whose chunks hold every thread: one task running, the pool fully used.
    pool.running = 1;
    pool.busyThreads = 4;
    get = await read(registry);
    assert.deepEqual([get(N.TASKS_RUNNING), get(N.POOL_UTILIZATION_RATIO)], [1, 1]);
    pool.running = 0;
    pool.busyThreads = 0;
    get = await read(registry);
    assert.equal(get(N.POOL_UTILIZATION_RATIO), 0);
  });
});

describe('pool metrics (a real PoolExecutor)', () => {
  const FAULTS = new URL('../fixtures/jobs/faults.js', import.meta.url);
  const live: PoolExecutor[] = [];
  after(async () => {
    await Promise.all(live.map((e) => e.destroy()));
  });

  async function start() {
    const executor = await PoolExecutor.create({ threads: 2, jobs: [FAULTS] });
    live.push(executor);
    const driver = new StubDriver();
    executor.registered(driver, { executor_id: { value: 'e1' } }, { user: 'u', name: 'f' }, { hostname: 'h' });
    const registry = new Registry();
    registerPoolMetrics(registry, executor);
    return { executor, driver, registry };
  }

  it('counts what the executor did: finished, failed, refused; no label for an unknown job', async () => {
    const { executor, driver, registry } = await start();
    executor.launchTask(driver, jobTask('ok-1', 'noop'));
    executor.launchTask(driver, jobTask('ok-2', 'noop'));
    executor.launchTask(driver, jobTask('bad-1', 'fail', { message: 'no' }));
    executor.launchTask(driver, jobTask('unknown-1', 'primes2'));
    executor.launchTask(driver, task('garbage-1', 'not json'));
    await waitFor(() => ['ok-1', 'ok-2', 'bad-1', 'unknown-1', 'garbage-1'].every((id) => driver.terminal(id) !== undefined), { what: 'all terminal' });
    const text = await registry.metrics();
    assert.ok(!text.includes('primes2'), 'the unknown job made no series');
    assert.ok(!/ok-1|bad-1|unknown-1/.test(text), 'no task id anywhere');
    const get = await read(registry);
    assert.equal(get(N.TASKS_LAUNCHED_TOTAL), 5);
    assert.equal(get(`${N.TASK_DURATION_SECONDS}_count`, { job_name: 'noop' }), 2);
    assert.equal(get(`${N.TASK_DURATION_SECONDS}_count`, { job_name: 'fail' }), 1);
    assert.equal(get(`${N.TASK_DURATION_SECONDS}_count`), 3, 'refused tasks have no duration');
    assert.equal(get(`${N.TASK_QUEUE_WAIT_SECONDS}_count`), 3);
    assert.equal(get(N.TASKS_ENDED_TOTAL, { job_name: 'noop', state: 'TASK_FINISHED' }), 2);
    assert.equal(get(N.TASKS_ENDED_TOTAL, { job_name: 'fail', state: 'TASK_FAILED' }), 1);
    assert.equal(get(N.TASKS_ENDED_TOTAL), 3);
    assert.equal(get(N.TASKS_QUEUED), 0);
    assert.equal(get(N.TASKS_RUNNING), 0);
    assert.equal(get(N.POOL_THREADS), 2);
  });

  it('a real failing COMMAND health check: failures counted, one kill of type COMMAND', async () => {
    const { executor, driver, registry } = await start();
    const t = jobTask('unhealthy', 'sleep', { ms: 30_000 }, { killGraceMs: 100 });
    t.health_check = { type: 'COMMAND', command: { value: 'exit 1' }, delay_seconds: 0, interval_seconds: 0.02, grace_period_seconds: 0, consecutive_failures: 2 };
    executor.launchTask(driver, t);
    const end = await waitFor(() => driver.terminal('unhealthy'), { what: 'the health-check kill', timeoutMs: 10_000 });
    assert.deepEqual([end.state, end.healthy], ['TASK_KILLED', false]);
    const get = await read(registry);
    assert.equal(get(N.HEALTH_CHECKS_TOTAL, { result: 'failed' }), 2);
    assert.equal(get(N.HEALTH_CHECK_KILLS_TOTAL, { type: 'COMMAND' }), 1);
  });

  it('queued and running show a busy pool; a kill of a job ignoring its signal escalates', async () => {
    const { executor, driver, registry } = await start();
    executor.launchTask(driver, jobTask('h-1', 'hang', undefined, { killGraceMs: 50 }));
    executor.launchTask(driver, jobTask('s-1', 'sleep', { ms: 5_000 }));
    executor.launchTask(driver, jobTask('s-2', 'sleep', { ms: 5_000 }));
    await waitFor(() => driver.states('h-1').includes('TASK_RUNNING') && driver.states('s-1').includes('TASK_RUNNING'), { what: 'two running' });
    let get = await read(registry);
    assert.equal(get(N.TASKS_RUNNING), 2);
    assert.equal(get(N.TASKS_QUEUED), 1);
    assert.equal(get(N.POOL_UTILIZATION_RATIO), 1);
    executor.killTask(driver, { value: 'h-1' });
    executor.killTask(driver, { value: 's-2' });
    executor.killTask(driver, { value: 's-1' });
    await waitFor(() => ['h-1', 's-1', 's-2'].every((id) => driver.terminal(id)?.state === 'TASK_KILLED'), { what: 'all killed', timeoutMs: 10_000 });
    get = await read(registry);
    assert.equal(get(N.KILL_ESCALATIONS_TOTAL), 1, 'only the job that ignored its signal');
    assert.equal(get(N.WORKER_REPLACEMENTS_TOTAL, { reason: 'kill' }), 1);
    assert.equal(get(N.TASKS_RUNNING), 0);
    assert.equal(get(N.TASKS_QUEUED), 0);
  });
});
