import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { MesosExecutorError } from '../../src/errors.js';
import { ReconnectBackoff, type ReconnectAttempt, type ReconnectBackoffOptions } from '../../src/driver/backoff.js';
import { systemClock } from '../../src/clock.js';
import { FakeClock, seededRandom } from '../helpers/fake-clock.js';

interface Harness {
  readonly clock: FakeClock;
  readonly backoff: ReconnectBackoff;
  /** Clock time of every attempt, in order. */
  readonly attemptTimes: number[];
  readonly attempts: ReconnectAttempt[];
  readonly timeouts: number[];
}

function harness(overrides: Partial<ReconnectBackoffOptions> = {}, randoms: number[] | (() => number) = [0.5]): Harness {
  const clock = new FakeClock(1_000);
  const attemptTimes: number[] = [];
  const attempts: ReconnectAttempt[] = [];
  const timeouts: number[] = [];
  let i = 0;
  const random = typeof randoms === 'function' ? randoms : () => randoms[i++ % randoms.length]!;
  const backoff = new ReconnectBackoff({
    backoffMaxMs: 2_000,
    recoveryTimeoutMs: 15 * 60_000,
    attempt: (a) => {
      attemptTimes.push(clock.now());
      attempts.push(a);
    },
    onRecoveryTimeout: () => timeouts.push(clock.now()),
    clock,
    random,
    ...overrides,
  });
  return { clock, backoff, attemptTimes, attempts, timeouts };
}

describe('ReconnectBackoff', () => {
  it('does nothing until disconnected', () => {
    const h = harness();
    h.clock.tick(60_000);
    assert.equal(h.attemptTimes.length, 0);
    assert.equal(h.backoff.state, 'idle');
    assert.equal(h.clock.pending, 0);
  });

  it('tries at once (on a 0 ms timer, not re-entrantly), then after random delays in [0, backoffMax]', () => {
    const h = harness({}, [0.5, 0.25, 0, 0.999]);
    assert.equal(h.backoff.onDisconnected(), true);
    assert.equal(h.attemptTimes.length, 0, 'not called inside onDisconnected');
    h.clock.tick(0);
    assert.deepEqual(h.attemptTimes, [1_000]);
    h.clock.tick(999);
    assert.equal(h.attemptTimes.length, 1);
    h.clock.tick(1); // 0.5 * 2000
    h.clock.tick(500); // 0.25 * 2000
    h.clock.tick(0); // 0 * 2000
    h.clock.tick(1_998); // 0.999 * 2000
    assert.deepEqual(h.attemptTimes, [1_000, 2_000, 2_500, 2_500, 4_498]);
    assert.deepEqual(
      h.attempts.map((a) => a.number),
      [1, 2, 3, 4, 5],
    );
    assert.equal(h.backoff.attempts, 5);
  });

  it('never waits longer than backoffMax between attempts (seeded random)', () => {
    const h = harness({ backoffMaxMs: 2_000, recoveryTimeoutMs: 10 * 60_000 }, seededRandom(42));
    h.backoff.onDisconnected();
    h.clock.tick(9 * 60_000);
    assert.ok(h.attemptTimes.length > 9 * 60 / 2, `only ${h.attemptTimes.length} attempts`);
    for (let i = 1; i < h.attemptTimes.length; i++) {
      const gap = h.attemptTimes[i]! - h.attemptTimes[i - 1]!;
      assert.ok(gap >= 0 && gap <= 2_000, `gap ${gap}`);
    }
  });

  it('starts the recovery deadline on the first disconnect and does not restart it on later ones', () => {
    const h = harness({ recoveryTimeoutMs: 10_000 });
    h.backoff.onDisconnected();
    assert.equal(h.backoff.deadline, 11_000);
    h.clock.tick(6_000);
    // Failed attempts report disconnects again: nothing changes.
    assert.equal(h.backoff.onDisconnected(), false);
    assert.equal(h.backoff.deadline, 11_000);
    h.clock.tick(3_999);
    assert.deepEqual(h.timeouts, []);
    h.clock.tick(1);
    assert.deepEqual(h.timeouts, [11_000]);
    assert.equal(h.backoff.state, 'expired');
    assert.equal(h.backoff.deadline, null);
  });

  it('stops attempting when the deadline passes, and aborts the attempt in progress', () => {
    const h = harness({ recoveryTimeoutMs: 5_000 });
    h.backoff.onDisconnected();
    h.clock.tick(4_999);
    const count = h.attemptTimes.length;
    const last = h.attempts.at(-1)!;
    assert.equal(last.signal.aborted, false);
    h.clock.tick(1);
    assert.equal(last.signal.aborted, true);
    h.clock.tick(60_000);
    assert.equal(h.attemptTimes.length, count);
    assert.equal(h.clock.pending, 0);
    // Expired: a further disconnect report does not start another period.
    assert.equal(h.backoff.onDisconnected(), false);
    h.clock.tick(60_000);
    assert.equal(h.attemptTimes.length, count);
    assert.equal(h.timeouts.length, 1);
  });

  it('aborts each attempt when the next one starts', () => {
    const h = harness();
    h.backoff.onDisconnected();
    h.clock.tick(0);
    h.clock.tick(1_000);
    assert.equal(h.attempts.length, 2);
    assert.equal(h.attempts[0]!.signal.aborted, true);
    assert.equal(h.attempts[1]!.signal.aborted, false);
  });

  it('onConnected stops attempts and the deadline, without aborting the attempt that connected', () => {
    const h = harness({ recoveryTimeoutMs: 5_000 });
    h.backoff.onDisconnected();
    h.clock.tick(0);
    h.backoff.onConnected();
    assert.equal(h.backoff.state, 'idle');
    assert.equal(h.backoff.deadline, null);
    assert.equal(h.attempts[0]!.signal.aborted, false);
    assert.equal(h.clock.pending, 0);
    h.clock.tick(60_000);
    assert.equal(h.attempts.length, 1);
    assert.deepEqual(h.timeouts, []);
  });

  it('starts a fresh recovery period (new deadline) on a disconnect after reconnecting', () => {
    const h = harness({ recoveryTimeoutMs: 5_000 });
    h.backoff.onDisconnected();
    h.clock.tick(4_000);
    h.backoff.onConnected();
    h.clock.tick(10_000);
    assert.equal(h.backoff.onDisconnected(), true);
    assert.equal(h.backoff.deadline, h.clock.now() + 5_000);
    h.clock.tick(0);
    assert.equal(h.backoff.attempts, 1);
    h.clock.tick(4_999);
    assert.deepEqual(h.timeouts, []);
    h.clock.tick(1);
    assert.equal(h.timeouts.length, 1);
  });

  it('cancel stops everything for good', () => {
    const h = harness();
    h.backoff.onDisconnected();
    h.clock.tick(0);
    h.backoff.cancel();
    assert.equal(h.backoff.state, 'closed');
    assert.equal(h.attempts[0]!.signal.aborted, true);
    assert.equal(h.clock.pending, 0);
    assert.equal(h.backoff.onDisconnected(), false);
    h.backoff.onConnected();
    assert.equal(h.backoff.state, 'closed');
    h.clock.tick(60 * 60_000);
    assert.equal(h.attempts.length, 1);
    assert.deepEqual(h.timeouts, []);
  });

  it('with a zero recovery timeout still makes one attempt before giving up', () => {
    const h = harness({ recoveryTimeoutMs: 0 });
    h.backoff.onDisconnected();
    h.clock.tick(0);
    assert.equal(h.attempts.length, 1);
    assert.equal(h.timeouts.length, 1);
    assert.equal(h.attempts[0]!.signal.aborted, true);
  });

  it('minDelayMs is a floor between attempts (after the immediate first one)', () => {
    const h = harness({ backoffMaxMs: 0, recoveryTimeoutMs: 60_000, minDelayMs: 50 }, [0]);
    h.backoff.onDisconnected();
    h.clock.tick(0);
    h.clock.tick(1_000);
    assert.equal(h.attemptTimes.length, 1 + 20, 'one at once, then one per 50 ms');
    for (let i = 1; i < h.attemptTimes.length; i++) assert.equal(h.attemptTimes[i]! - h.attemptTimes[i - 1]!, 50);
  });

  it('with a zero backoffMax retries back to back, still one timer at a time', () => {
    const h = harness({ backoffMaxMs: 0, recoveryTimeoutMs: 0 }, [0.7]);
    h.backoff.onDisconnected();
    assert.equal(h.clock.pending, 2);
    h.clock.tick(0);
    assert.equal(h.backoff.state, 'expired');
  });

  it('re-arms a deadline longer than one Node timer can wait (2^31-1 ms)', () => {
    const thirtyDays = 30 * 86_400_000;
    const h = harness({ recoveryTimeoutMs: thirtyDays, backoffMaxMs: 0 });
    h.backoff.onDisconnected();
    assert.ok(h.clock.delays.every((d) => d <= 2 ** 31 - 1));
    h.backoff.onConnected(); // keep the attempt loop out of the way
    const h2 = harness({ recoveryTimeoutMs: thirtyDays, backoffMaxMs: 60 * 60_000 }, [0.99999]);
    h2.backoff.onDisconnected();
    h2.clock.tick(thirtyDays - 1);
    assert.deepEqual(h2.timeouts, []);
    h2.clock.tick(1);
    assert.equal(h2.timeouts.length, 1);
    assert.ok(h2.clock.delays.every((d) => d <= 2 ** 31 - 1));
  });

  it('keeps its schedule even if an attempt throws', () => {
    let calls = 0;
    const h = harness({
      attempt: () => {
        calls += 1;
        throw new Error('boom');
      },
    });
    h.backoff.onDisconnected();
    assert.throws(() => h.clock.tick(0), /boom/);
    assert.equal(h.clock.pending, 2, 'next attempt and deadline still armed');
    assert.throws(() => h.clock.tick(1_000), /boom/);
    assert.equal(calls, 2);
  });

  it('validates its options', () => {
    const ok = { backoffMaxMs: 1, recoveryTimeoutMs: 1, attempt: () => {}, onRecoveryTimeout: () => {} };
    for (const [option, value] of [
      ['backoffMaxMs', -1],
      ['backoffMaxMs', Number.NaN],
      ['recoveryTimeoutMs', Number.POSITIVE_INFINITY],
      ['attempt', 'nope'],
      ['onRecoveryTimeout', undefined],
      ['minDelayMs', -5],
    ] as const) {
      assert.throws(
        () => new ReconnectBackoff({ ...ok, [option]: value } as unknown as ReconnectBackoffOptions),
        (e: unknown) =>
          e instanceof MesosExecutorError &&
          e.code === 'MPE_INVALID_OPTION' &&
          (e as unknown as { option: string }).option === option &&
          e.message === `${option}: expected ${typeof value === 'number' ? 'a finite number of milliseconds >= 0' : 'a function'}, got ${typeof value === 'string' ? JSON.stringify(value) : String(value)}`,
        option,
      );
    }
  });

  it('has a real clock with monotonic time and cancellable timers', () => {
    const before = systemClock.now();
    assert.ok(systemClock.now() >= before);
    let fired = false;
    const handle = systemClock.setTimeout(() => {
      fired = true;
    }, 10_000);
    systemClock.clearTimeout(handle);
    assert.equal(fired, false);
  });
});
