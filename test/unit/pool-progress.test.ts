import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { ProgressLimiter } from '../../src/pool/progress.js';
import { FakeClock } from '../helpers/fake-clock.js';

function harness(intervalMs = 250): { clock: FakeClock; sent: Array<{ at: number; value: string }>; limiter: ProgressLimiter<string> } {
  const clock = new FakeClock(1_000);
  const sent: Array<{ at: number; value: string }> = [];
  const limiter = new ProgressLimiter<string>(intervalMs, clock, (value) => sent.push({ at: clock.now(), value }));
  return { clock, sent, limiter };
}

describe('ProgressLimiter', () => {
  it('sends the first value at once', () => {
    const { sent, limiter, clock } = harness();
    limiter.offer('a');
    assert.deepEqual(sent, [{ at: 1_000, value: 'a' }]);
    assert.equal(clock.pending, 0);
  });

  it('holds values offered too soon; the latest wins, sent when the interval is over', () => {
    const { sent, limiter, clock } = harness();
    limiter.offer('a');
    clock.tick(10);
    limiter.offer('b');
    clock.tick(10);
    limiter.offer('c');
    assert.equal(limiter.holding, true);
    assert.equal(sent.length, 1);
    clock.tick(229);
    assert.equal(sent.length, 1);
    clock.tick(1);
    assert.deepEqual(sent, [{ at: 1_000, value: 'a' }, { at: 1_250, value: 'c' }]);
    assert.equal(limiter.holding, false);
  });

  it('never sends two values closer than the interval, whatever the offer pattern', () => {
    const { sent, limiter, clock } = harness(100);
    for (let i = 0; i < 1_000; i++) {
      limiter.offer(`v${i}`);
      clock.tick(i % 7);
    }
    clock.tick(1_000);
    for (let i = 1; i < sent.length; i++) assert.ok(sent[i]!.at - sent[i - 1]!.at >= 100, `updates ${i - 1} and ${i} too close`);
    // Everything coalesces into about one update per interval, and the last value is never lost.
    const span = sent[sent.length - 1]!.at - sent[0]!.at;
    assert.ok(sent.length <= span / 100 + 1);
    assert.equal(sent[sent.length - 1]!.value, 'v999');
  });

  it('sends nothing after close, and drops what it held', () => {
    const { sent, limiter, clock } = harness();
    limiter.offer('a');
    limiter.offer('b');
    limiter.close();
    clock.tick(1_000);
    limiter.offer('c');
    clock.tick(1_000);
    assert.deepEqual(sent.map((s) => s.value), ['a']);
    assert.equal(clock.pending, 0);
  });

  it('counts an update sent elsewhere (markSent) against the interval', () => {
    const { sent, limiter, clock } = harness();
    limiter.markSent();
    limiter.offer('a');
    assert.equal(sent.length, 0);
    clock.tick(250);
    assert.deepEqual(sent, [{ at: 1_250, value: 'a' }]);
  });

  it('with interval 0 sends every value', () => {
    const { sent, limiter } = harness(0);
    for (const v of ['a', 'b', 'c']) limiter.offer(v);
    assert.deepEqual(sent.map((s) => s.value), ['a', 'b', 'c']);
  });
});
