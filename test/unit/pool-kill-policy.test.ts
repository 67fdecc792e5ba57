import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { DEFAULT_KILL_GRACE_MS, durationToMs, maxCompletionMs, maxCompletionProblem, resolveKillGraceMs, shrinkDeadline } from '../../src/pool/kill-policy.js';
import { killPolicy } from '../helpers/pool-tasks.js';

describe('kill policy', () => {
  it('converts DurationInfo nanoseconds to whole milliseconds', () => {
    assert.equal(durationToMs(undefined), undefined);
    assert.equal(durationToMs({ nanoseconds: 0 }), 0);
    assert.equal(durationToMs({ nanoseconds: 1_999_999 }), 1);
    assert.equal(durationToMs({ nanoseconds: -5_000_000 }), 0);
    // 64-bit values arrive as decimal strings when not exact as numbers.
    assert.equal(durationToMs({ nanoseconds: '9223372036854775807' }), 9_223_372_036_854);
    assert.equal(durationToMs({ nanoseconds: '2500000000' }), 2_500);
    assert.equal(durationToMs({ nanoseconds: 'soon' }), undefined);
    assert.equal(durationToMs({ nanoseconds: Number.NaN }), undefined);
  });

  it('max_completion_time: 0 (or none) is no limit, as upstream; a limit is rounded up, never down', () => {
    assert.equal(maxCompletionMs({}), undefined);
    assert.equal(maxCompletionMs({ max_completion_time: { nanoseconds: 0 } }), undefined);
    assert.equal(maxCompletionMs({ max_completion_time: { nanoseconds: '0' } }), undefined);
    assert.equal(maxCompletionMs({ max_completion_time: { nanoseconds: 1 } }), 1);
    assert.equal(maxCompletionMs({ max_completion_time: { nanoseconds: 150_000_000 } }), 150);
    assert.equal(maxCompletionMs({ max_completion_time: { nanoseconds: 150_000_001 } }), 151);
    assert.equal(maxCompletionMs({ max_completion_time: { nanoseconds: '9223372036854775807' } }), 9_223_372_036_855);
    // Negative: never a timer (the task is refused at launch instead).
    assert.equal(maxCompletionMs({ max_completion_time: { nanoseconds: -1 } }), undefined);
  });

  it('max_completion_time: only a negative value is a problem, as in the master', () => {
    assert.equal(maxCompletionProblem({}), undefined);
    assert.equal(maxCompletionProblem({ max_completion_time: { nanoseconds: 0 } }), undefined);
    assert.equal(maxCompletionProblem({ max_completion_time: { nanoseconds: 5 } }), undefined);
    assert.equal(maxCompletionProblem({ max_completion_time: { nanoseconds: -5 } }), 'max_completion_time must not be negative, got -5 ns');
    assert.equal(
      maxCompletionProblem({ max_completion_time: { nanoseconds: '-9223372036854775808' } }),
      'max_completion_time must not be negative, got -9223372036854775808 ns',
    );
  });

  it('prefers the KILL policy, then the task policy, then 3 s', () => {
    assert.equal(DEFAULT_KILL_GRACE_MS, 3_000);
    assert.equal(resolveKillGraceMs(killPolicy(100), killPolicy(200)), 100);
    assert.equal(resolveKillGraceMs(undefined, killPolicy(200)), 200);
    assert.equal(resolveKillGraceMs(undefined, undefined), 3_000);
    assert.equal(resolveKillGraceMs(undefined, undefined, 750), 750);
    // A policy without a grace period does not count.
    assert.equal(resolveKillGraceMs({}, killPolicy(200)), 200);
    assert.equal(resolveKillGraceMs({}, {}), 3_000);
    // A zero grace period is a real value, not "absent".
    assert.equal(resolveKillGraceMs(killPolicy(0), killPolicy(200)), 0);
  });

  it('only ever shrinks the deadline, counting from the first kill', () => {
    // First kill at t=1000 with 3 s: deadline 4000.
    assert.equal(shrinkDeadline(4_000, 1_000, 5_000), 4_000);
    assert.equal(shrinkDeadline(4_000, 1_000, 3_000), 4_000);
    assert.equal(shrinkDeadline(4_000, 1_000, 500), 1_500);
  });
});
