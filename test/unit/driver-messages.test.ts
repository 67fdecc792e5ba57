// Framework messages are best effort: the driver caps each message's size and the message bytes
// awaiting an answer on the call connection, drops the excess, and status updates still go out.
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { MAX_FRAMEWORK_MESSAGE_BYTES, MAX_FRAMEWORK_MESSAGE_BYTES_IN_FLIGHT, MesosExecutorDriver } from '../../src/driver/driver.js';
import type { CallResult } from '../../src/driver/transport.js';
import { buildExecutorEnvironment } from '../../src/protocol/environment-variables.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { RecordingExecutor } from '../helpers/recording-executor.js';
import { ScriptedTransport } from '../helpers/scripted-transport.js';

const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('driver: framework message bounds', () => {
  it('drops a message over the size limit, and messages past the bytes in flight; updates still go out', async () => {
    const clock = new FakeClock();
    const transport = new ScriptedTransport(['stream']);
    // The agent is slow: no call is answered until the test says so.
    const answers: Array<(result: CallResult) => void> = [];
    transport.answer = () => new Promise((resolve) => answers.push(resolve));
    const env = buildExecutorEnvironment({ frameworkId: 'f', executorId: 'e', agentId: 'a', agentAddress: '127.0.0.1:5051', directory: '/tmp', checkpoint: false });
    const driver = new MesosExecutorDriver(new RecordingExecutor(), { env, transport, timers: clock });
    await driver.start();
    await settle();
    const sizeOf = (n: number): number => transport.calls[n]!.byteLength;

    driver.sendFrameworkMessage(new Uint8Array(MAX_FRAMEWORK_MESSAGE_BYTES + 1));
    assert.equal(transport.calls.length, 0, 'too large: dropped');
    const chunk = MAX_FRAMEWORK_MESSAGE_BYTES_IN_FLIGHT / 4;
    for (let i = 0; i < 600; i++) driver.sendFrameworkMessage(new Uint8Array(chunk));
    assert.equal(transport.calls.length, 4, 'only the bytes in flight allowed were sent');
    assert.ok(sizeOf(3) > chunk);

    driver.sendStatusUpdate({ task_id: { value: 't1' }, state: 'TASK_RUNNING' });
    await settle();
    assert.equal(transport.calls.length, 5, 'the update went out at once');
    assert.ok(sizeOf(4) < 1_000, 'and it is the update, not a message');

    // Answers free the bytes in flight: messages go out again.
    answers[0]!({ status: 202, body: '' });
    await settle();
    driver.sendFrameworkMessage(new Uint8Array(chunk));
    assert.equal(transport.calls.length, 6);
    await driver.abort();
  });
});
