// What the driver does with the answers to UPDATE calls, against a scripted transport and a fake
// clock: what a real agent cannot be made to do on demand (an unsolicited answer that puts the
// call connection's answers out of step with its calls).
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import type { MesosExecutorDriver } from '../../src/driver/driver.js';
import { ConnectionError } from '../../src/errors.js';
import { protobufCodec } from '../../src/protocol/codec.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { RecordingExecutor } from '../helpers/recording-executor.js';
import { ScriptedTransport, scriptedDriver } from '../helpers/scripted-transport.js';

const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function driverOn(transport: ScriptedTransport, clock: FakeClock): MesosExecutorDriver {
  return scriptedDriver(new RecordingExecutor(), transport, false, { timers: clock, updateRetryIntervalMs: 100 });
}

/** The task ids and states of the UPDATE calls sent, in order. */
function updatesSent(transport: ScriptedTransport): string[] {
  return transport.calls
    .map((body) => protobufCodec.decodeCall(body))
    .filter((call) => call.type === 'UPDATE')
    .map((call) => `${call.update!.status.task_id.value}:${String(call.update!.status.state)}`);
}

describe('driver: UPDATE answers', () => {
  /** Two tasks' RUNNING updates sent on a subscribed driver, answered by `answer`, then the retry delay. */
  async function twoUpdatesThenRetry(answer: ScriptedTransport['answer']): Promise<{ transport: ScriptedTransport; driver: MesosExecutorDriver }> {
    const clock = new FakeClock();
    const transport = new ScriptedTransport(['stream']);
    transport.answer = answer;
    const driver = driverOn(transport, clock);
    await driver.start();
    await settle();
    driver.sendStatusUpdate({ task_id: { value: 'a' }, state: 'TASK_RUNNING' });
    driver.sendStatusUpdate({ task_id: { value: 'b' }, state: 'TASK_RUNNING' });
    await settle();
    assert.deepEqual(updatesSent(transport), ['a:TASK_RUNNING', 'b:TASK_RUNNING']);
    clock.tick(100); // the retry delay
    await settle();
    return { transport, driver };
  }

  it('after answers fall out of step with calls, every unacknowledged update is sent again (a stray 202 cannot hide a lost one)', async () => {
    // Call 0 gets a stray 202 that was not its answer; call 1's real answer then finds no call:
    // the connection drops it as a framing anomaly. Later calls are answered normally.
    const { transport, driver } = await twoUpdatesThenRetry((_body, index) =>
      index === 1 ? Promise.reject(new ConnectionError('call failed: an answer came for no call', { framing: true })) : Promise.resolve({ status: 202, body: '' }),
    );
    assert.deepEqual(updatesSent(transport).slice(2).sort(), ['a:TASK_RUNNING', 'b:TASK_RUNNING'], 'both again: a, though "accepted", too');
    assert.equal(driver.unacknowledgedUpdates, 2, 'kept until acknowledged');
    await driver.abort();
  });

  it('a plain connection error resends only the update whose call failed', async () => {
    const { transport, driver } = await twoUpdatesThenRetry((_body, index) =>
      index === 1 ? Promise.reject(new ConnectionError('call failed: reset')) : Promise.resolve({ status: 202, body: '' }),
    );
    assert.deepEqual(updatesSent(transport), ['a:TASK_RUNNING', 'b:TASK_RUNNING', 'b:TASK_RUNNING']);
    await driver.abort();
  });

  it('a refused terminal update is replaced once, with none of its data; a refused replacement is dropped', async () => {
    const clock = new FakeClock();
    const transport = new ScriptedTransport(['stream']);
    transport.answer = () => Promise.resolve({ status: 413, body: 'Request Entity Too Large' });
    const driver = driverOn(transport, clock);
    const refused: boolean[] = [];
    driver.on('updateRefused', (info) => refused.push(info.replaced));
    await driver.start();
    await settle();
    driver.sendStatusUpdate({ task_id: { value: 'a' }, state: 'TASK_FINISHED', data: Buffer.alloc(1000), message: 'job text' });
    await settle();
    await settle();
    const calls = transport.calls.map((body) => protobufCodec.decodeCall(body)).filter((c) => c.type === 'UPDATE');
    assert.equal(calls.length, 2);
    const replacement = calls[1]!.update!.status;
    assert.equal(replacement.state, 'TASK_FINISHED');
    assert.equal(replacement.data, undefined);
    assert.match(String(replacement.message), /^the executor's TASK_FINISHED update was refused: agent answered 413 \(Request Entity Too Large\) to UPDATE/);
    assert.notEqual(Buffer.from(replacement.uuid!).toString('hex'), Buffer.from(calls[0]!.update!.status.uuid!).toString('hex'));
    assert.deepEqual(refused, [true, false]);
    assert.equal(driver.unacknowledgedUpdates, 0);
    assert.equal(driver.status, 2);
    await driver.abort();
  });

  it('a 30-day shutdown grace is one long wait: every timer Node sees is within its 2^31−1 ms, and none fires early', async () => {
    const clock = new FakeClock();
    const transport = new ScriptedTransport(['stream']);
    const thirtyDays = 30 * 86_400_000;
    const driver = scriptedDriver(new RecordingExecutor(), transport, false, { timers: clock }, thirtyDays);
    let expired = 0;
    driver.on('shutdownGraceExpired', () => expired++);
    await driver.start();
    await settle();
    transport.streams[0]!.handlers!.onEnd(); // no checkpointing: shutdown, and its grace begins
    clock.tick(thirtyDays - 1);
    assert.equal(expired, 0);
    assert.ok(clock.delays.every((d) => d <= 2 ** 31 - 1), 'no timer past what Node honours');
    assert.ok(clock.delays.length < 100, `${clock.delays.length} timers: not a 1 ms loop`);
    clock.tick(1);
    assert.equal(expired, 1);
  });
});
