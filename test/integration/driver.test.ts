// The driver against the LocalAgent over real loopback HTTP, in both encodings: the two sides
// share only the codec, so a protocol bug on either side shows up here.
import { strict as assert } from 'node:assert';
import { request as httpRequest } from 'node:http';
import { after, describe, it } from 'node:test';
import { LocalAgent, type LocalAgentOptions } from '../../src/agent/index.js';
import { MesosExecutorDriver, type MesosExecutorDriverOptions } from '../../src/driver/driver.js';
import { Status } from '../../src/executor.js';
import type { ContentType } from '../../src/protocol/codec.js';
import { driverRigs, type DriverRig } from '../helpers/driver-rig.js';
import { RecordingExecutor, type RecordingExecutorOptions } from '../helpers/recording-executor.js';
import { waitFor } from '../helpers/wait.js';

const ENCODINGS: ContentType[] = ['application/x-protobuf', 'application/json'];

const rigs = driverRigs();
type Rig = DriverRig;

function rig(
  contentType: ContentType,
  agentOptions: LocalAgentOptions = {},
  driverOptions: Partial<MesosExecutorDriverOptions> = {},
  executorOptions: RecordingExecutorOptions = {},
): Promise<Rig> {
  return rigs.rig({ agentOptions, driverOptions: { contentType, ...driverOptions }, executorOptions });
}

async function subscribed(r: Rig): Promise<void> {
  await r.driver.start();
  await waitFor(() => r.executor.names().includes('registered'), { what: 'registered' });
}

after(() => {
  assert.equal(rigs.open.length, 0);
});

for (const contentType of ENCODINGS) {
  const short = contentType === 'application/json' ? 'json' : 'protobuf';

  describe(`driver ↔ LocalAgent (${short})`, () => {
    it('subscribes and calls registered with the SUBSCRIBED infos', async () => {
      const r = await rig(contentType);
      await subscribed(r);
      const reg = r.executor.records[0];
      assert.equal(reg?.callback, 'registered');
      if (reg?.callback !== 'registered') return;
      assert.equal(reg.executorInfo.executor_id.value, r.agent.executorId);
      assert.equal(reg.frameworkInfo.id?.value, r.agent.frameworkId);
      assert.equal(reg.agentInfo.id?.value, r.agent.agentId);
      assert.equal(r.driver.status, Status.DRIVER_RUNNING);
      assert.equal(r.agent.calls.at(-1)?.contentType, contentType);
    });

    it('launches a task: updates are accepted in order and every one is acknowledged', async () => {
      const r = await rig(contentType);
      await subscribed(r);
      r.agent.launchTask({ task_id: 't1', data: Buffer.from('finish') });
      await waitFor(() => r.agent.task('t1')?.state === 'TASK_FINISHED', { what: 'TASK_FINISHED' });
      await waitFor(() => r.driver.unacknowledgedUpdates === 0, { what: 'all updates acknowledged' });
      const states = r.agent.task('t1')!.statuses.map((s) => s.state);
      assert.deepEqual(states, ['TASK_RUNNING', 'TASK_FINISHED']);
      const finished = r.agent.task('t1')!.statuses[1]!;
      assert.equal(Buffer.from(finished.data!).toString(), 'done t1');
      assert.equal(finished.source, 'SOURCE_EXECUTOR');
      assert.equal(finished.executor_id?.value, r.agent.executorId);
      assert.equal(finished.uuid?.byteLength, 16);
      assert.equal((finished.uuid![6]! & 0xf0) >> 4, 4, 'uuid is RFC 4122 version 4');
      assert.equal(r.driver.unacknowledgedTasks, 0);
    });

    it('kills a task with the KILL event kill policy', async () => {
      const r = await rig(contentType);
      await subscribed(r);
      r.agent.launchTask({ task_id: 'k1', data: Buffer.from('run') });
      await waitFor(() => r.agent.task('k1')?.state === 'TASK_RUNNING', { what: 'TASK_RUNNING' });
      r.agent.killTask('k1', { grace_period: { nanoseconds: 500_000_000 } });
      await waitFor(() => r.agent.task('k1')?.state === 'TASK_KILLED', { what: 'TASK_KILLED' });
      const kill = r.executor.records.find((x) => x.callback === 'killTask');
      assert.ok(kill !== undefined && kill.callback === 'killTask');
      assert.equal(kill.taskId.value, 'k1');
      assert.equal(Number(kill.killPolicy?.grace_period?.nanoseconds), 500_000_000);
    });

    it('carries framework messages both ways (binary data intact)', async () => {
      const r = await rig(contentType);
      await subscribed(r);
      const got: Uint8Array[] = [];
      r.agent.on('frameworkMessage', (data: Uint8Array) => got.push(data));
      const payload = Buffer.from([0, 1, 0xff, 0x80, 0x41]);
      r.agent.sendFrameworkMessage(payload);
      await waitFor(() => got.length === 1, { what: 'the echoed message' });
      const rec = r.executor.records.find((x) => x.callback === 'frameworkMessage');
      assert.ok(rec?.callback === 'frameworkMessage');
      assert.deepEqual(Buffer.from(rec.data), payload);
      assert.deepEqual(Buffer.from(got[0]!), Buffer.concat([Buffer.from('echo:'), payload]));
    });

    it('survives an agent restart with unacknowledged updates: resubscribes, nothing lost, nothing duplicated', async () => {
      const r = await rig(contentType);
      await subscribed(r);
      r.agent.launchTask({ task_id: 'r1', data: Buffer.from('run') });
      await waitFor(() => r.agent.task('r1')?.state === 'TASK_RUNNING', { what: 'TASK_RUNNING' });
      await waitFor(() => r.driver.unacknowledgedUpdates === 0, { what: 'RUNNING acknowledged' });
      // The agent swallows ACKs, then restarts: the updates made meanwhile and the ones made
      // while it is down must all arrive exactly once.
      r.agent.withholdAcks(true);
      r.driver.sendStatusUpdate({ task_id: { value: 'r1' }, state: 'TASK_RUNNING', message: 'progress 1' });
      await waitFor(() => r.agent.task('r1')?.acceptedCount === 2, { what: 'progress 1 accepted' });
      assert.equal(r.driver.unacknowledgedUpdates, 1);
      r.agent.withholdAcks(false); // the withheld ACK is lost, as with a crashed agent
      const restarted = r.agent.restart({ downMs: 150, recoverMs: 100 });
      await waitFor(() => r.executor.names().includes('disconnected'), { what: 'disconnected' });
      r.driver.sendStatusUpdate({ task_id: { value: 'r1' }, state: 'TASK_RUNNING', message: 'progress 2' });
      r.driver.sendStatusUpdate({ task_id: { value: 'r1' }, state: 'TASK_FINISHED', message: 'done' });
      await restarted;
      await waitFor(() => r.executor.names().includes('reregistered'), { what: 'reregistered', timeoutMs: 10_000 });
      await waitFor(() => r.driver.unacknowledgedUpdates === 0, { what: 'all acknowledged after restart' });
      const messages = r.agent.task('r1')!.statuses.map((s) => `${String(s.state)}:${s.message ?? ''}`);
      assert.deepEqual(messages, ['TASK_RUNNING:', 'TASK_RUNNING:progress 1', 'TASK_RUNNING:progress 2', 'TASK_FINISHED:done']);
      assert.ok(r.agent.counters.duplicates >= 1, 'the withheld update was replayed and deduplicated');
      const resub = r.agent.calls.filter((c) => c.type === 'SUBSCRIBE' && c.status === 200).at(-1)!;
      assert.equal(resub.call?.subscribe?.unacknowledged_updates?.length, 3);
      assert.deepEqual(r.executor.names().slice(0, 3), ['registered', 'launchTask', 'disconnected']);
      // reregistered gets the FrameworkInfo of the new SUBSCRIBED (capabilities are re-read).
      const rereg = r.executor.records.find((rec) => rec.callback === 'reregistered');
      assert.ok(rereg?.callback === 'reregistered' && rereg.frameworkInfo?.name === r.driver.frameworkInfo?.name && rereg.frameworkInfo !== undefined);
    });

    it('lists launched-but-unacknowledged tasks on resubscribe, so the agent does not mark them LOST', async () => {
      const r = await rig(contentType);
      await subscribed(r);
      r.agent.withholdAcks(true);
      r.agent.launchTask({ task_id: 'u1', data: Buffer.from('run') });
      await waitFor(() => r.agent.task('u1')?.state === 'TASK_RUNNING', { what: 'TASK_RUNNING' });
      assert.equal(r.driver.unacknowledgedTasks, 1);
      r.agent.withholdAcks(false); // the withheld ACK is lost, as with a crashed agent
      await r.agent.restart({ downMs: 50 });
      await waitFor(() => r.executor.names().includes('reregistered'), { what: 'reregistered', timeoutMs: 10_000 });
      const resub = r.agent.calls.filter((c) => c.type === 'SUBSCRIBE' && c.status === 200).at(-1)!;
      assert.deepEqual(resub.call?.subscribe?.unacknowledged_tasks?.map((t) => t.task_id.value), ['u1']);
      await waitFor(() => r.driver.unacknowledgedTasks === 0, { what: 'task acknowledged' });
      assert.equal(r.agent.task('u1')?.state, 'TASK_RUNNING');
    });

    it('retries SUBSCRIBE on 503 and 404, then subscribes', async () => {
      const r = await rig(contentType);
      r.agent.respondStatus(404, 1, { calls: 'subscribe' });
      r.agent.respondStatus(503, 2, { calls: 'subscribe' });
      await subscribed(r);
      const statuses = r.agent.calls.filter((c) => c.type === 'SUBSCRIBE').map((c) => c.status);
      assert.deepEqual(statuses, [404, 503, 503, 200]);
    });

    it('retries an UPDATE answered 503 without reordering the task\'s updates', async () => {
      const r = await rig(contentType);
      await subscribed(r);
      r.agent.respondStatus(503, 1, { calls: 'update' });
      r.agent.launchTask({ task_id: 'o1', data: Buffer.from('finish') });
      await waitFor(() => r.agent.task('o1')?.state === 'TASK_FINISHED', { what: 'TASK_FINISHED' });
      assert.deepEqual(r.agent.task('o1')!.statuses.map((s) => s.state), ['TASK_RUNNING', 'TASK_FINISHED']);
      const updates = r.agent.calls.filter((c) => c.type === 'UPDATE').map((c) => c.status);
      assert.deepEqual(updates, [503, 202, 202]);
    });

    it('an ERROR event aborts the driver, then calls error, and nothing after it', async () => {
      const r = await rig(contentType);
      await subscribed(r);
      r.agent.sendError('Framework unknown');
      r.agent.launchTask({ task_id: 'after-error', data: Buffer.from('finish') });
      assert.equal(await r.driver.join(), Status.DRIVER_ABORTED);
      await waitFor(() => r.executor.names().includes('error'), { what: 'error callback' });
      const err = r.executor.records.at(-1);
      assert.ok(err?.callback === 'error');
      assert.equal(err.message, 'Framework unknown');
      assert.ok(!r.executor.names().includes('launchTask'));
    });

    it('a garbage record on the stream is a disconnection; with checkpointing it resubscribes', async () => {
      const r = await rig(contentType);
      await subscribed(r);
      const disconnected = new Promise<string>((resolve) => r.driver.once('disconnected', (i) => resolve(i.reason)));
      r.agent.sendGarbage('bad-length');
      assert.equal(await disconnected, 'framing-error');
      await waitFor(() => r.executor.names().includes('reregistered'), { what: 'reregistered' });
    });

    it('an undecodable record is a disconnection too', async () => {
      const r = await rig(contentType);
      await subscribed(r);
      const disconnected = new Promise<string>((resolve) => r.driver.once('disconnected', (i) => resolve(i.reason)));
      r.agent.sendGarbage('bad-record');
      assert.equal(await disconnected, 'decode-error');
      await waitFor(() => r.executor.names().includes('reregistered'), { what: 'reregistered' });
    });

    it('heartbeats arm the liveness watchdog; a silent stream is then a disconnection', async () => {
      const r = await rig(contentType, { heartbeatIntervalMs: 40 }, { heartbeatIntervalMs: 40, livenessMultiplier: 3 });
      let heartbeats = 0;
      r.driver.on('heartbeat', () => heartbeats++);
      await subscribed(r);
      await waitFor(() => heartbeats >= 2, { what: 'two heartbeats' });
      const disconnected = new Promise<string>((resolve) => r.driver.once('disconnected', (i) => resolve(i.reason)));
      r.agent.goSilent();
      assert.equal(await disconnected, 'heartbeat-timeout');
      await waitFor(() => r.executor.names().includes('reregistered'), { what: 'reregistered after the half-open stream' });
    });

    it('a slow asynchronous callback does not reorder events', async () => {
      const r = await rig(contentType, {}, {}, { launchDelayMs: 30 });
      await subscribed(r);
      r.agent.launchTask({ task_id: 'a', data: Buffer.from('x') });
      r.agent.killTask('a');
      r.agent.launchTask({ task_id: 'b', data: Buffer.from('x') });
      r.agent.sendFrameworkMessage(Buffer.from('m'));
      await waitFor(() => r.executor.records.length >= 5, { what: 'four callbacks after registered' });
      assert.deepEqual(r.executor.names(), ['registered', 'launchTask', 'killTask', 'launchTask', 'frameworkMessage']);
    });

    it('SHUTDOWN: the executor kills its tasks, waits for the acknowledgements and stops', async () => {
      const r = await rig(contentType);
      await subscribed(r);
      r.agent.launchTask({ task_id: 's1', data: Buffer.from('run') });
      await waitFor(() => r.agent.task('s1')?.state === 'TASK_RUNNING', { what: 'TASK_RUNNING' });
      void r.agent.shutdownExecutor();
      assert.equal(await r.driver.join(), Status.DRIVER_STOPPED);
      assert.equal(r.agent.task('s1')?.state, 'TASK_KILLED');
      assert.equal(r.agent.counters.acksSent, r.agent.counters.accepted);
    });
  });
}

describe('driver ↔ LocalAgent: checkpointing and authentication', () => {
  it('without checkpointing, a lost connection means shutdown', async () => {
    const r = await rig('application/x-protobuf', { frameworkInfo: { checkpoint: false } });
    assert.equal(r.driver.environment.checkpoint, false);
    await subscribed(r);
    r.agent.dropStream();
    assert.equal(await r.driver.join(), Status.DRIVER_STOPPED);
    assert.deepEqual(r.executor.names(), ['registered', 'disconnected', 'shutdown']);
  });

  it('with checkpointing, gives up and shuts down after the recovery timeout', async () => {
    const r = await rig('application/x-protobuf', { recoveryTimeoutMs: 300, subscriptionBackoffMaxMs: 50 }, {}, { ackWaitMs: 50 });
    await subscribed(r);
    const shutdown = new Promise<{ injected: boolean; reason: string }>((resolve) => r.driver.once('shutdownRequested', resolve));
    void r.agent.restart({ downMs: 5000 });
    const info = await shutdown;
    assert.equal(info.injected, true);
    assert.match(info.reason, /recovery timeout/);
    assert.equal(await r.driver.join(), Status.DRIVER_STOPPED);
    assert.deepEqual(r.executor.names(), ['registered', 'disconnected', 'shutdown']);
  });

  it('talks to the agent over MESOS_DOMAIN_SOCKET when the agent gives one (PID path only there)', async () => {
    const r = await rig('application/x-protobuf', { domainSocket: true });
    const socket = r.agent.domainSocketPath!;
    assert.equal(r.driver.environment.endpoint.transport, 'unix');
    assert.equal(r.driver.environment.endpoint.url, `http+unix://${encodeURIComponent(socket)}/slave(1)/api/v1/executor`);
    await subscribed(r);
    r.agent.launchTask({ task_id: 'via-socket', data: Buffer.from('finish') });
    await waitFor(() => r.agent.task('via-socket')?.state === 'TASK_FINISHED', { what: 'TASK_FINISHED' });
    assert.ok(r.agent.calls.length >= 3);
    assert.ok(r.agent.calls.every((c) => c.transport === 'unix'), 'every call came over the socket');
    // The socket serves only the PID's paths, as upstream's does.
    const status = await new Promise<number | undefined>((resolve, reject) => {
      const req = httpRequest({ socketPath: socket, path: '/api/v1/executor', method: 'POST' }, (res) => {
        res.resume();
        resolve(res.statusCode);
      });
      req.on('error', reject);
      req.end();
    });
    assert.equal(status, 403);
  });

  it('sends the bearer token on every call, and never leaves it in the environment', async () => {
    const token = 'tok-' + 'x'.repeat(24);
    const agent = new LocalAgent({ authToken: token });
    await agent.start();
    const env: Record<string, string | undefined> = agent.executorEnvironment();
    assert.equal(env.MESOS_EXECUTOR_AUTHENTICATION_TOKEN, token);
    const executor = new RecordingExecutor();
    const driver = new MesosExecutorDriver(executor, { env, subscribeRetryIntervalMs: 20 });
    rigs.track({ agent, driver, executor });
    assert.equal(env.MESOS_EXECUTOR_AUTHENTICATION_TOKEN, undefined, 'erased once read');
    assert.ok(!JSON.stringify(driver.environment).includes(token));
    await driver.start();
    await waitFor(() => executor.names().includes('registered'), { what: 'registered' });
    agent.launchTask({ task_id: 'auth', data: Buffer.from('finish') });
    await waitFor(() => agent.task('auth')?.state === 'TASK_FINISHED', { what: 'TASK_FINISHED' });
    assert.ok(agent.calls.every((c) => c.status !== 401), 'no call was refused');
  });

  it('a 401 to SUBSCRIBE is not fatal: reported, and SUBSCRIBE is sent again every second, as upstream executors do', async () => {
    const agent = new LocalAgent({ authToken: 'right-token-123456' });
    await agent.start();
    const env = { ...agent.executorEnvironment(), MESOS_EXECUTOR_AUTHENTICATION_TOKEN: 'wrong-token-123456' };
    const executor = new RecordingExecutor();
    const driver = new MesosExecutorDriver(executor, { env, subscribeRetryIntervalMs: 20 });
    rigs.track({ agent, driver, executor });
    const refused: Array<{ call: string; status: number }> = [];
    driver.on('callRefused', (info) => refused.push(info));
    await driver.start();
    await waitFor(() => refused.length >= 3, { what: 'three refused SUBSCRIBEs' });
    assert.ok(refused.every((r) => r.call === 'SUBSCRIBE' && r.status === 401));
    assert.equal(driver.status, Status.DRIVER_RUNNING);
    assert.deepEqual(executor.names(), [], 'neither error nor shutdown');
    assert.equal(agent.calls.filter((c) => c.status === 401).length >= 3, true);
  });

  for (const contentType of ENCODINGS) {
    const short = contentType === 'application/json' ? 'json' : 'protobuf';
    describe(`a refused UPDATE takes nothing else down (${short})`, () => {
      it('a refused terminal update is replaced once by a minimal one the agent takes; the task still ends in its state', async () => {
        const r = await rig(contentType);
        await subscribed(r);
        r.agent.launchTask({ task_id: 'victim', data: Buffer.from('run') });
        await waitFor(() => r.agent.task('victim')?.state === 'TASK_RUNNING', { what: 'victim RUNNING' });
        await waitFor(() => r.driver.unacknowledgedUpdates === 0, { what: 'RUNNING acknowledged' });
        const refusedEvents: Array<{ taskId: string; status: number; replaced: boolean }> = [];
        r.driver.on('updateRefused', (info) => refusedEvents.push(info));
        r.agent.respondStatus(400, 1, { calls: 'update' });
        r.driver.sendStatusUpdate({ task_id: { value: 'victim' }, state: 'TASK_FAILED', message: 'the job failed', data: Buffer.from('x'.repeat(1000)) });
        await waitFor(() => r.agent.task('victim')?.state === 'TASK_FAILED', { what: 'victim TASK_FAILED at the agent' });
        assert.deepEqual(refusedEvents.map((e) => [e.taskId, e.status, e.replaced]), [['victim', 400, true]]);
        await waitFor(() => r.driver.unacknowledgedUpdates === 0, { what: 'replacement acknowledged' });
        // Nothing else is affected: the driver runs on, and the next task goes through.
        assert.equal(r.driver.status, Status.DRIVER_RUNNING);
        assert.ok(!r.executor.names().includes('error'));
        r.agent.launchTask({ task_id: 'next', data: Buffer.from('finish') });
        await waitFor(() => r.agent.task('next')?.state === 'TASK_FINISHED', { what: 'next TASK_FINISHED' });
      });

      it('a refused update with a later one queued is dropped; the later one goes; a refused replacement is dropped too', async () => {
        const r = await rig(contentType);
        await subscribed(r);
        const refusedEvents: Array<{ taskId: string; state: unknown; replaced: boolean }> = [];
        r.driver.on('updateRefused', (info) => refusedEvents.push(info));
        r.agent.respondStatus(500, 1, { calls: 'update' });
        r.agent.launchTask({ task_id: 'two', data: Buffer.from('finish') }); // RUNNING (refused), then FINISHED
        await waitFor(() => r.agent.task('two')?.state === 'TASK_FINISHED', { what: 'two TASK_FINISHED' });
        assert.deepEqual(refusedEvents.map((e) => [e.taskId, e.state, e.replaced]), [['two', 'TASK_RUNNING', false]]);

        r.agent.launchTask({ task_id: 'three', data: Buffer.from('run') });
        await waitFor(() => r.agent.task('three')?.state === 'TASK_RUNNING', { what: 'three RUNNING' });
        await waitFor(() => r.driver.unacknowledgedUpdates === 0, { what: 'quiet' });
        r.agent.respondStatus(413, 2, { calls: 'update' });
        r.driver.sendStatusUpdate({ task_id: { value: 'three' }, state: 'TASK_FINISHED' });
        await waitFor(() => refusedEvents.length === 3, { what: 'the update and its replacement refused' });
        assert.deepEqual(refusedEvents.slice(1).map((e) => [e.taskId, e.state, e.replaced]), [['three', 'TASK_FINISHED', true], ['three', 'TASK_FINISHED', false]]);
        assert.equal(r.driver.unacknowledgedUpdates, 0, 'nothing left to retry forever');
        assert.equal(r.driver.status, Status.DRIVER_RUNNING);
      });
    });
  }

  for (const contentType of ENCODINGS) {
    it(`one SUBSCRIBE at a time: an agent 3 s slow to answer it gets no second one, and the LAUNCH on its stream is seen (${contentType === 'application/json' ? 'json' : 'protobuf'})`, async () => {
      const r = await rig(contentType, { frameworkInfo: { checkpoint: true } });
      await subscribed(r);
      let sent = 0;
      r.driver.on('subscribing', () => sent++);
      // The agent is busy: the next SUBSCRIBEs are answered (200, then SUBSCRIBED) 3 s late, longer
      // than any backoff step (50 ms) and than the 2 s after which the old driver gave up on one.
      r.agent.delaySubscribe(3_000, 5);
      r.agent.dropStream('end');
      await waitFor(() => r.executor.names().includes('reregistered'), { what: 'reregistered', timeoutMs: 20_000 });
      assert.equal(sent, 1, 'exactly one SUBSCRIBE was sent for the reconnection');
      r.agent.launchTask({ task_id: 'after-slow', data: Buffer.from('finish') });
      await waitFor(() => r.agent.task('after-slow')?.state === 'TASK_FINISHED', { what: 'the LAUNCH on the one stream ran' });
    });
  }

  it('without checkpointing, a SUBSCRIBE answered 503 and then a refused connection means shutdown, not an orphan', async () => {
    const r = await rig('application/x-protobuf', { frameworkInfo: { checkpoint: false } });
    const failures: Array<number | undefined> = [];
    r.driver.on('subscribeFailed', (info) => failures.push(info.status));
    r.agent.respondStatus(503, 1_000_000, { calls: 'subscribe' });
    await r.driver.start();
    await waitFor(() => failures.includes(503), { what: 'a 503 to SUBSCRIBE' });
    await r.agent.stop(); // every later connection is refused
    await waitFor(() => r.executor.names().includes('shutdown'), { what: 'shutdown' });
    assert.ok(failures.includes(undefined), 'a failed connection was reported');
    assert.ok(!r.executor.names().includes('registered'));
  });

  it('with checkpointing, a SUBSCRIBE answered 503 and then a refused connection is a recovery, not a shutdown', async () => {
    const r = await rig('application/x-protobuf', { frameworkInfo: { checkpoint: true } });
    const failures: Array<number | undefined> = [];
    r.driver.on('subscribeFailed', (info) => failures.push(info.status));
    r.agent.respondStatus(503, 1_000_000, { calls: 'subscribe' });
    await r.driver.start();
    await waitFor(() => failures.includes(503), { what: 'a 503 to SUBSCRIBE' });
    const restarted = r.agent.restart({ downMs: 300 }); // connections refused meanwhile
    await waitFor(() => failures.includes(undefined), { what: 'a refused connection' });
    assert.ok(['disconnected', 'subscribing'].includes(r.driver.connectionState), r.driver.connectionState);
    r.agent.clearFaults();
    await restarted;
    await waitFor(() => r.executor.names().includes('registered'), { what: 'registered after the agent came back' });
    assert.ok(!r.executor.names().includes('shutdown'));
  });

  it('rejects TASK_STAGING and a status without a task id before anything is sent', async () => {
    const r = await rig('application/x-protobuf');
    await subscribed(r);
    assert.throws(() => r.driver.sendStatusUpdate({ task_id: { value: 't' }, state: 'TASK_STAGING' }), {
      code: 'MPE_INVALID_STATUS_UPDATE',
    });
    assert.throws(() => r.driver.sendStatusUpdate({ task_id: { value: '' }, state: 'TASK_RUNNING' }), {
      code: 'MPE_INVALID_STATUS_UPDATE',
    });
    assert.equal(r.driver.unacknowledgedUpdates, 0);
  });

  it('refuses an update that cannot be encoded, and records nothing (so no later SUBSCRIBE can choke on it)', async () => {
    const r = await rig('application/x-protobuf');
    await subscribed(r);
    const bad = { task_id: { value: 't' }, state: 'TASK_RUNNING', reason: 'REASON_NO_SUCH_THING' } as unknown as Parameters<typeof r.driver.sendStatusUpdate>[0];
    assert.throws(() => r.driver.sendStatusUpdate(bad), { code: 'MPE_INVALID_STATUS_UPDATE' });
    assert.equal(r.driver.unacknowledgedUpdates, 0);
    r.agent.dropStream();
    await waitFor(() => r.executor.names().includes('reregistered'), { what: 'a clean resubscribe' });
  });

  it('queues updates made while disconnected and delivers them with the next SUBSCRIBE', async () => {
    const r = await rig('application/x-protobuf');
    await subscribed(r);
    for (let i = 0; i < 20; i++) r.agent.launchTask({ task_id: `q${i}`, data: Buffer.from('x') });
    await waitFor(() => r.executor.names().filter((n) => n === 'launchTask').length === 20, { what: '20 launches' });
    const restarted = r.agent.restart({ downMs: 200 });
    await waitFor(() => r.executor.names().includes('disconnected'), { what: 'disconnected' });
    for (let i = 0; i < 20; i++) r.driver.sendStatusUpdate({ task_id: { value: `q${i}` }, state: 'TASK_RUNNING' });
    assert.equal(r.driver.unacknowledgedUpdates, 20);
    await restarted;
    await waitFor(() => r.driver.unacknowledgedUpdates === 0, { what: 'queued updates acknowledged', timeoutMs: 10_000 });
    assert.equal(r.agent.counters.updatesReplayed, 20);
  });
});
