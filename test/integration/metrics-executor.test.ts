// The metrics of a whole executor in this process: a REAL MesosExecutorDriver and PoolExecutor
// against the LocalAgent over loopback HTTP, served on /metrics, under agent faults that make
// the driver retry and replay updates. The counts stay exact: nothing is counted twice.
import { strict as assert } from 'node:assert';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { LocalAgent } from '../../src/agent/index.js';
import { MesosExecutorDriver } from '../../src/driver/driver.js';
import { parseExposition, sampleSum } from '../../src/metrics/exposition.js';
import * as N from '../../src/metrics/names.js';
import { createExecutorMetrics } from '../../src/metrics/registry.js';
import { startMetricsServer, type MetricsServer } from '../../src/metrics/server.js';
import { PoolExecutor } from '../../src/pool/index.js';
import { freePort } from '../helpers/prometheus.js';
import { waitFor } from '../helpers/wait.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

interface Rig {
  agent: LocalAgent;
  driver: MesosExecutorDriver;
  pool: PoolExecutor;
  server: MetricsServer;
  scrape(): Promise<(name: string, labels?: Record<string, string>) => number>;
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function rig(): Promise<Rig> {
  const agent = new LocalAgent({ subscriptionBackoffMaxMs: 50, frameworkInfo: { checkpoint: true } });
  await agent.start();
  cleanups.push(() => agent.stop());
  const pool = await PoolExecutor.create({ threads: 2 });
  cleanups.push(() => pool.destroy());
  const driver = new MesosExecutorDriver(pool, { env: agent.executorEnvironment(), subscribeRetryIntervalMs: 20, updateRetryIntervalMs: 20 });
  cleanups.push(async () => void (await driver.abort()));
  const { registry } = createExecutorMetrics({ driver, pool, registry: new Registry(), processMetrics: false });
  const server = await startMetricsServer({ registry, port: 0, cacheMs: 0 });
  cleanups.push(() => server.close());
  return {
    agent,
    driver,
    pool,
    server,
    async scrape() {
      const response = await fetch(server.url);
      assert.equal(response.status, 200);
      const samples = parseExposition(await response.text());
      return (name, labels) => sampleSum(samples, name, labels);
    },
  };
}

function launch(agent: LocalAgent, count: number, prefix: string, payload: object): void {
  for (let i = 1; i <= count; i++) agent.launchTask({ task_id: `${prefix}-${i}`, data: Buffer.from(JSON.stringify(payload)) });
}

describe('executor metrics over the wire', () => {
  it('counts exactly, though the agent answers 503 to UPDATEs (retries) and restarts (replays)', async () => {
    const r = await rig();
    await r.driver.start();
    await waitFor(() => r.agent.subscribed, { what: 'SUBSCRIBED' });
    let get = await r.scrape();
    assert.equal(get(N.CONNECTED), 1);
    assert.equal(get(N.SUBSCRIPTIONS_TOTAL), 1);

    // Retries: the first 6 UPDATEs are answered 503 and sent again.
    r.agent.respondStatus(503, 6, { calls: 'update' });
    launch(r.agent, 10, 'a', { job: 'noop' });
    launch(r.agent, 2, 'bad', { job: 'noSuchJob' });
    await waitFor(() => r.agent.counters.acksSent >= 32 && r.driver.unacknowledgedUpdates === 0, { what: 'every update acknowledged', timeoutMs: 10_000 });

    // Replays: the agent restarts while the driver holds unacknowledged updates (ACKs withheld).
    r.agent.withholdAcks(true);
    launch(r.agent, 5, 'b', { job: 'noop' });
    await waitFor(() => r.driver.unacknowledgedUpdates > 0 && ['b-1', 'b-5'].every((id) => r.agent.task(id)?.state === 'TASK_FINISHED'), { what: 'b tasks finished' });
    // The restart forgets the withheld ACKs; the agent acknowledges the replays from SUBSCRIBE.
    r.agent.withholdAcks(false);
    await r.agent.restart({ downMs: 50, recoverMs: 50 });
    await waitFor(() => r.driver.subscribed && r.driver.unacknowledgedUpdates === 0, {
      what: 'resubscribed and all acknowledged',
      timeoutMs: 10_000,
    }).catch((error: unknown) => {
      throw new Error(`${String(error)}: subscribed ${r.driver.subscribed}, unacked ${r.driver.unacknowledgedUpdates}, agent ${r.agent.phase} ${JSON.stringify(r.agent.counters)}`);
    });

    get = await r.scrape();
    assert.equal(get(N.STATUS_UPDATES_TOTAL, { state: 'TASK_FINISHED' }), 15, 'one per finished task, whatever the retries and replays');
    assert.equal(get(N.STATUS_UPDATES_TOTAL, { state: 'TASK_STARTING' }), 15);
    assert.equal(get(N.STATUS_UPDATES_TOTAL, { state: 'TASK_RUNNING' }), 15);
    assert.equal(get(N.STATUS_UPDATES_TOTAL, { state: 'TASK_ERROR' }), 2);
    assert.equal(get(N.STATUS_UPDATES_TOTAL), 47);
    assert.equal(get(N.TASKS_LAUNCHED_TOTAL), 17);
    assert.equal(get(`${N.UPDATE_ACK_LATENCY_SECONDS}_count`), 47, 'each update acknowledged once');
    assert.ok(r.agent.counters.updatesReplayed > 0 && r.agent.counters.duplicates > 0, 'the restart really replayed updates');
    assert.equal(get(N.SUBSCRIPTIONS_TOTAL), 2);
    assert.equal(get(N.DISCONNECTIONS_TOTAL), 1);
    assert.equal(get(N.CONNECTED), 1);
    assert.equal(get(N.UNACKNOWLEDGED_UPDATES), 0);
    assert.equal(get(N.EVENTS_RECEIVED_TOTAL, { type: 'LAUNCH' }), 17);
    assert.equal(get(N.EVENTS_RECEIVED_TOTAL, { type: 'SUBSCRIBED' }), 2);
    assert.equal(get(`${N.CALLBACK_DURATION_SECONDS}_count`, { callback: 'launchTask' }), 17);
    assert.equal(get(`${N.CALLBACK_DURATION_SECONDS}_count`, { callback: 'registered' }), 1);
    assert.equal(get(`${N.CALLBACK_DURATION_SECONDS}_count`, { callback: 'reregistered' }), 1);
    assert.equal(get(`${N.TASK_DURATION_SECONDS}_count`, { job_name: 'noop' }), 15);
    const text = await (await fetch(r.server.url)).text();
    assert.ok(!text.includes('noSuchJob') && !/\b(a|b|bad)-\d+\b/.test(text), 'no unknown job, no task id');
  });

  it('an executor process whose metrics port is taken exits 2 with a clear message, before subscribing', async () => {
    const agent = new LocalAgent({});
    await agent.start();
    cleanups.push(() => agent.stop());
    const blocker = await startMetricsServer({ registry: new Registry(), port: await freePort() });
    cleanups.push(() => blocker.close());
    const handle = await agent.launchExecutor({ command: process.execPath, args: [MAIN, '--metrics-port', String(blocker.port), '--threads', '1'] });
    const exit = await handle.exited;
    assert.equal(exit.code, 2, handle.stderr);
    assert.match(handle.stderr, new RegExp(`metrics endpoint cannot listen on 127\\.0\\.0\\.1:${blocker.port}: EADDRINUSE \\[MPE_INVALID_OPTION\\]`));
    assert.equal(agent.counters.subscribes, 0);
  });
});
