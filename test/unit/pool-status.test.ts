// StatusReporter: a refused update is replaced by a minimal one (state, reason, short message),
// so no task is left without its terminal update because something in it could not be encoded.
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import type { StatusUpdateInput } from '../../src/executor.js';
import { StatusReporter, toStatusUpdate } from '../../src/pool/status.js';
import { StubDriver } from '../helpers/stub-driver.js';

/** Refuses (throws) any update that `refuse` picks, as a driver whose codec cannot encode it. */
class PickyDriver extends StubDriver {
  readonly refused: StatusUpdateInput[] = [];
  constructor(private readonly refuse: (update: StatusUpdateInput) => boolean) {
    super();
  }

  override sendStatusUpdate(status: StatusUpdateInput) {
    if (this.refuse(status)) {
      this.refused.push(status);
      throw new Error(`cannot encode ${'z'.repeat(1_000)}`);
    }
    return super.sendStatusUpdate(status);
  }
}

describe('StatusReporter', () => {
  it('a terminal update that cannot be encoded is sent minimal: state, reason, a short message, no data', () => {
    const driver = new PickyDriver((u) => u.data !== undefined);
    const logs: string[] = [];
    const logger = { warn: (_o: unknown, m: string) => logs.push(m), error: (_o: unknown, m: string) => logs.push(m) };
    const r = new StatusReporter(logger as never);
    r.bind(driver);
    r.send('t1', { type: 'status', state: 'TASK_FAILED', reason: 'REASON_CONTAINER_LIMITATION_MEMORY', message: 'boom', data: new Uint8Array([1]) });
    assert.equal(driver.refused.length, 1);
    assert.equal(driver.updates.length, 1);
    const sent = driver.updates[0]!;
    assert.equal(sent.state, 'TASK_FAILED');
    assert.equal(sent.reason, 'REASON_CONTAINER_LIMITATION_MEMORY');
    assert.equal(sent.data, undefined);
    assert.match(sent.message!, /^the full status update could not be sent: cannot encode z+…$/);
    assert.ok(Buffer.byteLength(sent.message!) <= 200);
    assert.deepEqual(logs, ['status update refused by the driver; sent in its minimal form']);
  });

  it('when even the minimal form is refused, it is logged and nothing throws', () => {
    const driver = new PickyDriver(() => true);
    const logs: string[] = [];
    const logger = { warn: (_o: unknown, m: string) => logs.push(m), error: (_o: unknown, m: string) => logs.push(m) };
    const r = new StatusReporter(logger as never);
    r.bind(driver);
    r.send('t1', { type: 'status', state: 'TASK_FINISHED' });
    assert.equal(driver.refused.length, 2);
    assert.deepEqual(logs, ['status update refused by the driver']);
  });

  it('a message that is not a string is made one', () => {
    const update = toStatusUpdate('t1', { type: 'status', state: 'TASK_FAILED', message: 42 as unknown as string });
    assert.equal(update.message, '42');
  });
});
