// stout `Duration` strings as the Mesos agent writes them into an executor's environment
// (PROTOCOL.md §1.1.1; upstream `3rdparty/stout/include/stout/duration.hpp`, `Duration::parse`
// and `operator<<`). Pure: no I/O. Values are milliseconds as JS numbers (possibly fractional).
import { InvalidOptionError } from '../errors.js';
import * as is from '../validate.js';

const NS_PER_UNIT = {
  ns: 1,
  us: 1e3,
  ms: 1e6,
  secs: 1e9,
  mins: 60e9,
  hrs: 3600e9,
  days: 86_400e9,
  weeks: 604_800e9,
} as const;

/** A stout duration unit. */
export type DurationUnit = keyof typeof NS_PER_UNIT;

/** The units stout accepts, smallest first. */
export const DURATION_UNITS: readonly DurationUnit[] = Object.freeze(
  Object.keys(NS_PER_UNIT) as DurationUnit[],
);

/** The outcome of {@link tryParseDuration}: never throws, so callers choose their own error type. */
export type DurationParseResult =
  | { readonly ok: true; readonly ms: number }
  | { readonly ok: false; readonly reason: string };

// stout keeps a duration as int64 nanoseconds.
const INT64_MAX_NS = 2 ** 63;

// Digits and dots, then a unit, nothing else: stout scans `isdigit || '.'` and compares the
// rest with the unit names, so a sign, a space or an exponent ends the number and becomes an
// unknown unit. The number must hold at least one digit (lexical_cast<double> rejects "" and ".").
const DURATION_RE = /^([0-9]*\.?[0-9]*)([a-z]*)$/;

/**
 * Parses a stout duration such as `5secs`, `15mins`, `1.025mins` or `100ms`.
 * Returns milliseconds, rounded to whole nanoseconds (stout keeps int64 nanoseconds).
 */
export function tryParseDuration(text: string): DurationParseResult {
  const match = DURATION_RE.exec(text);
  if (match === null) {
    return {
      ok: false,
      reason: 'expected a number made of digits and at most one "." followed directly by a unit (ns, us, ms, secs, mins, hrs, days, weeks), with no sign or space',
    };
  }
  const [, number = '', unit = ''] = match;
  if (!/[0-9]/.test(number)) {
    return { ok: false, reason: 'expected a number (digits and ".") before the unit' };
  }
  if (unit === '') {
    return { ok: false, reason: 'missing unit: expected one of ns, us, ms, secs, mins, hrs, days, weeks' };
  }
  if (!Object.hasOwn(NS_PER_UNIT, unit)) {
    return { ok: false, reason: `unknown unit "${unit}": expected one of ns, us, ms, secs, mins, hrs, days, weeks` };
  }
  // Rounded to whole nanoseconds. stout truncates instead, which floating-point error turns into
  // a lost nanosecond (1.025 * 6e10 = 61499999999.99999): `1.025mins` would read as 61499.999999 ms.
  const nanos = Math.round(Number(number) * NS_PER_UNIT[unit as DurationUnit]);
  if (!Number.isFinite(nanos) || nanos >= INT64_MAX_NS) {
    return { ok: false, reason: 'out of range: a duration must fit in 2^63-1 nanoseconds (about 292 years)' };
  }
  return { ok: true, ms: nanos / 1e6 };
}

/**
 * Parses a stout duration to milliseconds; throws `InvalidOptionError` (MPE_INVALID_OPTION)
 * naming `option` when malformed. Reading the agent's environment uses {@link tryParseDuration}
 * instead, to report `EnvironmentError` with the variable's name.
 */
export function parseDuration(text: string, option = 'duration'): number {
  const result = tryParseDuration(text);
  if (!result.ok) {
    throw new InvalidOptionError(option, `${option}: invalid duration ${JSON.stringify(text)}: ${result.reason}`);
  }
  return result.ms;
}

const UNIT_NS = {
  ns: 1n,
  us: 1_000n,
  ms: 1_000_000n,
  secs: 1_000_000_000n,
  mins: 60_000_000_000n,
  hrs: 3_600_000_000_000n,
  days: 86_400_000_000_000n,
  weeks: 604_800_000_000_000n,
} as const;

// Bucket by magnitude, then prefer the unit one step smaller when only that one gives a whole
// number (stout's `operator<<`): 90 minutes prints as `90mins`, not `1.5hrs`; 10 days as
// `10days`, not `1.42857142857143weeks`.
const BUCKETS: ReadonlyArray<readonly [DurationUnit, DurationUnit]> = [
  ['us', 'ns'],
  ['ms', 'us'],
  ['secs', 'ms'],
  ['mins', 'secs'],
  ['hrs', 'mins'],
  ['days', 'hrs'],
  ['weeks', 'days'],
];

/**
 * Formats milliseconds as the agent prints a `Duration` (`stringify(Duration)`), e.g. `5secs`,
 * `15mins`, `2secs`, `90mins`, `1500us`, `1.025mins`. The value is first truncated to whole
 * nanoseconds, like stout's int64 representation. Throws `InvalidOptionError` for a negative,
 * non-finite or out-of-range value: {@link tryParseDuration} could not read it back.
 */
export function formatDuration(ms: number, option = 'duration'): string {
  is.required(ms, option, is.milliseconds());
  // Exact for whole milliseconds of any size, and sub-millisecond parts to the nanosecond.
  const whole = Math.trunc(ms);
  const nanos = BigInt(whole) * 1_000_000n + BigInt(Math.trunc((ms - whole) * 1e6));
  if (nanos >= 2n ** 63n) {
    throw new InvalidOptionError(option, `${option}: ${String(ms)}ms does not fit in a stout Duration (int64 nanoseconds)`);
  }
  if (nanos < UNIT_NS.us) return `${nanos}ns`;
  let unit: DurationUnit = 'weeks';
  let smaller: DurationUnit = 'days';
  for (let i = 1; i < BUCKETS.length; i++) {
    const [next] = BUCKETS[i]!;
    if (nanos < UNIT_NS[next]) {
      [unit, smaller] = BUCKETS[i - 1]!;
      break;
    }
  }
  const chosen = nanos % UNIT_NS[unit] !== 0n && nanos % UNIT_NS[smaller] === 0n ? smaller : unit;
  return `${formatNumber(nanos, chosen)}${chosen}`;
}

// C++ prints the double with `precision(digits10)` = 15 significant digits in the default
// float format, which drops trailing zeros.
function formatNumber(nanos: bigint, unit: DurationUnit): string {
  const divisor = UNIT_NS[unit];
  if (nanos % divisor === 0n) return (nanos / divisor).toString();
  return String(Number((Number(nanos) / Number(divisor)).toPrecision(15)));
}
