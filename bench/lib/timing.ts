// Micro-benchmark timing: warm up, then several timed samples; report the median rate.
import { median } from './stats.js';

export interface Rate {
  /** Median operations per second over the samples. */
  readonly opsPerSec: number;
  readonly min: number;
  readonly max: number;
  readonly samples: number;
}

// Results are folded into this so the JIT cannot drop the measured work.
export let sink = 0;
export function consume(value: unknown): void {
  if (value !== undefined && value !== null) sink = (sink + 1) | 0;
}

/** Runs `fn` (one call = `opsPerCall` operations) for about `budgetMs`, split into `samples` samples. */
export function measureRate(fn: () => unknown, options: { budgetMs: number; samples?: number; opsPerCall?: number }): Rate {
  const samples = options.samples ?? 5;
  const opsPerCall = options.opsPerCall ?? 1;
  // Warm-up: a fifth of the budget, at least 20 calls.
  const warmEnd = performance.now() + options.budgetMs / 5;
  for (let i = 0; i < 20 || performance.now() < warmEnd; i++) consume(fn());
  const rates: number[] = [];
  const perSample = options.budgetMs / samples;
  for (let s = 0; s < samples; s++) {
    let calls = 0;
    const start = performance.now();
    let now = start;
    do {
      for (let i = 0; i < 8; i++) consume(fn());
      calls += 8;
      now = performance.now();
    } while (now - start < perSample);
    rates.push((calls * opsPerCall * 1000) / (now - start));
  }
  return { opsPerSec: median(rates), min: Math.min(...rates), max: Math.max(...rates), samples };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
