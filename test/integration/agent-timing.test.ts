// When the LocalAgent answers, over real loopback HTTP in both encodings: ACKNOWLEDGED events
// always after the update was accepted (never in the same turn), held and reordered when asked;
// a SUBSCRIBE processed late when asked.
import { strict as assert } from 'node:assert';
import { request } from 'node:http';
import { describe, it } from 'node:test';
import type { ContentType } from '../../src/protocol/codec.js';
import { agentRig, codecOf, postCall, subscribeCall, taskStatus, updateCall } from '../helpers/agent-client.js';
import { waitFor } from '../helpers/wait.js';

const { startAgent, open } = agentRig();
const ENCODINGS: readonly ContentType[] = ['application/json', 'application/x-protobuf'];
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

describe('LocalAgent acknowledgements', () => {
  for (const contentType of ENCODINGS) {
    it(`are sent in a later turn of the event loop than the update's acceptance (${contentType})`, async () => {
      const agent = await startAgent();
      const s = await open(agent, { contentType });
      await s.next('SUBSCRIBED');
      agent.launchTask('t1');
      let turnEnded = false;
      let endedBeforeAck: boolean | undefined;
      agent.on('statusUpdate', () => setImmediate(() => (turnEnded = true)));
      agent.on('acknowledged', () => (endedBeforeAck = turnEnded));
      assert.equal((await postCall(agent, updateCall(agent, taskStatus(agent, 't1', 'TASK_RUNNING')), { contentType })).status, 202);
      await s.next('ACKNOWLEDGED');
      assert.equal(endedBeforeAck, true);
    });

    it(`are held for ackDelayMs and sent in reverse order with reorderAcks (${contentType})`, async () => {
      const agent = await startAgent({ ackDelayMs: 500, reorderAcks: true });
      const s = await open(agent, { contentType });
      await s.next('SUBSCRIBED');
      const uuids: string[] = [];
      let firstAccepted = 0;
      let firstAcked = 0;
      agent.once('statusUpdate', () => (firstAccepted = performance.now()));
      agent.once('acknowledged', () => (firstAcked = performance.now()));
      for (const id of ['a', 'b', 'c']) {
        agent.launchTask(id);
        const status = taskStatus(agent, id, 'TASK_RUNNING');
        uuids.push(hex(status.uuid!));
        assert.equal((await postCall(agent, updateCall(agent, status), { contentType })).status, 202);
      }
      assert.equal(agent.counters.acksSent, 0, 'nothing sent within the delay');
      await s.next('ACKNOWLEDGED', { count: 3 });
      assert.ok(firstAcked - firstAccepted >= 495, `held for the delay (${firstAcked - firstAccepted} ms)`);
      const acked = s.events.filter((e) => e.type === 'ACKNOWLEDGED').map((e) => hex(e.acknowledged!.uuid));
      assert.deepEqual(acked, [...uuids].reverse());

      // delayAcks() changes the timing for what comes next: in order, in the next turn.
      agent.delayAcks(0);
      const status = taskStatus(agent, 'a', 'TASK_FINISHED');
      const second = taskStatus(agent, 'b', 'TASK_FINISHED');
      await Promise.all([postCall(agent, updateCall(agent, status), { contentType }), postCall(agent, updateCall(agent, second), { contentType })]);
      await s.next('ACKNOWLEDGED', { count: 5 });
      assert.equal(agent.counters.acksSent, 5);
    });
  }

  it('are lost with a restart while held', async () => {
    const agent = await startAgent({ frameworkInfo: { checkpoint: true }, ackDelayMs: 60_000 });
    const s = await open(agent);
    await s.next('SUBSCRIBED');
    agent.launchTask('t1');
    await postCall(agent, updateCall(agent, taskStatus(agent, 't1', 'TASK_RUNNING')));
    const restarted = agent.restart({ reregisterMs: 100 });
    await waitFor(() => agent.phase !== 'running', { what: 'the restart to begin' });
    assert.equal(agent.counters.acksDropped, 1);
    await restarted;
    assert.equal(agent.counters.acksSent, 0);
    assert.throws(() => agent.delayAcks(-1), { code: 'MPE_INVALID_OPTION' });
  });
});

describe('LocalAgent delayed SUBSCRIBE', () => {
  for (const contentType of ENCODINGS) {
    it(`answers nothing, not even the 200 head, and changes nothing until processed (${contentType})`, async () => {
      const agent = await startAgent();
      agent.delaySubscribe(400);
      agent.launchTask('queued');
      const started = performance.now();
      const opening = open(agent, { contentType });
      await waitFor(() => agent.counters.requests === 1, { what: 'the SUBSCRIBE to arrive' });
      assert.equal(agent.executorState, 'REGISTERING');
      assert.equal(agent.calls.length, 0);
      const s = await opening;
      assert.ok(performance.now() - started >= 390, 'the 200 came after the delay');
      await s.next('LAUNCH');
      assert.deepEqual(s.types(), ['SUBSCRIBED', 'LAUNCH']);
      assert.equal(agent.executorState, 'RUNNING');
      // Only the next one was delayed.
      const again = await open(agent, { contentType });
      await again.next('SUBSCRIBED');
    });
  }

  it('subscribes onto a dead stream when the executor gave up meanwhile; a restart loses it', async () => {
    const agent = await startAgent({ frameworkInfo: { checkpoint: true }, executorReregistrationTimeoutMs: 100 });
    agent.delaySubscribe(200);
    const closed = agent.nextEvent('streamClosed');
    const subscribed = agent.nextEvent('subscribed');
    const body = codecOf('application/json').encodeCall(subscribeCall(agent));
    const req = request({ host: '127.0.0.1', port: agent.port, method: 'POST', path: '/api/v1/executor', headers: { 'Content-Type': 'application/json', 'Content-Length': String(body.byteLength) } });
    req.on('error', () => undefined);
    req.end(body);
    await waitFor(() => agent.counters.requests === 1, { what: 'the SUBSCRIBE to arrive' });
    req.destroy();
    await subscribed;
    assert.equal(await closed, 'client-closed');
    assert.equal(agent.subscribed, false);
    assert.equal(agent.executorState, 'RUNNING');

    agent.delaySubscribe(60_000);
    const late = request({ host: '127.0.0.1', port: agent.port, method: 'POST', path: '/api/v1/executor', headers: { 'Content-Type': 'application/json', 'Content-Length': String(body.byteLength) } });
    late.on('error', () => undefined);
    late.end(body);
    await waitFor(() => agent.counters.requests === 2, { what: 'the second SUBSCRIBE to arrive' });
    await agent.restart({ reregisterMs: 50 });
    assert.equal(agent.counters.subscribes, 1, 'the delayed SUBSCRIBE died with the agent');
    assert.throws(() => agent.delaySubscribe(10, 0), { code: 'MPE_INVALID_OPTION' });
  });
});
