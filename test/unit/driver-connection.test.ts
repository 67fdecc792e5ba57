// The connection state machine (src/driver/connection.ts) alone, on a scripted transport and a
// fake clock: each row of the fault table (docs/driver.md) that decides between reconnecting and
// shutting down, with and without checkpointing.
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { AgentConnection, type ConnectionHost } from '../../src/driver/connection.js';
import { silentLogger } from '../../src/log.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { ScriptedTransport, type SubscribeStep } from '../helpers/scripted-transport.js';

const settle = async (): Promise<void> => {
  for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve));
};

interface Rig {
  connection: AgentConnection;
  transport: ScriptedTransport;
  clock: FakeClock;
  log: string[];
}

function rig(script: SubscribeStep[], checkpoint: boolean): Rig {
  const clock = new FakeClock();
  const transport = new ScriptedTransport(script);
  const log: string[] = [];
  const host: ConnectionHost = {
    subscribeCall: () => ({ body: new Uint8Array(0), carried: [], tasks: 0 }),
    onSubscribing: () => log.push('subscribing'),
    onSubscribeFailed: (info) => log.push(`failed:${info.status ?? 'connection'}:${info.willRetry ? 'retry' : 'no-retry'}`),
    onSubscribed: (_event, _carried, reconnected) => log.push(reconnected ? 'resubscribed' : 'subscribed'),
    onEvent: () => {},
    onLost: (info) => log.push(`lost:${info.reason}`),
    onGiveUp: () => log.push('give-up'),
  };
  const connection = new AgentConnection({
    transport,
    host,
    clock,
    logger: silentLogger,
    contentType: 'application/x-protobuf',
    checkpoint: checkpoint ? { backoffMaxMs: 100, recoveryTimeoutMs: 10_000 } : null,
    random: () => 0.5,
    subscribeRetryIntervalMs: 1000,
    subscribedTimeoutMs: 30_000,
    livenessTimeoutMs: 3_600_000,
    maxEventBytes: 1 << 20,
  });
  return { connection, transport, clock, log };
}

describe('AgentConnection', () => {
  for (const checkpoint of [false, true]) {
    const mode = checkpoint ? 'with checkpointing' : 'without checkpointing';

    it(`${mode}: a first connection that fails means give up (upstream backs off only once it reached the agent)`, async () => {
      const r = rig(['refused'], checkpoint);
      r.connection.start();
      await settle();
      assert.deepEqual(r.log, ['subscribing', 'failed:connection:no-retry', 'give-up']);
      assert.equal(r.connection.state, 'closed');
    });

    it(`${mode}: 503 and 404 are answered by another SUBSCRIBE 1 s later, and so is a refusal (401)`, async () => {
      const r = rig([503, 404, 401, 'stream'], checkpoint);
      r.connection.start();
      await settle();
      for (let i = 0; i < 3; i++) {
        assert.equal(r.connection.state, 'refused');
        r.clock.tick(999);
        await settle();
        assert.equal(r.transport.subscribes.length, i + 1, 'not before 1 s');
        r.clock.tick(1);
        await settle();
      }
      assert.equal(r.connection.state, 'subscribed');
      assert.deepEqual(r.log.filter((l) => l.startsWith('failed')), ['failed:503:retry', 'failed:404:retry', 'failed:401:retry']);
    });
  }

  it('without checkpointing: a 503, then a refused connection, means give up (no orphan retrying forever)', async () => {
    const r = rig([503, 'refused'], false);
    r.connection.start();
    await settle();
    r.clock.tick(1000);
    await settle();
    assert.deepEqual(r.log.slice(-2), ['failed:connection:no-retry', 'give-up']);
    assert.equal(r.connection.state, 'closed');
  });

  it('with checkpointing: a 503, then a refused connection, is a recovery: reconnection attempts, no give-up', async () => {
    const r = rig([503, 'refused', 'refused', 'stream'], true);
    r.connection.start();
    await settle();
    r.clock.tick(1000);
    await settle();
    assert.equal(r.connection.state, 'disconnected');
    for (let i = 0; i < 3; i++) {
      r.clock.tick(50);
      await settle();
    }
    assert.equal(r.connection.state, 'subscribed');
    assert.ok(!r.log.includes('give-up'));
  });

  it('without checkpointing a lost stream means give up; with it, a resubscription', async () => {
    const plain = rig(['stream'], false);
    plain.connection.start();
    await settle();
    plain.transport.streams[0]!.handlers!.onEnd();
    assert.deepEqual(plain.log, ['subscribing', 'subscribed', 'lost:stream-ended', 'give-up']);
    const checkpointing = rig(['stream', 'stream'], true);
    checkpointing.connection.start();
    await settle();
    checkpointing.transport.streams[0]!.handlers!.onEnd();
    checkpointing.clock.tick(0);
    await settle();
    assert.deepEqual(checkpointing.log, ['subscribing', 'subscribed', 'lost:stream-ended', 'subscribing', 'resubscribed']);
  });

  it('a 200 with no SUBSCRIBED within subscribedTimeoutMs is a lost connection, and the stream is closed', async () => {
    const r = rig(['silent', 'stream'], true);
    r.connection.start();
    await settle();
    assert.equal(r.connection.state, 'streaming');
    r.clock.tick(29_999);
    assert.equal(r.connection.state, 'streaming');
    r.clock.tick(1);
    assert.ok(r.log.includes('lost:subscribed-timeout'));
    assert.equal(r.transport.streams[0]!.closed, true);
    r.clock.tick(0);
    await settle();
    assert.equal(r.connection.state, 'subscribed');
  });

  it('the recovery timeout gives up when the agent never comes back', async () => {
    const r = rig(['stream', ...Array<SubscribeStep>(1000).fill('refused')], true);
    r.connection.start();
    await settle();
    r.transport.streams[0]!.handlers!.onEnd();
    for (let t = 0; t < 10_000 && !r.log.includes('give-up'); t += 50) {
      r.clock.tick(50);
      await settle();
    }
    assert.equal(r.log.at(-1), 'give-up');
    assert.equal(r.connection.state, 'closed');
  });

  it('stopReconnecting(): an injected shutdown ends the reconnection attempts', async () => {
    const r = rig(['stream', ...Array<SubscribeStep>(100).fill('refused')], true);
    r.connection.start();
    await settle();
    r.transport.streams[0]!.handlers!.onEnd();
    r.clock.tick(0);
    await settle();
    r.connection.stopReconnecting();
    const sent = r.transport.subscribes.length;
    r.clock.tick(5_000);
    await settle();
    assert.equal(r.transport.subscribes.length, sent);
    assert.equal(r.connection.state, 'closed');
  });
});
