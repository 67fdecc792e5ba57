import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { MesosExecutorError } from '../../src/errors.js';
import { DURATION_UNITS, formatDuration, parseDuration, tryParseDuration } from '../../src/protocol/duration.js';

describe('tryParseDuration', () => {
  for (const [input, ms] of [
    ['5secs', 5_000],
    ['15mins', 900_000],
    ['2secs', 2_000],
    ['90mins', 5_400_000],
    ['1.025mins', 61_500],
    ['100ms', 100],
    ['1500us', 1.5],
    ['250ns', 0.00025],
    ['3hrs', 10_800_000],
    ['1days', 86_400_000],
    ['2weeks', 1_209_600_000],
    ['0secs', 0],
    ['.5secs', 500],
    ['5.secs', 5_000],
    ['007ms', 7],
  ] as const) {
    it(`reads ${input} as ${ms} ms`, () => {
      assert.deepEqual(tryParseDuration(input), { ok: true, ms });
    });
  }

  it('rounds to whole nanoseconds (stout keeps int64 nanoseconds)', () => {
    assert.deepEqual(tryParseDuration('1.9ns'), { ok: true, ms: 0.000002 });
    assert.deepEqual(tryParseDuration('1.025mins'), { ok: true, ms: 61_500 }); // stout's truncation would lose 1ns
  });

  for (const [input, reason] of [
    ['', /number/],
    ['5', /missing unit/],
    ['secs', /number/],
    ['.secs', /number/],
    ['-5secs', /digits/],
    ['+5secs', /digits/],
    ['5 secs', /digits/],
    [' 5secs', /digits/],
    ['5secs ', /digits/],
    ['5s', /unknown unit "s"/],
    ['5sec', /unknown unit "sec"/],
    ['5SECS', /digits/],
    ['1.2.3secs', /digits/],
    ['5e3secs', /digits/],
    ['5secs5', /digits/],
    ['99999999999weeks', /out of range/],
  ] as const) {
    it(`rejects ${JSON.stringify(input)}`, () => {
      const result = tryParseDuration(input);
      assert.equal(result.ok, false);
      if (!result.ok) assert.match(result.reason, reason);
    });
  }

  it('names every stout unit', () => {
    assert.deepEqual(DURATION_UNITS, ['ns', 'us', 'ms', 'secs', 'mins', 'hrs', 'days', 'weeks']);
  });
});

describe('parseDuration', () => {
  it('returns milliseconds', () => {
    assert.equal(parseDuration('15mins'), 900_000);
  });

  it('throws MPE_INVALID_OPTION naming the option and the value', () => {
    assert.throws(
      () => parseDuration('5 secs', 'gracePeriod'),
      (e: unknown) =>
        e instanceof MesosExecutorError && e.code === 'MPE_INVALID_OPTION' && /gracePeriod/.test(e.message) && /"5 secs"/.test(e.message),
    );
  });
});

describe('formatDuration', () => {
  for (const [ms, text] of [
    [5_000, '5secs'],
    [900_000, '15mins'],
    [2_000, '2secs'],
    [5_400_000, '90mins'], // 1.5hrs is not whole, 90mins is
    [61_500, '1.025mins'], // 61.5secs is not whole either, so the bucket's own unit, fractional
    [1_500, '1500ms'],
    [1.5, '1500us'],
    [0.00025, '250ns'],
    [0, '0ns'],
    [100, '100ms'],
    [3_600_000, '1hrs'],
    [86_400_000, '1days'],
    [864_000_000, '10days'], // not 1.42857142857143weeks
    [1_209_600_000, '2weeks'],
    [90_000, '90secs'],
    [60_000.5, '1.00000833333333mins'], // only one unit down is tried: not 60000500us
    [60_001, '1.00001666666667mins'], // 15 significant digits, like C++ precision(digits10)
    [100 / 3, '33.333333ms'], // truncated to whole nanoseconds first
  ] as const) {
    it(`prints ${ms} ms as ${text}`, () => {
      assert.equal(formatDuration(ms), text);
    });
  }

  it('round-trips through tryParseDuration for whole-nanosecond values', () => {
    for (const ms of [0, 1, 5_000, 900_000, 61_500, 1.5, 0.001, 123_456_789, 86_400_000 * 3 + 1, 7 * 86_400_000 * 9]) {
      const parsed = tryParseDuration(formatDuration(ms));
      assert.ok(parsed.ok, String(ms));
      if (parsed.ok) assert.ok(Math.abs(parsed.ms - ms) < 1e-6, `${ms} -> ${formatDuration(ms)} -> ${parsed.ms}`);
    }
  });

  it('rejects values stout could not represent or read back', () => {
    for (const bad of [-1, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 63]) {
      assert.throws(
        () => formatDuration(bad, 'recoveryTimeoutMs'),
        (e: unknown) => e instanceof MesosExecutorError && e.code === 'MPE_INVALID_OPTION' && /recoveryTimeoutMs/.test(e.message),
        String(bad),
      );
    }
  });
});
