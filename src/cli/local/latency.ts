/** Percentiles of a set of samples (nearest-rank on a sorted copy). */
export interface Percentiles {
  readonly count: number;
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly max: number;
}

export function percentiles(samples: readonly number[]): Percentiles | undefined {
  if (samples.length === 0) return undefined;
  const sorted = Float64Array.from(samples).sort();
  const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
  return { count: sorted.length, p50: at(0.5), p95: at(0.95), p99: at(0.99), max: sorted[sorted.length - 1]! };
}

/**
 * A figure to 3 significant digits, never in exponent form: 0.0123, 6.30, 179, 5280, 10600.
 * The summary's one style for every duration and rate.
 */
export function sig3(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (value === 0) return '0';
  const magnitude = Math.floor(Math.log10(Math.abs(value)));
  if (magnitude >= 2) {
    const step = 10 ** (magnitude - 2);
    return String(Math.round(value / step) * step);
  }
  return value.toFixed(Math.min(20, 2 - magnitude));
}

/** Every duration of the summary: milliseconds, 3 significant digits. */
export function formatMs(ms: number): string {
  return `${sig3(ms)} ms`;
}

/** Every rate of the summary. */
export function formatRate(perSecond: number): string {
  return `${sig3(perSecond)} tasks/s`;
}
