// Fixed-size CPU work: the `primes {limit}` job with the limit that takes about T ms on one
// thread of this machine, found in the same run. The single-task time T₁ is measured on this
// (otherwise idle) thread with the very job code the workers run, warm.
import { primes } from '../../workers/jobs/index.js';
import { plainJobContext } from '../fixtures/job-context.js';
import { median } from './stats.js';

export interface FixedWork {
  /** The task size asked for, ms. */
  readonly targetMs: number;
  readonly limit: number;
  /** Measured single-thread time of one task, ms (median). */
  readonly t1Ms: number;
}

const ctx = plainJobContext('calibration');
const memo = new Map<number, FixedWork>();
let warmed = false;

function timeOnce(limit: number): number {
  const start = performance.now();
  primes({ limit }, ctx);
  return performance.now() - start;
}

/** Median single-thread time of `primes {limit}`, over enough runs to cover ~`budgetMs`. */
export function singleTaskMs(limit: number, budgetMs = 300): number {
  timeOnce(limit);
  const first = timeOnce(limit);
  const runs = Math.max(5, Math.min(200, Math.ceil(budgetMs / Math.max(first, 0.01))));
  const times = [first];
  for (let i = 1; i < runs; i++) times.push(timeOnce(limit));
  return median(times);
}

/** The `primes` limit taking about `targetMs` on one thread, with its measured T₁. Memoised per run. */
export function calibrate(targetMs: number): FixedWork {
  const known = memo.get(targetMs);
  if (known !== undefined) return known;
  if (!warmed) {
    for (let i = 0; i < 50; i++) primes({ limit: 20_000 }, ctx);
    warmed = true;
  }
  // Trial division up to √n over n < L costs about L^1.45: scale from the nearest known point.
  let limit = 20_000;
  let t = singleTaskMs(limit, 100);
  for (let i = 0; i < 6; i++) {
    const next = Math.min(10_000_000, Math.max(1_000, Math.round(limit * (targetMs / t) ** (1 / 1.45))));
    limit = next;
    t = singleTaskMs(limit, Math.max(100, targetMs * 3));
    if (Math.abs(t - targetMs) / targetMs < 0.03) break;
  }
  const work = { targetMs, limit, t1Ms: singleTaskMs(limit, Math.max(300, targetMs * 5)) };
  memo.set(targetMs, work);
  return work;
}
