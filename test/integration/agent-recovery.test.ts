// Agent restarts as upstream recovers from them, over real loopback HTTP in both encodings:
// without checkpointing the executor is an orphan that is destroyed and its tasks are reconciled
// as LOST; with checkpointing the re-registration window answers 503 to everything but
// SUBSCRIBE and HEARTBEAT, and an executor that misses it is killed. Also the registration timeout.
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import type { ContentType } from '../../src/protocol/codec.js';
import type { LocalAgent } from '../../src/agent/index.js';
import { agentRig, ids, postCall, subscribe, subscribeCall, taskStatus, updateCall } from '../helpers/agent-client.js';
import { waitFor } from '../helpers/wait.js';

const { startAgent, open } = agentRig();
const ENCODINGS: readonly ContentType[] = ['application/json', 'application/x-protobuf'];

/** A process that never speaks to the agent: the test subscribes on its behalf. */
const IDLE = { command: process.execPath, args: ['-e', 'setInterval(() => {}, 1000)'] };

function last(agent: LocalAgent, taskId: string): [unknown, unknown, unknown, unknown] {
  const status = agent.task(taskId)!.statuses.at(-1)!;
  return [status.state, status.reason, status.source, status.message];
}

describe('LocalAgent restart without checkpointing', () => {
  for (const contentType of ENCODINGS) {
    it(`destroys the executor, forgets the framework, reconciles its tasks as LOST (${contentType})`, async () => {
      const agent = await startAgent();
      assert.equal(agent.config.checkpoint, false);
      const proc = await agent.launchExecutor(IDLE);
      const s = await open(agent, { contentType });
      await s.next('SUBSCRIBED');
      assert.equal(s.events[0]!.subscribed!.framework_info.checkpoint, false);
      agent.launchTask('running');
      agent.launchTask('staged');
      await s.next('LAUNCH', { count: 2 });
      assert.equal((await postCall(agent, updateCall(agent, taskStatus(agent, 'running', 'TASK_RUNNING')), { contentType })).status, 202);
      let exitedEvents = 0;
      agent.on('executorExited', () => exitedEvents++);
      const phases: string[] = [];
      agent.on('phase', (p) => phases.push(p));

      await agent.restart({ downMs: 20, recoverMs: 20, reregisterMs: 60_000 });
      // No framework was recovered, so no re-registration window.
      assert.deepEqual(phases, ['down', 'containerizer-recovery', 'running']);
      assert.deepEqual(await proc.exited, { code: null, signal: 'SIGKILL' });
      for (const taskId of ['running', 'staged']) {
        assert.deepEqual(last(agent, taskId), ['TASK_LOST', 'REASON_RECONCILIATION', 'SOURCE_AGENT', 'Reconciliation: task unknown to the agent']);
      }
      // The agent never heard of the orphan's death: no TASK_FAILED, no exit event.
      assert.equal(exitedEvents, 0);
      assert.ok([...agent.tasks.values()].every((t) => t.statuses.every((st) => st.state !== 'TASK_FAILED')));

      const late = await postCall(agent, subscribeCall(agent), { contentType });
      assert.deepEqual([late.status, late.body], [400, 'Framework cannot be found']);
      const update = await postCall(agent, updateCall(agent, taskStatus(agent, 'running', 'TASK_FINISHED')), { contentType });
      assert.deepEqual([update.status, update.body], [400, 'Framework cannot be found']);
      assert.equal(agent.executorState, 'TERMINATED');

      // A new launch is a new executor run, which the agent knows again.
      const before = agent.containerId;
      await agent.launchExecutor(IDLE);
      assert.notEqual(agent.containerId, before);
      assert.equal(agent.executorState, 'REGISTERING');
      const again = await open(agent, { contentType });
      await again.next('SUBSCRIBED');
    });
  }

  it('reconciles a partition-aware framework’s tasks as TASK_DROPPED, queued ones too', async () => {
    const agent = await startAgent({ partitionAware: true });
    agent.launchTask('queued');
    await agent.restart();
    assert.deepEqual(last(agent, 'queued'), ['TASK_DROPPED', 'REASON_RECONCILIATION', 'SOURCE_AGENT', 'Reconciliation: task unknown to the agent']);
    await assert.rejects(subscribe(agent), { status: 400, body: 'Framework cannot be found' });
  });
});

describe('LocalAgent used out of order', () => {
  it('refuses start() twice and a restart() during a restart with MPE_AGENT_STATE', async () => {
    const agent = await startAgent();
    await assert.rejects(agent.start(), { code: 'MPE_AGENT_STATE', method: 'start()', message: 'LocalAgent.start(): already started' });
    const restarting = agent.restart({ downMs: 20 });
    await assert.rejects(agent.restart(), { code: 'MPE_AGENT_STATE', method: 'restart()', message: 'LocalAgent.restart(): a restart is already in progress' });
    await restarting;
    await agent.restart();
  });
});

describe('LocalAgent registration timeout (--executor_registration_timeout)', () => {
  it('defaults to 1 minute, and the re-registration timeout to 2 s (at most 15 s)', async () => {
    const agent = await startAgent();
    assert.equal(agent.config.executorRegistrationTimeoutMs, 60_000);
    assert.equal(agent.config.executorReregistrationTimeoutMs, 2000);
    await assert.rejects(startAgent({ executorReregistrationTimeoutMs: 15_001 }), { code: 'MPE_INVALID_OPTION' });
  });

  for (const contentType of ENCODINGS) {
    it(`kills a launched executor that does not subscribe in time; its tasks fail (${contentType})`, async () => {
      const agent = await startAgent({ executorRegistrationTimeoutMs: 300 });
      agent.launchTask('queued');
      const exited = agent.nextEvent('executorExited');
      const proc = await agent.launchExecutor(IDLE);
      assert.deepEqual(await exited, { code: null, signal: 'SIGKILL' });
      assert.equal(proc.alive, false);
      assert.deepEqual(last(agent, 'queued'), ['TASK_FAILED', 'REASON_EXECUTOR_REGISTRATION_TIMEOUT', 'SOURCE_AGENT', 'Executor did not register within 300ms']);
      // Too late: the executor is gone, its SUBSCRIBE gets only SHUTDOWN.
      const s = await open(agent, { contentType });
      assert.equal(await s.ended, true);
      assert.deepEqual(s.types(), ['SHUTDOWN']);
    });
  }

  it('spares an executor that subscribed in time', async () => {
    const agent = await startAgent({ executorRegistrationTimeoutMs: 100, heartbeatIntervalMs: 400 });
    const proc = await agent.launchExecutor(IDLE);
    const s = await open(agent);
    await s.next('SUBSCRIBED');
    // The first HEARTBEAT comes one interval (4 timeouts) after SUBSCRIBED.
    await s.next('HEARTBEAT');
    assert.equal(proc.alive, true);
    assert.equal(agent.executorState, 'RUNNING');
  });
});

describe('LocalAgent re-registration window (--executor_reregistration_timeout)', () => {
  for (const contentType of ENCODINGS) {
    it(`answers 503 to all but SUBSCRIBE/HEARTBEAT for the whole window, then kills a missing executor: TASK_LOST (${contentType})`, async () => {
      const agent = await startAgent({ frameworkInfo: { checkpoint: true }, executorReregistrationTimeoutMs: 300 });
      const proc = await agent.launchExecutor(IDLE);
      const s = await open(agent, { contentType });
      await s.next('SUBSCRIBED');
      agent.launchTask('t1');
      await s.next('LAUNCH');
      assert.equal((await postCall(agent, updateCall(agent, taskStatus(agent, 't1', 'TASK_RUNNING')), { contentType })).status, 202);
      const at = new Map<string, number>();
      agent.on('phase', (p) => at.set(p, performance.now()));
      const exited = agent.nextEvent('executorExited');

      const restarted = agent.restart();
      await waitFor(() => agent.phase === 'recovering', { what: 'phase recovering' });
      const update = await postCall(agent, updateCall(agent, taskStatus(agent, 't1', 'TASK_FINISHED')), { contentType });
      assert.deepEqual([update.status, update.body], [503, 'Agent has not finished recovery']);
      const message = await postCall(agent, { ...ids(agent), type: 'MESSAGE', message: { data: Buffer.from('m') } }, { contentType });
      assert.deepEqual([message.status, message.body], [503, 'Agent has not finished recovery']);
      assert.equal((await postCall(agent, { ...ids(agent), type: 'HEARTBEAT' }, { contentType })).status, 202);
      await restarted;

      assert.ok(at.get('running')! - at.get('recovering')! >= 295, 'the window lasts the timeout');
      assert.deepEqual(await exited, { code: null, signal: 'SIGKILL' });
      assert.equal(proc.alive, false);
      assert.deepEqual(last(agent, 't1'), ['TASK_LOST', 'REASON_EXECUTOR_REREGISTRATION_TIMEOUT', 'SOURCE_AGENT', 'Executor did not reregister within 300ms']);
    });

    it(`keeps the window open after the executor is back, and spares it (${contentType})`, async () => {
      const agent = await startAgent({ frameworkInfo: { checkpoint: true }, executorReregistrationTimeoutMs: 400 });
      const proc = await agent.launchExecutor(IDLE);
      const first = await open(agent, { contentType });
      await first.next('SUBSCRIBED');
      agent.launchTask('t1');
      await first.next('LAUNCH');
      const restarted = agent.restart();
      await waitFor(() => agent.phase === 'recovering', { what: 'phase recovering' });
      const again = await open(agent, { contentType, call: subscribeCall(agent, { unacknowledged_tasks: [agent.task('t1')!.info!] }) });
      await again.next('SUBSCRIBED');
      // MESOS-7539: recovery does not end early when every executor is back.
      const during = await postCall(agent, updateCall(agent, taskStatus(agent, 't1', 'TASK_RUNNING')), { contentType });
      assert.equal(during.status, 503);
      await restarted;
      assert.equal(proc.alive, true);
      assert.equal(agent.executorState, 'RUNNING');
      assert.equal((await postCall(agent, updateCall(agent, taskStatus(agent, 't1', 'TASK_RUNNING')), { contentType })).status, 202);
    });
  }

  it('reports TASK_GONE for a partition-aware framework; kills an in-process executor at once', async () => {
    const agent = await startAgent({ frameworkInfo: { checkpoint: true }, partitionAware: true, executorReregistrationTimeoutMs: 50 });
    const s = await open(agent);
    await s.next('SUBSCRIBED');
    agent.launchTask('t1');
    await s.next('LAUNCH');
    await agent.restart();
    assert.deepEqual(last(agent, 't1'), ['TASK_GONE', 'REASON_EXECUTOR_REREGISTRATION_TIMEOUT', 'SOURCE_AGENT', 'Executor did not reregister within 50ms']);
    assert.equal(agent.executorState, 'TERMINATED');
  });
});
