// The SUBSCRIBE stream and the update/ACK flows over real loopback HTTP (PROTOCOL.md §2.3, §2.4,
// §3, §4, §8.3, §8.4).
import { strict as assert } from 'node:assert';
import { connect } from 'node:net';
import { describe, it } from 'node:test';
import { jsonCodec, protobufCodec, type ContentType } from '../../src/protocol/codec.js';
import type { Event, TaskInfo } from '../../src/proto/types.js';
import {
  postCall,
  subscribeCall,
  taskStatus,
  updateCall,
  agentRig,
  type Subscription,
} from '../helpers/agent-client.js';
import type { LocalAgent, LocalAgentOptions } from '../../src/agent/index.js';
import { waitFor } from '../helpers/wait.js';

const { startAgent, open } = agentRig();

const acksOf = (s: Subscription): string[] =>
  s.events.filter((e) => e.type === 'ACKNOWLEDGED').map((e) => Buffer.from(e.acknowledged!.uuid).toString('hex'));
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** Reads a SUBSCRIBE response over a raw socket, keeping HTTP chunk boundaries. */
function rawSubscribe(agent: LocalAgent, contentType: ContentType, accept: string): Promise<{ head: string; chunks: Buffer[]; close(): void }> {
  const body = Buffer.from((contentType === 'application/json' ? jsonCodec : protobufCodec).encodeCall(subscribeCall(agent)));
  const socket = connect(agent.port, '127.0.0.1');
  let buffer = Buffer.alloc(0);
  let head: string | undefined;
  const chunks: Buffer[] = [];
  socket.on('data', (data: Buffer) => {
    buffer = Buffer.concat([buffer, data]);
    if (head === undefined) {
      const end = buffer.indexOf('\r\n\r\n');
      if (end === -1) return;
      head = buffer.subarray(0, end).toString('latin1');
      buffer = buffer.subarray(end + 4);
    }
    for (;;) {
      const line = buffer.indexOf('\r\n');
      if (line === -1) return;
      const size = parseInt(buffer.subarray(0, line).toString('latin1'), 16);
      if (buffer.length < line + 2 + size + 2) return;
      chunks.push(Buffer.from(buffer.subarray(line + 2, line + 2 + size)));
      buffer = buffer.subarray(line + 2 + size + 2);
    }
  });
  socket.write(
    `POST /slave(1)/api/v1/executor HTTP/1.1\r\nHost: ${agent.endpoint}\r\nContent-Type: ${contentType}\r\nAccept: ${accept}\r\n` +
      `Content-Length: ${body.length}\r\n\r\n`,
  );
  socket.write(body);
  return waitFor(() => (head !== undefined && chunks.length >= 2 ? { head, chunks, close: () => socket.destroy() } : undefined), {
    what: 'two chunks of the SUBSCRIBE stream',
  });
}

describe('LocalAgent stream: SUBSCRIBE', () => {
  for (const contentType of ['application/json', 'application/x-protobuf'] as const) {
    it(`frames each event as one RecordIO record in its own chunk (${contentType})`, async () => {
      const agent = await startAgent();
      agent.launchTask('t1');
      const raw = await rawSubscribe(agent, contentType, contentType);
      raw.close();
      assert.match(raw.head, /^HTTP\/1\.1 200 OK/);
      assert.match(raw.head, new RegExp(`\\r\\nContent-Type: ${contentType.replace('/', '\\/')}\\r\\n`, 'i'));
      assert.match(raw.head, /\r\nTransfer-Encoding: chunked/i);
      assert.doesNotMatch(raw.head, /Content-Length/i);
      const codec = contentType === 'application/json' ? jsonCodec : protobufCodec;
      const events: Event[] = raw.chunks.slice(0, 2).map((chunk) => {
        const nl = chunk.indexOf(0x0a);
        const length = Number(chunk.subarray(0, nl).toString('latin1'));
        assert.match(chunk.subarray(0, nl).toString('latin1'), /^[1-9][0-9]*$/);
        assert.equal(chunk.length, nl + 1 + length, 'one whole record per chunk');
        return codec.decodeEvent(chunk.subarray(nl + 1));
      });
      assert.deepEqual(events.map((e) => e.type), ['SUBSCRIBED', 'LAUNCH']);
    });
  }

  it('sends SUBSCRIBED with executor, framework (id set), agent and container', async () => {
    const agent = await startAgent({ frameworkInfo: { name: 'fw', capabilities: [{ type: 'TASK_KILLING_STATE' }] } });
    const s = await open(agent, { contentType: 'application/x-protobuf' });
    assert.equal(s.contentType, 'application/x-protobuf');
    const { subscribed } = await s.next('SUBSCRIBED');
    assert.equal(subscribed!.executor_info.executor_id.value, agent.executorId);
    assert.equal(subscribed!.framework_info.id!.value, agent.frameworkId);
    assert.equal(subscribed!.framework_info.name, 'fw');
    // The protobuf default, which the LocalAgent keeps unless told.
    assert.equal(subscribed!.framework_info.checkpoint, false);
    assert.deepEqual(subscribed!.framework_info.capabilities, [{ type: 'TASK_KILLING_STATE' }]);
    assert.equal(subscribed!.agent_info.hostname, '127.0.0.1');
    assert.equal(subscribed!.agent_info.port, agent.port);
    assert.equal(subscribed!.agent_info.id!.value, agent.agentId);
    assert.equal(subscribed!.container_id!.value, agent.containerId);
    assert.equal(agent.subscribed, true);
    assert.equal(agent.executorState, 'RUNNING');
  });

  it('negotiates JSON whenever acceptable: no Accept, */*, application/*, both listed', async () => {
    const agent = await startAgent();
    for (const accept of [null, '*/*', 'application/*', 'application/x-protobuf, application/json']) {
      const s = await open(agent, { contentType: 'application/x-protobuf', accept });
      assert.equal(s.contentType, 'application/json', String(accept));
      await s.next('SUBSCRIBED');
    }
    const pb = await open(agent, { contentType: 'application/json', accept: 'application/x-protobuf' });
    assert.equal(pb.contentType, 'application/x-protobuf');
    await pb.next('SUBSCRIBED');
  });

  it('delivers tasks given before SUBSCRIBE right after SUBSCRIBED, with defaults filled in', async () => {
    const agent = await startAgent();
    const t1 = agent.launchTask({ task_id: 't1', data: Buffer.from('{"job":"noop"}') });
    agent.launchTaskGroup(['g1', { task_id: { value: 'g2' }, name: 'second' }]);
    agent.launchTask('t2');
    assert.equal(agent.task('t1')!.phase, 'queued');
    assert.equal(t1.name, 't1');
    assert.equal(t1.agent_id.value, agent.agentId);
    assert.equal(t1.executor!.executor_id.value, agent.executorId);
    const s = await open(agent);
    await s.next('LAUNCH', { count: 2 });
    assert.deepEqual(s.types(), ['SUBSCRIBED', 'LAUNCH', 'LAUNCH_GROUP', 'LAUNCH']);
    assert.deepEqual(s.launched().map((t: TaskInfo) => t.task_id.value), ['t1', 'g1', 'g2', 't2']);
    assert.equal(Buffer.from(s.launched()[0]!.data!).toString(), '{"job":"noop"}');
    assert.equal(s.launched()[2]!.name, 'second');
    assert.equal(agent.task('t1')!.phase, 'launched');
    assert.equal(agent.counters.launchesSent, 3);
  });

  it('launches at once while subscribed, and refuses a task id in use', async () => {
    const agent = await startAgent();
    const s = await open(agent);
    await s.next('SUBSCRIBED');
    agent.launchTask('t1');
    await s.next('LAUNCH');
    assert.throws(() => agent.launchTask('t1'), { code: 'MPE_INVALID_OPTION' });
    assert.throws(() => agent.launchTaskGroup(['a', 'a']), { code: 'MPE_INVALID_OPTION' });
  });

  it('ends the previous stream when the executor subscribes again', async () => {
    const agent = await startAgent();
    const first = await open(agent);
    await first.next('SUBSCRIBED');
    const subscribed = agent.nextEvent('subscribed');
    const second = await open(agent);
    await second.next('SUBSCRIBED');
    assert.equal(await first.ended, true, 'the old stream ends with its terminating chunk');
    assert.equal((await subscribed).resubscribe, true);
    agent.launchTask('t1');
    await second.next('LAUNCH');
    assert.equal(first.events.filter((e) => e.type === 'LAUNCH').length, 0);
  });

  it('sends HEARTBEAT every interval, the first one interval after SUBSCRIBED', async () => {
    const agent = await startAgent({ heartbeatIntervalMs: 60 });
    const started = performance.now();
    const s = await open(agent);
    await s.next('SUBSCRIBED');
    assert.ok(!s.types().includes('HEARTBEAT'));
    await s.next('HEARTBEAT');
    assert.ok(performance.now() - started >= 55, 'not before one interval');
    await s.next('HEARTBEAT', { count: 3 });
    assert.ok(agent.counters.heartbeatsSent >= 3);
  });
});

describe('LocalAgent stream: updates and acknowledgements', () => {
  async function running(options: LocalAgentOptions = {}) {
    const agent = await startAgent(options);
    const s = await open(agent);
    await s.next('SUBSCRIBED');
    agent.launchTask('t1');
    await s.next('LAUNCH');
    return { agent, s };
  }

  it('ACKs an UPDATE with its task id and uuid, and records it', async () => {
    for (const contentType of ['application/json', 'application/x-protobuf'] as const) {
      const { agent, s } = await running();
      const status = taskStatus(agent, 't1', 'TASK_RUNNING');
      const res = await postCall(agent, updateCall(agent, status), { contentType });
      assert.equal(res.status, 202);
      const ack = await s.next('ACKNOWLEDGED');
      assert.equal(ack.acknowledged!.task_id.value, 't1');
      assert.equal(hex(ack.acknowledged!.uuid), hex(status.uuid!));
      const task = agent.task('t1')!;
      assert.equal(task.state, 'TASK_RUNNING');
      assert.equal(task.statuses.length, 1);
      assert.equal(task.statuses[0]!.agent_id!.value, agent.agentId);
      assert.equal(agent.counters.acksSent, 1);
      assert.equal(agent.counters.updatesReceived, 1);
    }
  });

  it('records a duplicate uuid once but ACKs it again', async () => {
    const { agent, s } = await running();
    const status = taskStatus(agent, 't1', 'TASK_RUNNING');
    const outcomes: string[] = [];
    agent.on('statusUpdate', (u) => outcomes.push(u.outcome));
    await postCall(agent, updateCall(agent, status));
    await postCall(agent, updateCall(agent, status), { contentType: 'application/x-protobuf' });
    await s.next('ACKNOWLEDGED', { count: 2 });
    assert.deepEqual(acksOf(s), [hex(status.uuid!), hex(status.uuid!)]);
    assert.equal(agent.task('t1')!.statuses.length, 1);
    assert.deepEqual(outcomes, ['accepted', 'duplicate']);
    assert.equal(agent.counters.duplicates, 1);
  });

  it('drops but ACKs updates after a terminal one; reports the terminal state once', async () => {
    const { agent, s } = await running();
    const terminal = agent.nextEvent('taskTerminal');
    const finished = taskStatus(agent, 't1', 'TASK_FINISHED');
    const late = taskStatus(agent, 't1', 'TASK_RUNNING');
    const second = taskStatus(agent, 't1', 'TASK_FAILED');
    for (const status of [finished, late, second]) await postCall(agent, updateCall(agent, status));
    await s.next('ACKNOWLEDGED', { count: 3 });
    assert.equal((await terminal).status.state, 'TASK_FINISHED');
    assert.deepEqual(agent.task('t1')!.statuses.map((x) => x.state), ['TASK_FINISHED']);
    assert.equal(agent.task('t1')!.phase, 'terminated');
    assert.equal(agent.counters.dropped, 2);
  });

  it('gives 202 but no ACK for another agent’s id or an unknown task', async () => {
    const { agent, s } = await running();
    const foreign = taskStatus(agent, 't1', 'TASK_RUNNING', { agent_id: { value: 'other-S9' } });
    const unknown = taskStatus(agent, 'nope', 'TASK_RUNNING');
    const good = taskStatus(agent, 't1', 'TASK_RUNNING');
    assert.equal((await postCall(agent, updateCall(agent, foreign))).status, 202);
    assert.equal((await postCall(agent, updateCall(agent, unknown))).status, 202);
    await postCall(agent, updateCall(agent, good));
    await s.next('ACKNOWLEDGED');
    assert.deepEqual(acksOf(s), [hex(good.uuid!)]);
    assert.equal(agent.counters.ignored, 1);
    assert.equal(agent.counters.unknownTask, 1);
  });

  it('replays unacknowledged_updates on re-SUBSCRIBE: recorded once, ACKed after SUBSCRIBED', async () => {
    const { agent, s } = await running();
    agent.withholdAcks(true);
    const runningStatus = taskStatus(agent, 't1', 'TASK_RUNNING');
    await postCall(agent, updateCall(agent, runningStatus));
    await waitFor(() => agent.counters.acksWithheld === 1, { what: 'the withheld ACK' });
    agent.withholdAcks(false);
    // An update the agent never saw (sent while "disconnected") is replayed too.
    const finished = taskStatus(agent, 't1', 'TASK_FINISHED');
    const call = subscribeCall(agent, {
      unacknowledged_tasks: [s.launched()[0]!],
      unacknowledged_updates: [{ status: runningStatus }, { status: finished }],
    });
    const again = await open(agent, { call });
    await again.next('ACKNOWLEDGED', { count: 2 });
    assert.deepEqual(again.types(), ['SUBSCRIBED', 'ACKNOWLEDGED', 'ACKNOWLEDGED']);
    assert.deepEqual(acksOf(again), [hex(runningStatus.uuid!), hex(finished.uuid!)]);
    assert.deepEqual(agent.task('t1')!.statuses.map((x) => x.state), ['TASK_RUNNING', 'TASK_FINISHED']);
    assert.equal(agent.counters.updatesReplayed, 2);
    assert.equal(agent.counters.duplicates, 1);
  });

  it('turns launched tasks still STAGING and not listed into TASK_LOST on re-SUBSCRIBE', async () => {
    const { agent, s } = await running();
    agent.launchTask('t2');
    await s.next('LAUNCH', { count: 2 });
    agent.launchTask('t3');
    await postCall(agent, updateCall(agent, taskStatus(agent, 't3', 'TASK_RUNNING')));
    await s.next('ACKNOWLEDGED');
    agent.dropStream();
    agent.launchTask('lost-launch'); // written into no stream: lost, as upstream's would be
    const lost: string[] = [];
    agent.on('taskTerminal', (t) => lost.push(t.taskId));
    const again = await open(agent, { call: subscribeCall(agent, { unacknowledged_tasks: [s.launched()[1]!] }) });
    await again.next('SUBSCRIBED');
    assert.deepEqual(lost.sort(), ['lost-launch', 't1']);
    const status = agent.task('t1')!.statuses.at(-1)!;
    assert.equal(status.state, 'TASK_LOST');
    assert.equal(status.source, 'SOURCE_AGENT');
    assert.equal(status.reason, 'REASON_AGENT_RESTARTED');
    assert.equal(status.message, 'Task launched during agent restart');
    assert.equal(agent.task('t2')!.state, 'TASK_STAGING', 'listed tasks stay');
    assert.equal(agent.task('t3')!.state, 'TASK_RUNNING', 'tasks with an update stay');
    // Agent-made updates are not ACKed to the executor.
    assert.equal(again.types().filter((t) => t === 'ACKNOWLEDGED').length, 0);
  });

  it('uses TASK_DROPPED for a PARTITION_AWARE framework, and only after a restart with the after-restart rule', async () => {
    const aware = await running({ partitionAware: true });
    aware.s.close();
    await open(aware.agent);
    await waitFor(() => aware.agent.task('t1')!.state === 'TASK_DROPPED', { what: 'TASK_DROPPED' });

    const strict = await running({ unlistedStagingTasks: 'after-restart' });
    const again = await open(strict.agent);
    await again.next('SUBSCRIBED');
    assert.equal(strict.agent.task('t1')!.state, 'TASK_STAGING');
  });
});

describe('LocalAgent stream: other events', () => {
  it('sends KILL (with kill_policy), MESSAGE, ERROR and SHUTDOWN', async () => {
    const agent = await startAgent();
    const s = await open(agent, { contentType: 'application/x-protobuf' });
    await s.next('SUBSCRIBED');
    agent.launchTask('t1');
    assert.equal(agent.killTask('t1', { grace_period: { nanoseconds: 1_000_000_000 } }), true);
    assert.equal(agent.sendFrameworkMessage(Buffer.from([1, 2, 3])), true);
    assert.equal(agent.sendError('boom'), true);
    assert.equal(await agent.shutdownExecutor(), undefined);
    await s.next('SHUTDOWN');
    assert.deepEqual(s.types(), ['SUBSCRIBED', 'LAUNCH', 'KILL', 'MESSAGE', 'ERROR', 'SHUTDOWN']);
    const kill = s.events[2]!.kill!;
    assert.equal(kill.task_id.value, 't1');
    assert.equal(Number(kill.kill_policy!.grace_period!.nanoseconds), 1_000_000_000);
    assert.deepEqual([...s.events[3]!.message!.data], [1, 2, 3]);
    assert.equal(s.events[4]!.error!.message, 'boom');
    assert.equal(agent.executorState, 'TERMINATING');
  });

  it('kills a queued task itself (TASK_KILLED, REASON_TASK_KILLED_DURING_LAUNCH) and never launches it', async () => {
    const agent = await startAgent();
    agent.launchTask('q1');
    agent.launchTaskGroup(['g1', 'g2']);
    assert.equal(agent.killTask('q1'), false);
    agent.killTask('g2');
    const s = await open(agent);
    await s.next('SUBSCRIBED');
    agent.launchTask('after');
    await s.next('LAUNCH');
    assert.deepEqual(s.launched().map((t) => t.task_id.value), ['after']);
    for (const id of ['q1', 'g1', 'g2']) {
      const last = agent.task(id)!.statuses.at(-1)!;
      assert.deepEqual([last.state, last.reason, last.source], ['TASK_KILLED', 'REASON_TASK_KILLED_DURING_LAUNCH', 'SOURCE_AGENT'], id);
    }
  });

  it('answers a SUBSCRIBE from a terminating executor with SHUTDOWN only, then ends the stream', async () => {
    const agent = await startAgent();
    await agent.shutdownExecutor();
    const s = await open(agent);
    assert.equal(await s.ended, true);
    assert.deepEqual(s.types(), ['SHUTDOWN']);
  });

  it('loses events sent while no stream is open', async () => {
    const agent = await startAgent();
    assert.equal(agent.sendFrameworkMessage(Buffer.from('x')), false);
    assert.equal(agent.counters.eventsLost, 1);
  });

  it('ends the stream on stop()', async () => {
    const agent = await startAgent();
    const s = await open(agent);
    await s.next('SUBSCRIBED');
    await agent.stop();
    assert.equal(await s.ended, true);
  });

  it('keeps bounded history when recording is off', async () => {
    const agent = await startAgent({ recordCalls: false });
    const s = await open(agent);
    await s.next('SUBSCRIBED');
    agent.launchTask('t1');
    for (const state of ['TASK_STARTING', 'TASK_RUNNING', 'TASK_FINISHED'] as const) {
      await postCall(agent, updateCall(agent, taskStatus(agent, 't1', state)));
    }
    await s.next('ACKNOWLEDGED', { count: 3 });
    const task = agent.task('t1')!;
    assert.deepEqual([task.state, task.acceptedCount, task.statuses.length, task.info], ['TASK_FINISHED', 3, 0, undefined]);
    assert.equal(agent.calls.length, 0);
  });
});
