// LocalAgent fault switches, each over real loopback HTTP: restart, dropStream, withholdAcks,
// respondStatus, sendGarbage, goSilent.
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import {
  ids,
  postCall,
  rawRequest,
  subscribeCall,
  taskStatus,
  updateCall,
  agentRig,
} from '../helpers/agent-client.js';
import { waitFor } from '../helpers/wait.js';

const { startAgent, open } = agentRig();

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const CHECKPOINTING = { frameworkInfo: { checkpoint: true } } as const;

describe('LocalAgent faults: restart with checkpointing', () => {
  it('resets the stream, refuses connections, answers 503, serves SUBSCRIBE before UPDATE, on the same port', async () => {
    const agent = await startAgent(CHECKPOINTING);
    const port = agent.port;
    const s = await open(agent);
    await s.next('SUBSCRIBED');
    agent.launchTask('started');
    await postCall(agent, updateCall(agent, taskStatus(agent, 'started', 'TASK_RUNNING')));
    await s.next('ACKNOWLEDGED');
    agent.launchTask('staged');
    await s.next('LAUNCH', { count: 2 });

    const phases: string[] = [];
    agent.on('phase', (p) => phases.push(p));
    const restarted = agent.restart({ downMs: 300, recoverMs: 300, reregisterMs: 300 });
    assert.equal(await s.ended, false, 'a crash ends the stream without a terminating chunk');
    assert.equal(agent.executorState, 'REGISTERING');
    await waitFor(() => agent.phase === 'down', { what: 'phase down' });
    await assert.rejects(rawRequest(agent.endpoint, { method: 'GET' }), { code: 'ECONNREFUSED' });
    agent.launchTask('given-while-down');

    await waitFor(() => agent.phase === 'containerizer-recovery', { what: 'containerizer recovery' });
    assert.equal(agent.port, port);
    const early = await postCall(agent, subscribeCall(agent));
    assert.deepEqual([early.status, early.body], [503, 'Agent has not finished recovery']);

    await waitFor(() => agent.phase === 'recovering', { what: 'phase recovering' });
    const update = await postCall(agent, updateCall(agent, taskStatus(agent, 'started', 'TASK_FINISHED')));
    assert.equal(update.status, 503);
    const again = await open(agent);
    await again.next('LAUNCH');
    assert.deepEqual(again.types(), ['SUBSCRIBED', 'LAUNCH']);
    assert.deepEqual(again.launched().map((t) => t.task_id.value), ['given-while-down']);
    // `staged` was launched but never acknowledged, and the executor did not list it.
    const lost = agent.task('staged')!.statuses.at(-1)!;
    assert.deepEqual([lost.state, lost.reason, lost.source], ['TASK_LOST', 'REASON_AGENT_RESTARTED', 'SOURCE_AGENT']);
    assert.equal(agent.task('started')!.state, 'TASK_RUNNING');

    await restarted;
    assert.equal(agent.phase, 'running');
    assert.deepEqual(phases, ['down', 'containerizer-recovery', 'recovering', 'running']);
    const finished = taskStatus(agent, 'started', 'TASK_FINISHED');
    assert.equal((await postCall(agent, updateCall(agent, finished))).status, 202);
    const ack = await again.next('ACKNOWLEDGED');
    assert.equal(hex(ack.acknowledged!.uuid), hex(finished.uuid!));
  });

  it('before re-SUBSCRIBE, a recovered executor gets 503 for the whole window, then is killed', async () => {
    const agent = await startAgent({ ...CHECKPOINTING, executorReregistrationTimeoutMs: 200 });
    const s = await open(agent);
    await s.next('SUBSCRIBED');
    const restarted = agent.restart();
    await waitFor(() => agent.phase === 'recovering', { what: 'phase recovering' });
    const res = await postCall(agent, updateCall(agent, taskStatus(agent, 't', 'TASK_RUNNING')));
    assert.deepEqual([res.status, res.body], [503, 'Agent has not finished recovery']);
    await restarted;
    assert.equal(agent.executorState, 'TERMINATED');
  });

  it('recovers queued tasks as launched, so unlisted ones are LOST even under the after-restart rule; listed ones stay', async () => {
    const agent = await startAgent({ ...CHECKPOINTING, unlistedStagingTasks: 'after-restart' });
    const listedInfo = agent.launchTask('listed');
    agent.launchTask('unlisted');
    await agent.restart();
    const s = await open(agent, { call: subscribeCall(agent, { unacknowledged_tasks: [listedInfo] }) });
    await s.next('SUBSCRIBED');
    assert.deepEqual(s.types(), ['SUBSCRIBED']);
    assert.equal(agent.task('listed')!.state, 'TASK_STAGING');
    assert.equal(agent.task('unlisted')!.state, 'TASK_LOST');
  });

  it('forgets withheld ACKs; the executor gets them through the replay in its next SUBSCRIBE', async () => {
    const agent = await startAgent(CHECKPOINTING);
    const s = await open(agent);
    await s.next('SUBSCRIBED');
    agent.launchTask('t1');
    agent.withholdAcks(true);
    const status = taskStatus(agent, 't1', 'TASK_RUNNING');
    await postCall(agent, updateCall(agent, status));
    const restarted = agent.restart();
    await waitFor(() => agent.phase === 'recovering', { what: 'phase recovering' });
    assert.equal(agent.counters.acksDropped, 1);
    agent.withholdAcks(false);
    const again = await open(agent, { call: subscribeCall(agent, { unacknowledged_updates: [{ status }] }) });
    const ack = await again.next('ACKNOWLEDGED');
    assert.equal(hex(ack.acknowledged!.uuid), hex(status.uuid!));
    assert.equal(agent.task('t1')!.statuses.length, 1);
    await restarted;
  });

  it('stop() during a restart ends it', async () => {
    const agent = await startAgent(CHECKPOINTING);
    const restarting = agent.restart({ downMs: 60_000 });
    await waitFor(() => agent.phase === 'down', { what: 'phase down' });
    await agent.stop();
    await restarting;
    assert.equal(agent.phase, 'stopped');
  });
});

describe('LocalAgent faults: stream', () => {
  it('dropStream("end") finishes the body; the executor stays RUNNING and later events are lost', async () => {
    const agent = await startAgent();
    const s = await open(agent);
    await s.next('SUBSCRIBED');
    const closed = agent.nextEvent('streamClosed');
    assert.equal(agent.dropStream(), true);
    assert.equal(await closed, 'dropped');
    assert.equal(await s.ended, true);
    assert.equal(agent.executorState, 'RUNNING');
    assert.equal(agent.subscribed, false);
    agent.launchTask('t1');
    assert.equal(agent.task('t1')!.phase, 'launched');
    assert.equal(agent.counters.eventsLost, 1);
    assert.equal(agent.dropStream(), false);
  });

  it('dropStream("destroy") resets the connection', async () => {
    const agent = await startAgent();
    const s = await open(agent);
    await s.next('SUBSCRIBED');
    agent.dropStream('destroy');
    assert.equal(await s.ended, false);
  });

  it('withholdAcks: holds ACKs back, then delivers or drops them', async () => {
    const agent = await startAgent();
    const s = await open(agent);
    await s.next('SUBSCRIBED');
    agent.launchTask('t1');
    agent.withholdAcks(true);
    const first = taskStatus(agent, 't1', 'TASK_RUNNING');
    await postCall(agent, updateCall(agent, first));
    agent.sendFrameworkMessage(Buffer.from('marker'));
    await s.next('MESSAGE');
    assert.ok(!s.types().includes('ACKNOWLEDGED'));
    agent.withholdAcks(false, { deliver: true });
    const ack = await s.next('ACKNOWLEDGED');
    assert.equal(hex(ack.acknowledged!.uuid), hex(first.uuid!));

    agent.withholdAcks(true);
    await postCall(agent, updateCall(agent, taskStatus(agent, 't1', 'TASK_FINISHED')));
    agent.withholdAcks(false);
    assert.equal(agent.counters.acksDropped, 1);
    assert.equal(agent.counters.acksWithheld, 2);
    agent.sendFrameworkMessage(Buffer.from('marker'));
    await s.next('MESSAGE', { count: 2 });
    assert.equal(s.types().filter((t) => t === 'ACKNOWLEDGED').length, 1);
  });

  it('sendGarbage: a bad length prefix or an undecodable record', async () => {
    const agent = await startAgent();
    const badLength = await open(agent);
    await badLength.next('SUBSCRIBED');
    assert.equal(agent.sendGarbage('bad-length'), true);
    await waitFor(() => badLength.error, { what: 'a RecordIO error' });
    assert.equal((badLength.error as { code?: string }).code, 'MPE_RECORDIO_BAD_HEADER');

    for (const contentType of ['application/json', 'application/x-protobuf'] as const) {
      const s = await open(agent, { contentType });
      await s.next('SUBSCRIBED');
      agent.sendGarbage();
      await waitFor(() => s.error, { what: `a decode error (${contentType})` });
      assert.equal((s.error as { code?: string }).code, 'MPE_DECODE');
    }

    const raw = await open(agent);
    await raw.next('SUBSCRIBED');
    agent.sendGarbage(Buffer.from('hello'));
    await waitFor(() => raw.chunks.some((c) => c.toString() === 'hello'), { what: 'the raw bytes' });
  });

  it('goSilent keeps the connection open but writes nothing more', async () => {
    const agent = await startAgent({ heartbeatIntervalMs: 20 });
    const s = await open(agent);
    await s.next('SUBSCRIBED');
    assert.equal(agent.goSilent(), true);
    agent.launchTask('t1');
    await waitFor(() => agent.counters.eventsLost >= 3, { what: 'LAUNCH and heartbeats to be lost' });
    assert.deepEqual(s.types(), ['SUBSCRIBED']);
    assert.equal(s.isEnded, false);
    // The executor recovers by subscribing again (listing the task it never saw would be wrong).
    const again = await open(agent);
    await again.next('SUBSCRIBED');
    assert.equal(await s.ended, true);
    assert.equal(agent.task('t1')!.state, 'TASK_LOST');
  });
});

describe('LocalAgent faults: respondStatus', () => {
  it('answers a 503 storm on SUBSCRIBE only, then serves normally', async () => {
    const agent = await startAgent();
    agent.respondStatus(503, 2, { calls: 'subscribe' });
    for (let i = 0; i < 2; i++) {
      const res = await postCall(agent, subscribeCall(agent));
      assert.deepEqual([res.status, res.body], [503, '503 Service Unavailable.']);
      assert.equal((await postCall(agent, { ...ids(agent), type: 'HEARTBEAT' })).status, 202);
    }
    const s = await open(agent);
    await s.next('SUBSCRIBED');
    assert.deepEqual(
      agent.calls.filter((c) => c.forced).map((c) => [c.type, c.status]),
      [
        ['SUBSCRIBE', 503],
        ['SUBSCRIBE', 503],
      ],
    );
  });

  it('answers 404 to anything on the route, with a custom body and headers on request', async () => {
    const agent = await startAgent();
    agent.respondStatus(404, 1);
    assert.equal((await rawRequest(agent.endpoint, { method: 'GET' })).status, 404);
    assert.equal((await rawRequest(agent.endpoint, { method: 'GET' })).status, 405);
    agent.respondStatus(401, 1, { calls: 'update', body: 'nope', headers: { 'WWW-Authenticate': 'Bearer realm="x"' } });
    const s = await open(agent);
    await s.next('SUBSCRIBED');
    const res = await postCall(agent, updateCall(agent, taskStatus(agent, 't', 'TASK_RUNNING')));
    assert.deepEqual([res.status, res.body, res.headers['www-authenticate']], [401, 'nope', 'Bearer realm="x"']);
  });

  it('clearFaults removes pending rules; bad arguments are refused', async () => {
    const agent = await startAgent();
    agent.respondStatus(500, Infinity);
    assert.equal((await postCall(agent, { ...ids(agent), type: 'HEARTBEAT' })).status, 500);
    agent.clearFaults();
    assert.equal((await postCall(agent, { ...ids(agent), type: 'HEARTBEAT' })).status, 202);
    assert.throws(() => agent.respondStatus(99), { code: 'MPE_INVALID_OPTION' });
    assert.throws(() => agent.respondStatus(503, 0), { code: 'MPE_INVALID_OPTION' });
  });
});
