// Validation of built-in job inputs. A task's input comes from outside: read only own
// properties (never the prototype chain) and say exactly what is wrong.

import { truncateUtf8 } from '../../src/protocol/utf8.js';

export class JobInputError extends TypeError {
  override readonly name = 'JobInputError';
}

function show(value: unknown): string {
  if (value === undefined) return 'nothing';
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return truncateUtf8(text, 60);
}

/** The input as an object of fields; absent or null input means no fields. */
export function fields(job: string, input: unknown): Readonly<Record<string, unknown>> {
  if (input === undefined || input === null) return {};
  if (typeof input !== 'object' || Array.isArray(input)) {
    throw new JobInputError(`${job}: input must be an object, got ${show(input)}`);
  }
  return input as Record<string, unknown>;
}

function own(obj: Readonly<Record<string, unknown>>, name: string): unknown {
  return Object.hasOwn(obj, name) ? obj[name] : undefined;
}

export interface IntRange {
  readonly min: number;
  readonly max: number;
  /** Used when the field is absent; without it the field is required. */
  readonly default?: number;
}

export function intField(job: string, obj: Readonly<Record<string, unknown>>, name: string, range: IntRange): number {
  const value = own(obj, name);
  if (value === undefined && range.default !== undefined) return range.default;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < range.min || value > range.max) {
    throw new JobInputError(`${job}: input.${name} must be an integer from ${range.min} to ${range.max}, got ${show(value)}`);
  }
  return value;
}

export function stringField(job: string, obj: Readonly<Record<string, unknown>>, name: string, fallback: string): string {
  const value = own(obj, name);
  if (value === undefined) return fallback;
  if (typeof value !== 'string') throw new JobInputError(`${job}: input.${name} must be a string, got ${show(value)}`);
  return value;
}
