// A listener that throws cannot break the emitter: the owner is told, emit returns.
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { MesosExecutorDriver } from '../../src/driver/driver.js';
import { GuardedEmitter } from '../../src/guarded-emitter.js';
import type { Logger } from '../../src/log.js';
import { buildExecutorEnvironment } from '../../src/protocol/environment-variables.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { RecordingExecutor } from '../helpers/recording-executor.js';
import { ScriptedTransport } from '../helpers/scripted-transport.js';

class Probe extends GuardedEmitter<{ ping: [n: number] }> {
  readonly failures: Array<[string, unknown]> = [];
  protected override listenerFailed(event: 'ping', error: unknown): void {
    this.failures.push([event, error]);
  }
}

describe('guarded event emission', () => {
  it('hands a listener error to the owner and returns', () => {
    const probe = new Probe();
    const seen: number[] = [];
    probe.on('ping', (n) => seen.push(n));
    assert.equal(probe.emit('ping', 1), true);
    const boom = new Error('boom');
    probe.on('ping', () => {
      throw boom;
    });
    assert.equal(probe.emit('ping', 2), true);
    assert.deepEqual(seen, [1, 2]);
    assert.deepEqual(probe.failures, [['ping', boom]]);
    assert.equal(new Probe().emit('ping', 3), false, 'no listener: false, as EventEmitter');
  });

  it("the driver logs a throwing listener's error and goes on", () => {
    const errors: Array<{ fields: object; message: string | undefined }> = [];
    const logger: Logger = { debug() {}, info() {}, warn() {}, error: (fields, message) => errors.push({ fields, message }) };
    const env = buildExecutorEnvironment({ frameworkId: 'f', executorId: 'e', agentId: 'a', agentAddress: '127.0.0.1:5051', directory: '/tmp', checkpoint: false });
    const driver = new MesosExecutorDriver(new RecordingExecutor(), { env, transport: new ScriptedTransport([]), timers: new FakeClock(), logger });
    driver.on('heartbeat', () => {
      throw new Error('listener bug');
    });
    assert.equal(driver.emit('heartbeat'), true);
    assert.equal(errors.length, 1);
    assert.equal(errors[0]!.message, 'a driver event listener threw');
    assert.equal((errors[0]!.fields as { event: string }).event, 'heartbeat');
  });
});
