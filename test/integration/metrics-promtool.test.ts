// `promtool check metrics` (Prometheus' own linter) on what the executor serves: clean for every
// mesos_executor_ family. prom-client's default metrics have lints of their own, filtered here.
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { EventEmitter } from 'eventemitter3';
import { Registry } from 'prom-client';
import type { DriverEvents } from '../../src/driver/events.js';
import { parseExposition } from '../../src/metrics/exposition.js';
import { EXECUTOR_METRIC_NAMES, METRIC_PREFIX } from '../../src/metrics/names.js';
import { createExecutorMetrics } from '../../src/metrics/registry.js';
import type { PoolExecutorEvents } from '../../src/pool/events.js';
import { missing, promtoolCheckMetrics } from '../helpers/prometheus.js';

/**
 * prom-client 15's default metrics that promtool flags, and why they are left alone: these three
 * are gauges (a count of live handles, requests and resources now) named `..._total` by
 * prom-client since long before promtool's rule; renaming them would break every Node.js dashboard
 * that uses them, and they are not ours. Any OTHER lint, on any family, fails the test.
 */
const ACCEPTED_DEFAULT_METRIC_LINTS = new Set([
  'nodejs_active_handles_total non-counter metrics should not have "_total" suffix',
  'nodejs_active_requests_total non-counter metrics should not have "_total" suffix',
  'nodejs_active_resources_total non-counter metrics should not have "_total" suffix',
]);

class FakeDriver extends EventEmitter<DriverEvents> {
  subscribed = true;
  unacknowledgedUpdates = 2;
}
class FakePool extends EventEmitter<PoolExecutorEvents> {
  readonly jobs = ['noop', 'primes', 'sleep'];
  queued = 3;
  running = 2;
  busyThreads = 2;
  threads = 2;
}

/** A registry with every family, each with observations, and the default metrics. */
async function populated(processMetrics: boolean): Promise<string> {
  const driver = new FakeDriver();
  const pool = new FakePool();
  const { registry } = createExecutorMetrics({ driver, pool, registry: new Registry(), processMetrics });
  pool.emit('taskAccepted', { taskId: 't', job: 'primes' });
  pool.emit('taskStarted', { taskId: 't', job: 'primes', queueWaitMs: 3 });
  pool.emit('taskEnded', { taskId: 't', job: 'primes', state: 'TASK_FINISHED', durationMs: 40 });
  pool.emit('killEscalated', { taskId: 't', job: 'sleep' });
  pool.emit('workerReplaced', { reason: 'oom' });
  driver.emit('updateRecorded', { taskId: 't', state: 'TASK_FINISHED', uuid: 'u' });
  driver.emit('updateAcknowledged', { taskId: 't', state: 'TASK_FINISHED', uuid: 'u', latencyMs: 2 });
  driver.emit('eventReceived', { type: 'LAUNCH' });
  driver.emit('callbackCompleted', { callback: 'launchTask', durationMs: 0.05 });
  driver.emit('disconnected', { reason: 'stream-ended', message: 'x' });
  return registry.metrics();
}

describe('promtool check metrics', () => {
  it('every mesos_executor_ family is present and lint-clean (promtool exits 0 on ours alone)', { skip: missing('promtool') }, async () => {
    const text = await populated(false);
    const families = new Set(parseExposition(text).map((s) => s.name.replace(/_(bucket|sum|count)$/, '')));
    for (const name of EXECUTOR_METRIC_NAMES) assert.ok(families.has(name), `${name} is exposed`);
    const result = promtoolCheckMetrics(text);
    assert.deepEqual(result.problems, [], result.problems.join('\n'));
    assert.equal(result.code, 0);
  });

  it('with prom-client default metrics: only the accepted default-metric lints, none about ours', { skip: missing('promtool') }, async () => {
    const text = await populated(true);
    assert.match(text, /^nodejs_eventloop_lag_p99_seconds /m, 'event-loop lag is exported');
    assert.match(text, /^process_cpu_seconds_total /m);
    const result = promtoolCheckMetrics(text);
    const ours = result.problems.filter((line) => line.includes(METRIC_PREFIX));
    assert.deepEqual(ours, []);
    const unexpected = result.problems.filter((line) => !ACCEPTED_DEFAULT_METRIC_LINTS.has(line));
    assert.deepEqual(unexpected, [], `lints beyond the accepted default-metric ones:\n${unexpected.join('\n')}`);
  });
});
