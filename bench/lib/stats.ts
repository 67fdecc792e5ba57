// Small statistics and formatting helpers. Percentiles are nearest-rank on the sorted sample.

export interface Summary {
  readonly n: number;
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly max: number;
  readonly mean: number;
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

export function summarize(values: readonly number[]): Summary {
  const sorted = [...values].sort((a, b) => a - b);
  const sum = sorted.reduce((a, b) => a + b, 0);
  return {
    n: sorted.length,
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    max: sorted.length === 0 ? Number.NaN : sorted[sorted.length - 1]!,
    mean: sorted.length === 0 ? Number.NaN : sum / sorted.length,
  };
}

export function median(values: readonly number[]): number {
  return percentile([...values].sort((a, b) => a - b), 50);
}

/** The median of each numeric field over repeated samples (non-numeric fields from the first). */
export function medianOf<T extends object>(samples: readonly T[]): T {
  if (samples.length === 0) throw new Error('medianOf: no samples');
  const out: Record<string, unknown> = { ...(samples[0] as Record<string, unknown>) };
  for (const key of Object.keys(out)) {
    const values = samples.map((s) => (s as Record<string, unknown>)[key]);
    if (values.every((v) => typeof v === 'number')) out[key] = median(values as number[]);
  }
  return out as T;
}

/** Rounds to `digits` significant digits (numbers in JSON stay readable). */
export function sig(value: number, digits = 3): number {
  if (!Number.isFinite(value) || value === 0) return value;
  return Number(value.toPrecision(digits));
}

/** Rounds every number in a JSON-able value to 4 significant digits. */
export function roundDeep<T>(value: T): T {
  if (typeof value === 'number') return (Number.isInteger(value) ? value : sig(value, 4)) as T;
  if (Array.isArray(value)) return value.map((v) => roundDeep(v)) as T;
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = roundDeep(v);
    return out as T;
  }
  return value;
}

/** 1234567 → "1.23 M", 12345 → "12.3 k", 123 → "123". */
export function fmtCount(value: number): string {
  if (!Number.isFinite(value)) return 'n/a';
  const abs = Math.abs(value);
  if (abs >= 1e6) return `${sig(value / 1e6)} M`;
  if (abs >= 1e4) return `${sig(value / 1e3)} k`;
  return `${sig(value)}`;
}

export function fmtMs(value: number): string {
  if (!Number.isFinite(value)) return 'n/a';
  if (value >= 1000) return `${sig(value / 1000)} s`;
  if (value >= 1) return `${sig(value)} ms`;
  return `${sig(value * 1000)} µs`;
}

export function fmtRatio(value: number): string {
  if (!Number.isFinite(value)) return 'n/a';
  return value >= 10 ? `${Math.round(value)}×` : `${sig(value)}×`;
}

export function fmtPct(value: number): string {
  if (!Number.isFinite(value)) return 'n/a';
  return `${sig(value * 100)} %`;
}
