/**
 * The built-in jobs (DESIGN.md), for the demo, tests and benchmarks. Each validates its input
 * and stops when its task is killed.
 */
import { createHash } from 'node:crypto';
import { setTimeout as sleepFor } from 'node:timers/promises';
import type { JobContext } from '../job.js';
import { fields, intField, stringField } from './input.js';

const MAX_MS = 10 * 60_000;
/** How often CPU loops look for a kill, in ms: well under any sensible grace period. */
const CHECK_EVERY_MS = 5;

/** Does nothing; returns null. Measures the executor's own overhead. */
export function noop(): null {
  return null;
}

/** `{ms}`: keeps a CPU busy for `ms` milliseconds. */
export function spin(input: unknown, ctx: JobContext): { ms: number; iterations: number } {
  const ms = intField('spin', fields('spin', input), 'ms', { min: 0, max: MAX_MS });
  const start = performance.now();
  let nextCheck = start + CHECK_EVERY_MS;
  let iterations = 0;
  let x = 0;
  for (;;) {
    for (let i = 0; i < 1_000; i++) x = (x * 1_103_515_245 + 12_345) % 2_147_483_648;
    iterations++;
    const now = performance.now();
    if (now - start >= ms) break;
    if (now >= nextCheck) {
      ctx.throwIfAborted();
      nextCheck = now + CHECK_EVERY_MS;
    }
  }
  return { ms: Math.round(performance.now() - start), iterations };
}

/** `{ms}`: waits `ms` milliseconds on a timer (no CPU); a kill ends it at once. */
export async function sleep(input: unknown, ctx: JobContext): Promise<{ ms: number }> {
  const ms = intField('sleep', fields('sleep', input), 'ms', { min: 0, max: MAX_MS });
  await sleepFor(ms, undefined, { signal: ctx.signal });
  return { ms };
}

const MAX_PRIMES_LIMIT = 10_000_000;

/** `{limit}`: counts the primes below `limit` by trial division: a fixed amount of CPU work. */
export function primes(input: unknown, ctx: JobContext): { limit: number; count: number } {
  const limit = intField('primes', fields('primes', input), 'limit', { min: 0, max: MAX_PRIMES_LIMIT, default: 100_000 });
  let count = limit > 2 ? 1 : 0;
  for (let n = 3; n < limit; n += 2) {
    if ((n & 0x3fff) === 1) ctx.throwIfAborted();
    let prime = true;
    for (let d = 3; d * d <= n; d += 2) {
      if (n % d === 0) {
        prime = false;
        break;
      }
    }
    if (prime) count++;
  }
  return { limit, count };
}

/** `{bytes, rounds}`: SHA-256 of a `bytes`-long buffer, chained `rounds` times: fixed CPU work. */
export function sha256(input: unknown, ctx: JobContext): { bytes: number; rounds: number; digest: string } {
  const obj = fields('sha256', input);
  const bytes = intField('sha256', obj, 'bytes', { min: 0, max: 16 * 1024 * 1024, default: 1024 });
  const rounds = intField('sha256', obj, 'rounds', { min: 1, max: 10_000_000, default: 1_000 });
  const buffer = Buffer.alloc(bytes, 0x61);
  let digest = Buffer.alloc(0);
  for (let round = 0; round < rounds; round++) {
    if ((round & 0x3ff) === 0x3ff) ctx.throwIfAborted();
    digest = createHash('sha256').update(buffer).update(digest).digest();
  }
  return { bytes, rounds, digest: digest.toString('hex') };
}

/** `{message}`: throws an Error with that message (a task that fails on purpose). */
export function fail(input: unknown): never {
  throw new Error(stringField('fail', fields('fail', input), 'message', 'failed on purpose'));
}

/** `{steps, ms}`: `steps` steps of `ms` milliseconds each, reporting progress after each. */
export async function progress(input: unknown, ctx: JobContext): Promise<{ steps: number }> {
  const obj = fields('progress', input);
  const steps = intField('progress', obj, 'steps', { min: 0, max: 100_000, default: 5 });
  const ms = intField('progress', obj, 'ms', { min: 0, max: MAX_MS, default: 100 });
  for (let step = 1; step <= steps; step++) {
    await sleepFor(ms, undefined, { signal: ctx.signal });
    ctx.progress(`step ${step}/${steps}`, { step, steps });
  }
  return { steps };
}
