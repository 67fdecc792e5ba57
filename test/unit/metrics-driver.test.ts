// Each driver metric moves as its name says, fed by the typed DriverEvents of a stand-in driver
// (an eventemitter3 emitter with the same event map and getters: the far end of a narrow interface).
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { EventEmitter } from 'eventemitter3';
import { Registry } from 'prom-client';
import type { DriverEvents } from '../../src/driver/events.js';
import { HttpStatusError } from '../../src/errors.js';
import { DRIVER_METRIC_NAMES, registerDriverMetrics } from '../../src/metrics/driver-metrics.js';
import { parseExposition, sampleSum } from '../../src/metrics/exposition.js';
import * as N from '../../src/metrics/names.js';

class FakeDriver extends EventEmitter<DriverEvents> {
  subscribed = false;
  unacknowledgedUpdates = 0;
}

async function read(registry: Registry): Promise<(name: string, labels?: Record<string, string>) => number> {
  const samples = parseExposition(await registry.metrics());
  return (name, labels) => sampleSum(samples, name, labels);
}

function rig() {
  const registry = new Registry();
  const driver = new FakeDriver();
  const binding = registerDriverMetrics(registry, driver);
  return { registry, driver, binding };
}

const update = (state: string) => ({ taskId: 'task-secret-id', state: state as 'TASK_RUNNING', uuid: 'u' });

describe('driver metrics', () => {
  it('registers every driver family, all series at 0 before any event', async () => {
    const { registry } = rig();
    const names = registry.getMetricsAsArray().map((m) => m.name).sort();
    assert.deepEqual(names, [...DRIVER_METRIC_NAMES].sort());
    const get = await read(registry);
    assert.equal(get(N.STATUS_UPDATES_TOTAL, { state: 'TASK_FINISHED' }), 0);
    assert.equal(get(N.EVENTS_RECEIVED_TOTAL, { type: 'LAUNCH' }), 0);
    assert.equal(get(`${N.CALLBACK_DURATION_SECONDS}_count`, { callback: 'launchTask' }), 0);
    assert.equal(get(N.CONNECTED), 0);
  });

  it('status_updates_total counts each recorded update once, by state; retries and sends add nothing', async () => {
    const { registry, driver } = rig();
    for (const state of ['TASK_STARTING', 'TASK_RUNNING', 'TASK_FINISHED', 'TASK_FINISHED']) driver.emit('updateRecorded', update(state));
    driver.emit('updateRetry', { taskId: 't', uuid: 'u', status: 503 });
    driver.emit('updateSent', update('TASK_FINISHED'));
    driver.emit('updateRecorded', { taskId: 't', state: 99, uuid: 'u' });
    const get = await read(registry);
    assert.equal(get(N.STATUS_UPDATES_TOTAL, { state: 'TASK_STARTING' }), 1);
    assert.equal(get(N.STATUS_UPDATES_TOTAL, { state: 'TASK_RUNNING' }), 1);
    assert.equal(get(N.STATUS_UPDATES_TOTAL, { state: 'TASK_FINISHED' }), 2);
    assert.equal(get(N.STATUS_UPDATES_TOTAL), 4, 'a numeric (unknown) state is not a series');
  });

  it('update_ack_latency_seconds observes each acknowledgement in seconds', async () => {
    const { registry, driver } = rig();
    driver.emit('updateAcknowledged', { ...update('TASK_RUNNING'), latencyMs: 3 });
    driver.emit('updateAcknowledged', { ...update('TASK_FINISHED'), latencyMs: 2_000 });
    const get = await read(registry);
    assert.equal(get(`${N.UPDATE_ACK_LATENCY_SECONDS}_count`), 2);
    assert.ok(Math.abs(get(`${N.UPDATE_ACK_LATENCY_SECONDS}_sum`) - 2.003) < 1e-9);
    assert.equal(get(`${N.UPDATE_ACK_LATENCY_SECONDS}_bucket`, { le: '0.005' }), 1);
    assert.equal(get(`${N.UPDATE_ACK_LATENCY_SECONDS}_bucket`, { le: '2.5' }), 2);
  });

  it('subscriptions, disconnections and connected follow the connection', async () => {
    const { registry, driver } = rig();
    const subscribed = { executorInfo: { executor_id: { value: 'e' } }, frameworkInfo: { user: 'u', name: 'f' }, agentInfo: { hostname: 'h' }, containerId: undefined, carriedUpdates: 0, carriedTasks: 0 };
    driver.emit('subscribed', { ...subscribed, reconnected: false });
    driver.subscribed = true;
    let get = await read(registry);
    assert.equal(get(N.SUBSCRIPTIONS_TOTAL), 1);
    assert.equal(get(N.CONNECTED), 1);
    driver.subscribed = false;
    driver.emit('disconnected', { reason: 'stream-ended', message: 'gone' });
    get = await read(registry);
    assert.equal(get(N.DISCONNECTIONS_TOTAL), 1);
    assert.equal(get(N.CONNECTED), 0);
    driver.emit('subscribed', { ...subscribed, reconnected: true });
    driver.subscribed = true;
    get = await read(registry);
    assert.equal(get(N.SUBSCRIPTIONS_TOTAL), 2);
    assert.equal(get(N.CONNECTED), 1);
  });

  it('calls_refused_total counts refusals by call', async () => {
    const { registry, driver } = rig();
    const refused = (call: 'UPDATE' | 'SUBSCRIBE', status: number): void => {
      driver.emit('callRefused', { call, status, message: 'no', error: new HttpStatusError(status, '', 'no') });
    };
    refused('UPDATE', 400);
    refused('UPDATE', 413);
    refused('SUBSCRIBE', 401);
    const get = await read(registry);
    assert.equal(get(N.CALLS_REFUSED_TOTAL, { call: 'UPDATE' }), 2);
    assert.equal(get(N.CALLS_REFUSED_TOTAL, { call: 'SUBSCRIBE' }), 1);
    assert.equal(get(N.CALLS_REFUSED_TOTAL, { call: 'MESSAGE' }), 0);
  });

  it('unacknowledged_updates reads the driver at scrape time', async () => {
    const { registry, driver } = rig();
    driver.unacknowledgedUpdates = 7;
    assert.equal((await read(registry))(N.UNACKNOWLEDGED_UPDATES), 7);
    driver.unacknowledgedUpdates = 0;
    assert.equal((await read(registry))(N.UNACKNOWLEDGED_UPDATES), 0);
  });

  it('events_received_total counts by type; a type we do not know counts as UNKNOWN', async () => {
    const { registry, driver } = rig();
    for (const type of ['SUBSCRIBED', 'LAUNCH', 'LAUNCH', 'ACKNOWLEDGED', 'FUTURE_EVENT', 'UNKNOWN']) driver.emit('eventReceived', { type });
    const text = await registry.metrics();
    assert.ok(!text.includes('FUTURE_EVENT'));
    const get = await read(registry);
    assert.equal(get(N.EVENTS_RECEIVED_TOTAL, { type: 'LAUNCH' }), 2);
    assert.equal(get(N.EVENTS_RECEIVED_TOTAL, { type: 'UNKNOWN' }), 2);
    assert.equal(get(N.EVENTS_RECEIVED_TOTAL), 6);
  });

  it('callback_duration_seconds observes by callback name; other names are not series', async () => {
    const { registry, driver } = rig();
    driver.emit('callbackCompleted', { callback: 'launchTask', durationMs: 0.02 });
    driver.emit('callbackCompleted', { callback: 'launchTask', durationMs: 0.3 });
    driver.emit('callbackCompleted', { callback: 'shutdown', durationMs: 4_000 });
    driver.emit('callbackCompleted', { callback: 'somethingElse', durationMs: 1 });
    const text = await registry.metrics();
    assert.ok(!text.includes('somethingElse'));
    const get = await read(registry);
    const name = `${N.CALLBACK_DURATION_SECONDS}_bucket`;
    assert.equal(get(name, { callback: 'launchTask', le: '0.000025' }), 1, '20 µs');
    assert.equal(get(name, { callback: 'launchTask', le: '0.0005' }), 2, '300 µs');
    assert.equal(get(name, { callback: 'shutdown', le: '1' }), 0);
    assert.equal(get(name, { callback: 'shutdown', le: '10' }), 1);
    assert.equal(get(`${N.CALLBACK_DURATION_SECONDS}_count`), 3);
  });

  it('never prints a task id', async () => {
    const { registry, driver } = rig();
    driver.emit('updateRecorded', update('TASK_RUNNING'));
    driver.emit('updateAcknowledged', { ...update('TASK_RUNNING'), latencyMs: 1 });
    assert.ok(!(await registry.metrics()).includes('task-secret-id'));
  });

  it('close() removes the listeners and the families, so a new driver can be registered', async () => {
    const { registry, driver, binding } = rig();
    binding.close();
    binding.close();
    assert.equal(driver.eventNames().length, 0);
    assert.equal(registry.getMetricsAsArray().length, 0);
    const next = new FakeDriver();
    registerDriverMetrics(registry, next);
    next.emit('eventReceived', { type: 'LAUNCH' });
    assert.equal((await read(registry))(N.EVENTS_RECEIVED_TOTAL), 1);
  });
});
