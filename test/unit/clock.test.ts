// withLongTimers: any delay fires once, when due, in steps Node's setTimeout honours.
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { MAX_TIMER_DELAY_MS, withLongTimers } from '../../src/clock.js';
import { FakeClock } from '../helpers/fake-clock.js';

describe('withLongTimers', () => {
  it('a delay past 2^31-1 ms fires once, exactly when due, and no step is longer than Node allows', () => {
    const fake = new FakeClock(0);
    const clock = withLongTimers(fake);
    const fired: number[] = [];
    const delay = 30 * 24 * 3_600_000; // 30 days: 2 592 000 000 ms
    clock.setTimeout(() => fired.push(fake.now()), delay);
    assert.ok(fake.delays.every((d) => d <= MAX_TIMER_DELAY_MS), `steps ${fake.delays.join(', ')}`);
    fake.tick(MAX_TIMER_DELAY_MS);
    assert.deepEqual(fired, []);
    fake.tick(delay - MAX_TIMER_DELAY_MS - 1);
    assert.deepEqual(fired, []);
    fake.tick(1);
    assert.deepEqual(fired, [delay]);
    assert.equal(fake.pending, 0);
    assert.deepEqual(fake.delays, [MAX_TIMER_DELAY_MS, delay - MAX_TIMER_DELAY_MS]);
  });

  it('short delays pass straight through; NaN and negative are 0; Infinity never fires', () => {
    const fake = new FakeClock(0);
    const clock = withLongTimers(fake);
    const fired: string[] = [];
    clock.setTimeout(() => fired.push('short'), 5);
    clock.setTimeout(() => fired.push('nan'), Number.NaN);
    clock.setTimeout(() => fired.push('negative'), -3);
    clock.setTimeout(() => fired.push('never'), Number.POSITIVE_INFINITY);
    fake.tick(10 * MAX_TIMER_DELAY_MS);
    assert.deepEqual(fired, ['nan', 'negative', 'short']);
    assert.equal(fake.pending, 1, 'one step of the infinite timer waits');
    assert.ok(fake.delays.every((d) => d >= 0 && d <= MAX_TIMER_DELAY_MS));
  });

  it('clearTimeout cancels a long timer between its steps', () => {
    const fake = new FakeClock(0);
    const clock = withLongTimers(fake);
    let fired = false;
    const handle = clock.setTimeout(() => (fired = true), 3 * MAX_TIMER_DELAY_MS);
    fake.tick(MAX_TIMER_DELAY_MS + 5);
    clock.clearTimeout(handle);
    fake.tick(5 * MAX_TIMER_DELAY_MS);
    assert.equal(fired, false);
    assert.equal(fake.pending, 0);
    clock.clearTimeout(undefined);
    clock.clearTimeout(42);
  });
});
