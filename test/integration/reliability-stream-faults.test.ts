// Stream and HTTP faults against the driver over real loopback HTTP, beyond the one-shot cases of
// driver.test.ts: repeated and combined under load, hostile length prefixes, silent streams with
// updates in flight, 503/404 storms, 4xx answers to UPDATE (what the outbox keeps, as the
// fault table of docs/driver.md says), an agent that never acknowledges (bounded outbox, bounded shutdown).
import { strict as assert } from 'node:assert';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { LocalAgent, type LocalAgentOptions } from '../../src/agent/index.js';
import type { MesosExecutorDriverOptions } from '../../src/driver/driver.js';
import { MesosExecutorError } from '../../src/errors.js';
import { Status } from '../../src/executor.js';
import { isTerminalState } from '../../src/proto/types.js';
import { driverRigs, type DriverRig } from '../helpers/driver-rig.js';
import { seededRandom } from '../helpers/fake-clock.js';
import type { RecordingExecutorOptions } from '../helpers/recording-executor.js';
import { crashDetector } from '../helpers/crash-detector.js';
import { waitFor } from '../helpers/wait.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

crashDetector();

interface Rig extends DriverRig {
  disconnects: string[];
}

const rigs = driverRigs();

async function rig(
  agentOptions: LocalAgentOptions = {},
  driverOptions: Partial<MesosExecutorDriverOptions> = {},
  executorOptions: RecordingExecutorOptions = {},
  start = true,
): Promise<Rig> {
  const r = await rigs.rig({
    agentOptions: { subscriptionBackoffMaxMs: 30, ...agentOptions },
    driverOptions: { subscribeRetryIntervalMs: 10, ...driverOptions },
    executorOptions,
  });
  const disconnects: string[] = [];
  r.driver.on('disconnected', ({ reason }) => disconnects.push(reason));
  if (start) {
    await r.driver.start();
    await waitFor(() => r.executor.names().includes('registered'), { what: 'registered' });
  }
  return { ...r, disconnects };
}

/** Every task: statuses RUNNING…, one terminal last; no uuid twice. */
function assertExactlyOnce(agent: LocalAgent, ids: readonly string[]): void {
  for (const id of ids) {
    const statuses = agent.task(id)?.statuses ?? [];
    const terminal = statuses.filter((s) => isTerminalState(s.state));
    assert.equal(terminal.length, 1, `${id}: ${statuses.map((s) => String(s.state)).join(',')}`);
    assert.ok(isTerminalState(statuses.at(-1)!.state), `${id}: terminal is last`);
    const uuids = statuses.map((s) => Buffer.from(s.uuid!).toString('hex'));
    assert.equal(new Set(uuids).size, uuids.length, `${id}: a uuid applied twice`);
  }
}

describe('stream faults, repeated and combined under load', () => {
  it('chaos: 300 tasks while garbage, truncated records, resets, silence, 503 storms and restarts hit at random', async () => {
    const r = await rig({ heartbeatIntervalMs: 30 }, { heartbeatIntervalMs: 30, livenessMultiplier: 4 });
    const rng = seededRandom(99);
    const ids: string[] = [];
    const progressSent = new Map<string, number>();
    let faults = 0;
    const kinds: Record<string, number> = {};
    const inject = async (): Promise<void> => {
      const kind = ['bad-length', 'bad-record', 'truncated', 'reset', 'end', 'silent', 'storm', 'restart', 'withhold'][Math.floor(rng() * 9)]!;
      kinds[kind] = (kinds[kind] ?? 0) + 1;
      faults++;
      switch (kind) {
        case 'bad-length':
        case 'bad-record':
          r.agent.sendGarbage(kind);
          break;
        case 'truncated':
          // A record cut off by the end of the stream.
          r.agent.sendGarbage(Buffer.from('500\n{"type":"HEARTBEAT"'));
          r.agent.dropStream(rng() < 0.5 ? 'end' : 'destroy');
          break;
        case 'reset':
          r.agent.dropStream('destroy');
          break;
        case 'end':
          r.agent.dropStream('end');
          break;
        case 'silent':
          r.agent.goSilent();
          break;
        case 'storm':
          r.agent.respondStatus(503, 5 + Math.floor(rng() * 20), { calls: rng() < 0.5 ? 'update' : 'all' });
          break;
        case 'restart':
          r.agent.withholdAcks(true);
          await r.agent.restart({ downMs: Math.floor(rng() * 150), recoverMs: Math.floor(rng() * 50), reregisterMs: 1000 + Math.floor(rng() * 50) });
          r.agent.withholdAcks(false, { deliver: rng() < 0.5 });
          break;
        case 'withhold':
          r.agent.withholdAcks(true);
          setTimeout(() => r.agent.withholdAcks(false, { deliver: true }), 30);
          break;
      }
    };
    for (let wave = 0; wave < 30; wave++) {
      await waitFor(() => r.agent.subscribed, { what: `subscribed before wave ${wave}`, timeoutMs: 10_000 });
      for (let i = 0; i < 10; i++) {
        const id = `c-${wave}-${i}`;
        ids.push(id);
        r.agent.launchTask({ task_id: id, data: Buffer.from('run') });
      }
      // The "jobs": progress and ends for running tasks, whatever the connection is doing.
      for (const id of [...r.executor.running]) {
        const n = progressSent.get(id) ?? 0;
        if (n < 2 && rng() < 0.7) {
          r.driver.sendStatusUpdate({ task_id: { value: id }, state: 'TASK_RUNNING', message: `progress ${n}` });
          progressSent.set(id, n + 1);
        } else {
          r.executor.running.delete(id);
          r.driver.sendStatusUpdate({ task_id: { value: id }, state: rng() < 0.8 ? 'TASK_FINISHED' : 'TASK_FAILED' });
        }
      }
      await inject();
      await new Promise((resolve) => setImmediate(resolve));
    }
    r.agent.withholdAcks(false, { deliver: true });
    r.agent.clearFaults();
    await waitFor(() => r.agent.subscribed, { what: 'subscribed at the end', timeoutMs: 10_000 });
    // Tasks whose LAUNCH died with a stream are LOST (agent-made, never seen by the executor);
    // every other one is ended by the "jobs".
    let lastDrop = 0;
    const ended = (): boolean => {
      for (const id of [...r.executor.running]) {
        r.executor.running.delete(id);
        r.driver.sendStatusUpdate({ task_id: { value: id }, state: 'TASK_FINISHED' });
      }
      if (ids.every((id) => isTerminalState(r.agent.task(id)?.state ?? 'TASK_STAGING'))) return true;
      // A task whose LAUNCH was lost stays STAGING until the next SUBSCRIBE settles it.
      if (r.agent.subscribed && performance.now() - lastDrop > 300) {
        lastDrop = performance.now();
        r.agent.dropStream('end');
      }
      return false;
    };
    await waitFor(ended, { what: 'every task to end', timeoutMs: 20_000, intervalMs: 50 });
    await waitFor(() => r.driver.unacknowledgedUpdates === 0, { what: 'every update acknowledged', timeoutMs: 10_000 });
    assertExactlyOnce(r.agent, ids);
    const launched = new Set(r.executor.records.flatMap((x) => (x.callback === 'launchTask' ? [x.task.task_id.value] : [])));
    for (const id of ids) {
      const last = r.agent.task(id)!.statuses.at(-1)!;
      if (last.source === 'SOURCE_AGENT') {
        assert.equal(last.state, 'TASK_LOST', id);
        assert.ok(!launched.has(id), `${id}: LOST by the agent but the executor had it`);
      } else {
        assert.ok(launched.has(id), id);
      }
    }
    assert.equal(r.driver.status, Status.DRIVER_RUNNING);
    assert.equal(r.agent.counters.dropped, 0, 'nothing sent after a terminal update');
    assert.ok(r.disconnects.length >= faults / 3, `${r.disconnects.length} disconnections for ${faults} faults ${JSON.stringify(kinds)}`);
    assert.ok(r.disconnects.includes('framing-error') && r.disconnects.includes('decode-error'), JSON.stringify(r.disconnects));
  });

  it('a hostile length prefix is refused at once, without allocating it', async () => {
    const r = await rig();
    for (const prefix of ['99999999999999999999\n', '67108865\n', '18446744073709551616\n', '00000000000000000000000000001\n']) {
      const before = process.memoryUsage().arrayBuffers;
      const subscribes = r.agent.counters.subscribes;
      const lost = new Promise<{ reason: string; message: string }>((resolve) => r.driver.once('disconnected', resolve));
      // Only the prefix: a decoder that waited for (or allocated) the body would hang here.
      r.agent.sendGarbage(Buffer.from(prefix));
      const info = await lost;
      assert.equal(info.reason, 'framing-error', prefix);
      assert.match(info.message, /larger than the maximum|more than 20 digits/, prefix);
      assert.ok(process.memoryUsage().arrayBuffers - before < 16 * 1024 * 1024, 'no large buffer was allocated');
      await waitFor(() => r.agent.counters.subscribes > subscribes && r.agent.subscribed, { what: 'resubscribed' });
    }
  });

  it('maxEventBytes bounds what the driver buffers: a record over it is a disconnection', async () => {
    const r = await rig({}, { maxEventBytes: 1024 });
    const lost = new Promise<{ reason: string }>((resolve) => r.driver.once('disconnected', resolve));
    r.agent.sendFrameworkMessage(Buffer.alloc(2000, 1));
    assert.equal((await lost).reason, 'framing-error');
    await waitFor(() => r.executor.names().includes('reregistered'), { what: 'reregistered' });
    assert.ok(!r.executor.names().includes('frameworkMessage'));
  });

  it('a silent half-open stream with updates in flight: the watchdog fires, the updates ride on the resubscribe', async () => {
    const r = await rig({ heartbeatIntervalMs: 30 }, { heartbeatIntervalMs: 30, livenessMultiplier: 3 });
    await waitFor(() => r.agent.counters.heartbeatsSent >= 1, { what: 'a heartbeat' });
    for (let round = 0; round < 3; round++) {
      const ids = Array.from({ length: 20 }, (_, i) => `silent-${round}-${i}`);
      for (const id of ids) r.agent.launchTask({ task_id: id, data: Buffer.from('run') });
      await waitFor(() => ids.every((id) => r.agent.task(id)?.state === 'TASK_RUNNING'), { what: 'running' });
      const fired = r.disconnects.filter((d) => d === 'heartbeat-timeout').length;
      r.agent.goSilent(); // ACKs from now on are lost in the silent stream
      for (const id of ids) r.driver.sendStatusUpdate({ task_id: { value: id }, state: 'TASK_FINISHED' });
      await waitFor(() => r.disconnects.filter((d) => d === 'heartbeat-timeout').length === fired + 1, { what: `watchdog ${round}` });
      await waitFor(() => r.driver.unacknowledgedUpdates === 0, { what: `acknowledged after resubscribe ${round}` });
      assertExactlyOnce(r.agent, ids);
    }
  });

  it('a 503 storm on UPDATE under load: every update arrives once, in order per task', async () => {
    const r = await rig();
    r.agent.respondStatus(503, 200, { calls: 'update' });
    const ids = Array.from({ length: 100 }, (_, i) => `storm-${i}`);
    for (const id of ids) r.agent.launchTask({ task_id: id, data: Buffer.from('run') });
    await waitFor(() => r.executor.running.size === ids.length, { what: 'launched' });
    for (const id of ids) {
      r.driver.sendStatusUpdate({ task_id: { value: id }, state: 'TASK_RUNNING', message: 'p1' });
      r.driver.sendStatusUpdate({ task_id: { value: id }, state: 'TASK_FINISHED' });
    }
    await waitFor(() => r.driver.unacknowledgedUpdates === 0, { what: 'all acknowledged through the storm', timeoutMs: 20_000 });
    for (const id of ids) {
      const seq = r.agent.task(id)!.statuses.map((s) => `${String(s.state)}${s.message === undefined ? '' : ':' + s.message}`);
      assert.deepEqual(seq, ['TASK_RUNNING', 'TASK_RUNNING:p1', 'TASK_FINISHED'], id);
    }
    assert.equal(r.agent.counters.duplicates, 0, 'a 503 means not received: nothing to deduplicate');
  });

  it('a 503 storm on SUBSCRIBE after a disconnection, then a 404 storm at start-up: retried until served', async () => {
    const r = await rig();
    r.agent.respondStatus(503, 25, { calls: 'subscribe' });
    r.agent.dropStream('end');
    await waitFor(() => r.executor.names().includes('reregistered'), { what: 'reregistered through the storm', timeoutMs: 10_000 });
    const statuses = r.agent.calls.filter((c) => c.type === 'SUBSCRIBE').map((c) => c.status);
    assert.equal(statuses.filter((s) => s === 503).length, 25);

    for (const checkpoint of [true, false]) {
      const s = await rig({ frameworkInfo: { checkpoint } }, {}, {}, false);
      s.agent.respondStatus(404, 20, { calls: 'all' });
      await s.driver.start();
      await waitFor(() => s.executor.names().includes('registered'), { what: `registered after 404s (checkpoint ${checkpoint})`, timeoutMs: 10_000 });
      assert.equal(s.agent.calls.filter((c) => c.status === 404).length, 20);
    }
  });
});

describe('refused answers to UPDATE: one task affected at most (the fault table of docs/driver.md)', () => {
  for (const [status, body] of [
    [400, 'Failed to validate Executor::Call: Not a valid UUID'],
    [401, ''],
    [403, 'Authenticated principal does not contain claims'],
    [413, ''],
    [415, ''],
    [500, 'Internal Server Error'],
    [502, ''],
  ] as const) {
    it(`${status} under load: not fatal; the refused task still ends once (a minimal replacement), every other task exactly once`, async () => {
      const r = await rig();
      const ids = Array.from({ length: 20 }, (_, i) => `u${status}-${i}`);
      for (const id of ids) r.agent.launchTask({ task_id: id, data: Buffer.from('run') });
      await waitFor(() => r.executor.running.size === ids.length && r.driver.unacknowledgedUpdates === 0, { what: 'launched and acknowledged' });
      const refused: Array<{ taskId: string; replaced: boolean }> = [];
      r.driver.on('updateRefused', (info) => refused.push(info));
      r.agent.respondStatus(status, 1, { calls: 'update', ...(body !== '' ? { body } : {}) });
      for (const id of ids) r.driver.sendStatusUpdate({ task_id: { value: id }, state: 'TASK_FINISHED', data: Buffer.from(`result ${id}`) });
      await waitFor(() => r.driver.unacknowledgedUpdates === 0 && refused.length === 1, { what: 'all acknowledged', timeoutMs: 10_000 });
      assert.equal(r.driver.status, Status.DRIVER_RUNNING);
      assert.ok(!r.executor.names().includes('error'), 'error is for fatal faults only');
      assertExactlyOnce(r.agent, ids);
      assert.ok(ids.every((id) => r.agent.task(id)?.state === 'TASK_FINISHED'));
      const victim = refused[0]!;
      assert.equal(victim.replaced, true);
      const last = r.agent.task(victim.taskId)!.statuses.at(-1)!;
      assert.equal(last.data, undefined, 'the replacement carries none of the refused data');
      assert.match(String(last.message), new RegExp(`refused: agent answered ${status}`));
    });
  }

  it('403 "Executor is not subscribed" to UPDATEs under load: a disconnection; every update delivered after the resubscribe', async () => {
    const r = await rig();
    const ids = Array.from({ length: 30 }, (_, i) => `ns-${i}`);
    for (const id of ids) r.agent.launchTask({ task_id: id, data: Buffer.from('run') });
    await waitFor(() => r.executor.running.size === ids.length, { what: 'launched' });
    r.agent.respondStatus(403, 5, { calls: 'update', body: 'Executor is not subscribed' });
    for (const id of ids) r.driver.sendStatusUpdate({ task_id: { value: id }, state: 'TASK_FINISHED' });
    await waitFor(() => r.disconnects.includes('not-subscribed'), { what: 'a not-subscribed disconnection' });
    await waitFor(() => r.driver.unacknowledgedUpdates === 0, { what: 'all acknowledged', timeoutMs: 10_000 });
    assertExactlyOnce(r.agent, ids);
    assert.equal(r.driver.status, Status.DRIVER_RUNNING);
  });
});

describe('an agent that never acknowledges', () => {
  it('the outbox is bounded by count: MPE_OUTBOX_FULL past maxUnacknowledgedUpdates; accepts again once ACKs come', async () => {
    const r = await rig({}, { maxUnacknowledgedUpdates: 50 });
    r.agent.withholdAcks(true);
    r.agent.launchTask({ task_id: 'full', data: Buffer.from('run') });
    await waitFor(() => r.executor.running.has('full'), { what: 'launched' });
    let recorded = r.driver.unacknowledgedUpdates;
    let refused: unknown;
    for (let i = 0; i < 60 && refused === undefined; i++) {
      try {
        r.driver.sendStatusUpdate({ task_id: { value: 'full' }, state: 'TASK_RUNNING', message: `p${i}` });
        recorded++;
      } catch (error) {
        refused = error;
      }
    }
    assert.ok(refused instanceof MesosExecutorError && refused.code === 'MPE_OUTBOX_FULL', String(refused));
    assert.equal(recorded, 50);
    assert.equal(r.driver.unacknowledgedUpdates, 50);
    assert.equal(r.driver.status, Status.DRIVER_RUNNING, 'a full outbox is not fatal');
    r.agent.withholdAcks(false, { deliver: true });
    await waitFor(() => r.driver.unacknowledgedUpdates === 0, { what: 'drained' });
    r.driver.sendStatusUpdate({ task_id: { value: 'full' }, state: 'TASK_FINISHED' });
    await waitFor(() => r.agent.task('full')?.state === 'TASK_FINISHED', { what: 'finished after the drain' });
  });

  it('the outbox is bounded by bytes too (status data)', async () => {
    const r = await rig({}, { maxUnacknowledgedBytes: 10_000 });
    r.agent.withholdAcks(true);
    r.agent.launchTask({ task_id: 'bytes', data: Buffer.from('x') });
    await waitFor(() => r.executor.names().includes('launchTask'), { what: 'launched' });
    const send = (): Status => r.driver.sendStatusUpdate({ task_id: { value: 'bytes' }, state: 'TASK_RUNNING', data: Buffer.alloc(3000) });
    send();
    send();
    send();
    assert.throws(send, { code: 'MPE_OUTBOX_FULL' });
  });

  it('SHUTDOWN with no ACK ever: the executor process kills its tasks and exits within the grace period', async () => {
    const agent = new LocalAgent({ shutdownGracePeriodMs: 2000 });
    await agent.start();
    try {
      const handle = await agent.launchExecutor({ command: process.execPath, args: [MAIN, '--threads', '2', '--log-level', 'info'] });
      await waitFor(() => agent.subscribed || !handle.alive, { what: 'subscribed', timeoutMs: 15_000 });
      agent.withholdAcks(true);
      for (let i = 0; i < 10; i++) agent.launchTask({ task_id: `nack-${i}`, data: Buffer.from('{"job":"sleep","input":{"ms":60000}}') });
      await waitFor(() => agent.task('nack-9')?.state === 'TASK_STARTING', { what: 'accepted' });
      const t0 = performance.now();
      const exit = await agent.shutdownExecutor();
      const took = performance.now() - t0;
      assert.ok(took < 2000, `exited ${took.toFixed(0)} ms after SHUTDOWN, within the 2 s grace (not killed by the agent)`);
      assert.notEqual(exit?.signal, 'SIGKILL');
      assert.match(handle.stderr, /not every status update was acknowledged in time/);
      // The terminal updates reached the agent (202) even though they were never acknowledged.
      for (let i = 0; i < 10; i++) assert.equal(agent.task(`nack-${i}`)?.state, 'TASK_KILLED');
      assert.ok(agent.counters.acksWithheld >= 20);
    } finally {
      await agent.stop();
    }
  });
});
