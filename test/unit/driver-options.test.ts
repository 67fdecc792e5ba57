// The driver's options: one refusal per option, in the one message form of src/validate.ts.
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { resolveDriverOptions, type MesosExecutorDriverOptions } from '../../src/driver/options.js';
import { assertInvalidOption } from '../helpers/invalid-option.js';

function invalid(options: Record<string, unknown>, option: string, message: string): void {
  assertInvalidOption(() => resolveDriverOptions(options as MesosExecutorDriverOptions), option, message);
}

describe('MesosExecutorDriver options', () => {
  it('defaults, frozen', () => {
    const o = resolveDriverOptions({});
    assert.equal(o.contentType, 'application/x-protobuf');
    assert.equal(o.heartbeatCallIntervalMs, 30 * 60_000);
    assert.equal(o.pipelining, 32);
    assert.ok(Object.isFrozen(o));
    assert.equal(resolveDriverOptions({ heartbeatCallIntervalMs: 0 }).heartbeatCallIntervalMs, 0, '0 turns HEARTBEAT calls off');
  });

  it('contentType is one of the two encodings', () => {
    invalid({ contentType: 'text/plain' }, 'contentType', `contentType: expected 'application/x-protobuf' or 'application/json', got "text/plain"`);
  });

  for (const [name, bad] of [
    ['heartbeatIntervalMs', 0],
    ['livenessMultiplier', -1],
    ['subscribeRetryIntervalMs', Number.NaN],
    ['updateRetryIntervalMs', Infinity],
    ['subscribedTimeoutMs', '1s'],
    ['pipelining', 0],
    ['maxUnacknowledgedUpdates', -1],
    ['maxUnacknowledgedBytes', 0],
    ['maxEventBytes', 0],
    ['callTimeoutMs', -1],
  ] as const) {
    it(`${name} is a positive finite number`, () => {
      invalid({ [name]: bad }, name, `${name}: expected a finite number > 0, got ${typeof bad === 'string' ? JSON.stringify(bad) : String(bad)}`);
    });
  }

  it('heartbeatCallIntervalMs is a finite number >= 0', () => {
    invalid({ heartbeatCallIntervalMs: -1 }, 'heartbeatCallIntervalMs', 'heartbeatCallIntervalMs: expected a finite number >= 0, got -1');
  });
});
