// The task table's update rules (PROTOCOL.md §8.3, §7.6), without HTTP.
import { strict as assert } from 'node:assert';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { AgentTaskTable } from '../../src/agent/agent-task-table.js';
import type { TaskInfo, TaskState, TaskStatus } from '../../src/proto/types.js';

const AGENT = 'A-S0';
const info = (id: string): TaskInfo => ({ name: id, task_id: { value: id }, agent_id: { value: AGENT } });
const uuid = (): Buffer => Buffer.from(randomUUID().replaceAll('-', ''), 'hex');
const status = (id: string, state: TaskState, extra: Partial<TaskStatus> = {}): TaskStatus => ({
  task_id: { value: id },
  state,
  source: 'SOURCE_EXECUTOR',
  uuid: uuid(),
  ...extra,
});

describe('AgentTaskTable', () => {
  it('accepts and ACKs updates in order, filling in agent_id, executor_id and timestamp', () => {
    const t = new AgentTaskTable(AGENT, 'E', true);
    t.add(info('t1'), 'launched');
    const r = t.apply(status('t1', 'TASK_RUNNING'), 'executor', 123);
    assert.equal(r.outcome, 'accepted');
    assert.equal(r.ack, true);
    assert.equal(r.terminal, false);
    assert.deepEqual(r.status.agent_id, { value: AGENT });
    assert.deepEqual(r.status.executor_id, { value: 'E' });
    assert.equal(r.status.timestamp, 123);
    assert.equal(t.get('t1')!.state, 'TASK_RUNNING');
    const f = t.apply(status('t1', 'TASK_FINISHED'), 'executor', 124);
    assert.equal(f.terminal, true);
    assert.equal(t.get('t1')!.phase, 'terminated');
    assert.deepEqual(t.get('t1')!.statuses.map((s) => s.state), ['TASK_RUNNING', 'TASK_FINISHED']);
  });

  it('records a duplicate uuid once but ACKs it again', () => {
    const t = new AgentTaskTable(AGENT, 'E', true);
    t.add(info('t1'), 'launched');
    const s = status('t1', 'TASK_RUNNING');
    assert.equal(t.apply(s, 'executor', 1).outcome, 'accepted');
    const again = t.apply({ ...s }, 'executor', 2);
    assert.equal(again.outcome, 'duplicate');
    assert.equal(again.ack, true);
    assert.equal(t.get('t1')!.statuses.length, 1);
    assert.equal(t.counters.duplicates, 1);
  });

  it('drops (but ACKs) anything after a terminal update, including a second terminal one', () => {
    const t = new AgentTaskTable(AGENT, 'E', true);
    t.add(info('t1'), 'launched');
    t.apply(status('t1', 'TASK_FINISHED'), 'executor', 1);
    const late = t.apply(status('t1', 'TASK_RUNNING'), 'executor', 2);
    assert.deepEqual([late.outcome, late.ack], ['dropped', true]);
    const second = t.apply(status('t1', 'TASK_FAILED'), 'executor', 3);
    assert.deepEqual([second.outcome, second.ack], ['dropped', true]);
    assert.equal(t.get('t1')!.state, 'TASK_FINISHED');
    assert.equal(t.counters.dropped, 2);
  });

  it('ignores an update naming another agent, with no ACK', () => {
    const t = new AgentTaskTable(AGENT, 'E', true);
    t.add(info('t1'), 'launched');
    const r = t.apply(status('t1', 'TASK_RUNNING', { agent_id: { value: 'other-S1' } }), 'executor', 1);
    assert.deepEqual([r.outcome, r.ack], ['ignored', false]);
    assert.equal(t.get('t1')!.state, 'TASK_STAGING');
    // Its own agent id is fine.
    assert.equal(t.apply(status('t1', 'TASK_RUNNING', { agent_id: { value: AGENT } }), 'executor', 1).outcome, 'accepted');
  });

  it('gives no ACK for a task no executor knows', () => {
    const t = new AgentTaskTable(AGENT, 'E', true);
    const r = t.apply(status('nope', 'TASK_RUNNING'), 'executor', 1);
    assert.deepEqual([r.outcome, r.ack], ['unknown-task', false]);
  });

  it('lets a queued task go terminal but refuses a non-terminal update for it', () => {
    const t = new AgentTaskTable(AGENT, 'E', true);
    t.add(info('q'), 'queued');
    assert.equal(t.apply(status('q', 'TASK_RUNNING'), 'executor', 1).outcome, 'rejected');
    const killed = t.apply(status('q', 'TASK_KILLED', { source: 'SOURCE_AGENT' }), 'agent', 1);
    assert.deepEqual([killed.outcome, killed.ack, killed.terminal], ['accepted', false, true]);
    assert.equal(t.queued().length, 0);
    assert.equal(t.counters.agentGenerated, 1);
  });

  it('keeps bounded memory when not recording: no statuses, no TaskInfo after launch, no uuids after terminal', () => {
    const t = new AgentTaskTable(AGENT, 'E', false);
    t.add(info('t1'), 'queued');
    t.markLaunched('t1');
    assert.equal(t.get('t1')!.info, undefined);
    const s = status('t1', 'TASK_RUNNING');
    t.apply(s, 'executor', 1);
    assert.equal(t.apply({ ...s }, 'executor', 1).outcome, 'duplicate');
    t.apply(status('t1', 'TASK_FINISHED'), 'executor', 2);
    assert.equal(t.get('t1')!.statuses.length, 0);
    assert.equal(t.get('t1')!.acceptedCount, 2);
    // After terminal, a replayed duplicate is "dropped": still ACKed, still not recorded.
    const replay = t.apply({ ...s }, 'executor', 3);
    assert.deepEqual([replay.outcome, replay.ack], ['dropped', true]);
  });
});
