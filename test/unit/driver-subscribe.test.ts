// The driver's SUBSCRIBE retry rules against a scripted transport and a fake clock: what a real
// agent cannot be made to do on demand (a SUBSCRIBE that never gets an answer).
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import type { MesosExecutorDriver } from '../../src/driver/driver.js';
import type { AgentTransport } from '../../src/driver/transport.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { ScriptedTransport, scriptedDriver } from '../helpers/scripted-transport.js';
import { RecordingExecutor } from '../helpers/recording-executor.js';

const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function checkpointingDriver(transport: AgentTransport, clock: FakeClock, executor: RecordingExecutor): MesosExecutorDriver {
  return scriptedDriver(executor, transport, true, { timers: clock, random: () => 0.5 });
}

describe('driver: one SUBSCRIBE at a time', () => {
  it('a SUBSCRIBE whose connection is up is never abandoned, however slow the agent', async () => {
    const clock = new FakeClock();
    const transport = new ScriptedTransport(['stream', 'hang']);
    const executor = new RecordingExecutor();
    const driver = checkpointingDriver(transport, clock, executor);
    await driver.start();
    await settle();
    assert.deepEqual(executor.names(), ['registered']);

    transport.streams[0]!.handlers!.onEnd(); // the agent went away
    clock.tick(0); // the immediate reconnection attempt: connected, never answered
    await settle();
    assert.equal(transport.subscribes.length, 2);
    // Backoff ticks every 50 ms for ten minutes leave it alone: one SUBSCRIBE outstanding.
    for (let t = 0; t < 600_000; t += 50) clock.tick(50);
    await settle();
    assert.equal(transport.subscribes.length, 2, 'a second SUBSCRIBE was sent while one was outstanding');
    assert.equal(transport.subscribes[1]!.signal?.aborted, false);
    assert.equal(driver.connectionState, 'subscribing');
    assert.deepEqual(executor.names(), ['registered', 'disconnected']);
    await driver.abort();
  });

  it('an attempt whose connection never came up is replaced by the next backoff attempt', async () => {
    const clock = new FakeClock();
    const transport = new ScriptedTransport(['stream', 'pending', 'stream']);
    const executor = new RecordingExecutor();
    const driver = checkpointingDriver(transport, clock, executor);
    await driver.start();
    await settle();
    transport.streams[0]!.handlers!.onEnd();
    clock.tick(0);
    await settle();
    assert.equal(transport.subscribes.length, 2);
    clock.tick(50); // the next backoff attempt (random 0.5 × 100 ms)
    await settle();
    assert.equal(transport.subscribes[1]!.signal?.aborted, true);
    assert.equal(transport.subscribes.length, 3);
    await settle();
    assert.deepEqual(executor.names(), ['registered', 'disconnected', 'reregistered']);
    await driver.abort();
  });
});
