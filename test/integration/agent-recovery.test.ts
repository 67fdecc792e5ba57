// Agent restarts as upstream recovers from them, over real loopback HTTP in both encodings:
// without checkpointing the executor is an orphan that is destroyed and its tasks are reconciled
// as LOST; with checkpointing the re-registration window answers 503 to everything but
// SUBSCRIBE and HEARTBEAT, and an executor that misses it is killed. Also the registration timeout.
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import type { ContentType } from '../../src/protocol/codec.js';
import type { LocalAgent } from '../../src/agent/index.js';
import { agentRig, postCall, subscribe, subscribeCall, taskStatus, updateCall } from '../helpers/agent-client.js';

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
