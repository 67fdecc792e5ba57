// Option validation, one way for every component (driver, pool, agent, helpers): a check says
// what it expects, and every refusal reads "<option>: expected <what>, got <value>"
// (InvalidOptionError, MPE_INVALID_OPTION, `error.option` naming the option).
import { InvalidOptionError } from './errors.js';

/** What an option must be. `expected` reads after "expected": "an integer from 1 to 1024". */
export interface Check<T> {
  readonly expected: string;
  readonly test: (value: unknown) => value is T;
}

/** A value as a refusal shows it: strings quoted, other primitives as written, objects by kind. */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (value === null || value === undefined || typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/** The one refusal: `<option>: expected <expected>, got <value>`. */
export function invalidOption(option: string, expected: string, value: unknown): InvalidOptionError {
  return new InvalidOptionError(option, `${option}: expected ${expected}, got ${describeValue(value)}`);
}

/** `undefined` when the option is not given (the caller applies its default), else a value that passed. */
export function optional<T>(value: unknown, option: string, check: Check<T>): T | undefined {
  return value === undefined ? undefined : required(value, option, check);
}

export function required<T>(value: unknown, option: string, check: Check<T>): T {
  if (!check.test(value)) throw invalidOption(option, check.expected, value);
  return value;
}

export const boolean: Check<boolean> = { expected: 'a boolean', test: (value): value is boolean => typeof value === 'boolean' };

export const nonEmptyString: Check<string> = {
  expected: 'a non-empty string',
  test: (value): value is string => typeof value === 'string' && value !== '',
};

export const func: Check<(...args: never[]) => unknown> = {
  expected: 'a function',
  test: (value): value is (...args: never[]) => unknown => typeof value === 'function',
};

/** An object that is not an array (nor null). */
export const plainObject: Check<object> = {
  expected: 'an object',
  test: (value): value is object => typeof value === 'object' && value !== null && !Array.isArray(value),
};

export const array: Check<readonly unknown[]> = { expected: 'an array', test: (value): value is readonly unknown[] => Array.isArray(value) };

export const url: Check<URL> = { expected: 'a URL', test: (value): value is URL => value instanceof URL };

export function integer(min: number, max: number): Check<number> {
  return {
    expected: `an integer from ${min} to ${max}`,
    test: (value): value is number => typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max,
  };
}

export const positiveInteger: Check<number> = {
  expected: 'a positive integer',
  test: (value): value is number => typeof value === 'number' && Number.isInteger(value) && value > 0,
};

/** A finite number from `min` to `max` (no upper bound when `max` is Infinity). */
export function number(min: number, max = Infinity): Check<number> {
  return {
    expected: max === Infinity ? `a finite number >= ${min}` : `a number from ${min} to ${max}`,
    test: (value): value is number => typeof value === 'number' && Number.isFinite(value) && value >= min && value <= max,
  };
}

export const positiveNumber: Check<number> = {
  expected: 'a finite number > 0',
  test: (value): value is number => typeof value === 'number' && Number.isFinite(value) && value > 0,
};

/** A duration in milliseconds from 0 (to `max`, when given). */
export function milliseconds(max = Infinity): Check<number> {
  const range = number(0, max);
  return { expected: max === Infinity ? 'a finite number of milliseconds >= 0' : `a number of milliseconds from 0 to ${max}`, test: range.test };
}

/** One of a few strings. */
export function oneOf<const T extends string>(values: readonly T[]): Check<T> {
  const quoted = values.map((v) => `'${v}'`);
  return {
    expected: quoted.length === 1 ? quoted[0]! : `${quoted.slice(0, -1).join(', ')} or ${quoted.at(-1)!}`,
    test: (value): value is T => typeof value === 'string' && (values as readonly string[]).includes(value),
  };
}
