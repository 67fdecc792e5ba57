// The driver's SUBSCRIBE retry rules against a scripted transport and a fake clock: what a real
// agent cannot be made to do on demand (a SUBSCRIBE that never gets an answer).
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { MesosExecutorDriver } from '../../src/driver/driver.js';
import type { AgentTransport, EventStream, StreamHandlers, SubscribeResult } from '../../src/driver/transport.js';
import { protobufCodec } from '../../src/protocol/codec.js';
import { buildExecutorEnvironment } from '../../src/protocol/environment.js';
import { encodeRecord } from '../../src/protocol/recordio.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { RecordingExecutor } from '../helpers/recording-executor.js';

const SUBSCRIBED = encodeRecord(
  protobufCodec.encodeEvent({
    type: 'SUBSCRIBED',
    subscribed: {
      executor_info: { executor_id: { value: 'e' } },
      framework_info: { user: 'u', name: 'f' },
      agent_info: { hostname: 'h' },
    },
  }),
);

/** A stream that says SUBSCRIBED when started; the test can end it. */
class ScriptedStream implements EventStream {
  readonly contentType = 'application/x-protobuf';
  handlers: StreamHandlers | undefined;
  start(handlers: StreamHandlers): void {
    this.handlers = handlers;
    handlers.onData(SUBSCRIBED);
  }
  close(): void {}
}

/**
 * Answers each SUBSCRIBE as scripted: a stream; `hang`: connected, never answered; `pending`:
 * the connection itself never comes up (both until the signal aborts them).
 */
class ScriptedTransport implements AgentTransport {
  readonly subscribes: Array<{ signal: AbortSignal | undefined }> = [];
  readonly streams: ScriptedStream[] = [];
  constructor(private readonly script: Array<'stream' | 'hang' | 'pending'>) {}

  subscribe(_body: Uint8Array, _contentType: string, signal?: AbortSignal, onConnect?: () => void): Promise<SubscribeResult> {
    this.subscribes.push({ signal });
    const step = this.script.shift() ?? 'stream';
    if (step === 'hang' || step === 'pending') {
      if (step === 'hang') onConnect?.();
      return new Promise((_resolve, reject) => signal?.addEventListener('abort', () => reject(new Error('aborted'))));
    }
    const stream = new ScriptedStream();
    this.streams.push(stream);
    return Promise.resolve({ ok: true, stream });
  }
  call(): Promise<{ status: number; body: string }> {
    return Promise.resolve({ status: 202, body: '' });
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function checkpointingDriver(transport: AgentTransport, clock: FakeClock, executor: RecordingExecutor): MesosExecutorDriver {
  const env = buildExecutorEnvironment({
    frameworkId: 'f',
    executorId: 'e',
    agentId: 'a',
    agentAddress: '127.0.0.1:5051',
    directory: '/tmp',
    checkpoint: true,
    recoveryTimeoutMs: 60_000,
    subscriptionBackoffMaxMs: 100,
  });
  return new MesosExecutorDriver(executor, { env, transport, timers: clock, random: () => 0.5 });
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
