// Counter and histogram families whose counting is plain arithmetic on typed arrays.
//
// Why not prom-client's Counter/Histogram directly: even a child pre-bound with `.labels()`
// allocates on every `inc()`/`observe()` (it rebuilds the label hash string, and `inc` returns a
// `{ labelHash }` object; `observe` also copies the labels). Our listeners run synchronously on
// the driver's and the pool's paths, ~15 events per task, so they must cost next to nothing.
// Here a label value maps to a slot once; an event is an array increment; samples are built
// only when Prometheus scrapes. The registry duck-types its metrics (`name`, `help`, `type`,
// `aggregator`, `get()`, `reset()`: prom-client lib/registry.js), so these register in any
// prom-client Registry and print exactly like its own metrics.
import type { Metric, Registry } from 'prom-client';
import { InvalidOptionError } from '../errors.js';

type Labels = Readonly<Record<string, string>>;

interface Sample {
  readonly labels: Labels;
  readonly value: number;
  readonly metricName?: string;
}

/** What prom-client's registry reads from a metric (`MetricObjectWithValues`). */
export interface FamilySnapshot {
  readonly name: string;
  readonly help: string;
  readonly type: 'counter' | 'histogram';
  readonly aggregator: 'sum';
  readonly values: Sample[];
}

/** A label and every value it may take. */
export interface BoundedLabel {
  readonly name: string;
  readonly values: readonly string[];
}

export interface FamilyConfig {
  readonly name: string;
  readonly help: string;
  /** Absent: an unlabelled family (one series, slot 0). */
  readonly label?: BoundedLabel;
  /**
   * Two labels instead of one: one series per pair of values (every pair up front, as for one
   * label); find a pair's slot with `slotOf`.
   */
  readonly labels?: readonly [BoundedLabel, BoundedLabel];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

abstract class Family {
  readonly name: string;
  readonly help: string;
  readonly aggregator = 'sum' as const;
  abstract readonly type: 'counter' | 'histogram';
  /** One labels object per slot, built once. */
  protected readonly slotLabels: readonly Labels[];
  readonly #slots: ReadonlyMap<string, number>;
  /** Per label, value → index; a slot is the row-major index of its values (no string built per event). */
  readonly #indexes: ReadonlyArray<ReadonlyMap<string, number>>;

  constructor(config: FamilyConfig) {
    if (!NAME.test(config.name)) throw new InvalidOptionError('name', `metric name ${JSON.stringify(config.name)} is not a valid Prometheus name`);
    this.name = config.name;
    this.help = config.help;
    const labels = config.labels ?? (config.label !== undefined ? [config.label] : []);
    for (const label of labels) {
      if (!LABEL.test(label.name) || label.name === 'le' || label.name.startsWith('__')) {
        throw new InvalidOptionError('label', `${config.name}: label name ${JSON.stringify(label.name)} is not allowed`);
      }
      if (label.values.length === 0 || new Set(label.values).size !== label.values.length) {
        throw new InvalidOptionError('label', `${config.name}: label ${label.name} needs distinct values`);
      }
    }
    if (new Set(labels.map((l) => l.name)).size !== labels.length) throw new InvalidOptionError('label', `${config.name}: label names must differ`);
    this.#indexes = labels.map((label) => new Map(label.values.map((value, index) => [value, index])));
    let slotLabels: Labels[] = [{}];
    for (const label of labels) slotLabels = slotLabels.flatMap((prefix) => label.values.map((value) => ({ ...prefix, [label.name]: value })));
    this.slotLabels = slotLabels.map((l) => Object.freeze(l));
    this.#slots = labels.length === 1 ? this.#indexes[0]! : new Map();
  }

  /** The slot of two label values (a `labels` family), -1 when either is not in its set. */
  slotOf(first: string, second: string): number {
    const [a, b] = this.#indexes;
    if (a === undefined || b === undefined) return -1;
    const i = a.get(first);
    const j = b.get(second);
    return i === undefined || j === undefined ? -1 : i * b.size + j;
  }

  /** Registers with the registry (throws if the name is taken there). Called by subclasses once built. */
  protected register(registry: Registry): void {
    // The cast is the duck-typing described above: the registry needs no more than this shape.
    registry.registerMetric(this as unknown as Metric);
  }

  /** The slot of a label value, -1 when the value is not in the label's set (never a new series). */
  slot(value: string): number {
    return this.#slots.get(value) ?? -1;
  }

  abstract get(): Promise<FamilySnapshot>;
  abstract reset(): void;
}

/** A counter family; `inc(slot)` is one array add. */
export class CounterFamily extends Family {
  readonly type = 'counter' as const;
  readonly #counts: Float64Array;

  constructor(registry: Registry, config: FamilyConfig) {
    super(config);
    this.#counts = new Float64Array(this.slotLabels.length);
    this.register(registry);
  }

  /** Adds `by` (default 1) to a slot's series; an unknown slot (-1) is ignored. */
  inc(slot = 0, by = 1): void {
    if (slot >= 0 && slot < this.#counts.length && by >= 0) this.#counts[slot]! += by;
  }

  /** Adds 1 to the series of a label value; false (and nothing counted) when the value is not in the set. */
  incLabel(value: string): boolean {
    const slot = this.slot(value);
    if (slot < 0) return false;
    this.#counts[slot]!++;
    return true;
  }

  async get(): Promise<FamilySnapshot> {
    const values: Sample[] = [];
    for (let slot = 0; slot < this.#counts.length; slot++) values.push({ labels: this.slotLabels[slot]!, value: this.#counts[slot]! });
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  reset(): void {
    this.#counts.fill(0);
  }
}

export interface HistogramConfig extends FamilyConfig {
  /** Upper bounds in ascending order, finite; `+Inf` is implied. */
  readonly buckets: readonly number[];
}

/** A histogram family; `observe(slot, x)` finds the bucket and adds three numbers. */
export class HistogramFamily extends Family {
  readonly type = 'histogram' as const;
  readonly #bounds: Float64Array;
  /** Per slot, one count per bucket (not cumulative), the last for +Inf. */
  readonly #buckets: Float64Array;
  readonly #sums: Float64Array;
  readonly #counts: Float64Array;
  /** Per slot, per bucket, the labels with `le`: built once. */
  readonly #bucketLabels: ReadonlyArray<readonly Labels[]>;

  constructor(registry: Registry, config: HistogramConfig) {
    super(config);
    const bounds = config.buckets;
    if (bounds.length === 0 || bounds.some((b, i) => !Number.isFinite(b) || (i > 0 && b <= bounds[i - 1]!))) {
      throw new InvalidOptionError('buckets', `${config.name}: buckets must be finite and strictly ascending`);
    }
    this.#bounds = Float64Array.from(bounds);
    const slots = this.slotLabels.length;
    this.#buckets = new Float64Array(slots * (bounds.length + 1));
    this.#sums = new Float64Array(slots);
    this.#counts = new Float64Array(slots);
    // `le` first and printed as String(bound), as prom-client does: the output is byte-for-byte
    // that of a prom-client Histogram (the tests compare them).
    const les = [...bounds.map((b) => String(b)), '+Inf'];
    this.#bucketLabels = this.slotLabels.map((labels) => les.map((le) => Object.freeze({ le, ...labels })));
    this.register(registry);
  }

  /** Records a value (seconds) in a slot's series; an unknown slot (-1) or a non-finite value is ignored. */
  observe(slot: number, value: number): void {
    if (slot < 0 || slot >= this.#counts.length || !Number.isFinite(value)) return;
    const bounds = this.#bounds;
    const n = bounds.length;
    let bucket = 0;
    // A linear scan: under 20 bounds, and short values (the common case) stop early.
    while (bucket < n && value > bounds[bucket]!) bucket++;
    this.#buckets[slot * (n + 1) + bucket]!++;
    this.#sums[slot]! += value;
    this.#counts[slot]!++;
  }

  /** Records a value in the series of a label value; false when the value is not in the set. */
  observeLabel(label: string, value: number): boolean {
    const slot = this.slot(label);
    if (slot < 0) return false;
    this.observe(slot, value);
    return true;
  }

  async get(): Promise<FamilySnapshot> {
    const values: Sample[] = [];
    const width = this.#bounds.length + 1;
    const bucketName = `${this.name}_bucket`;
    for (let slot = 0; slot < this.#counts.length; slot++) {
      let cumulative = 0;
      const labels = this.#bucketLabels[slot]!;
      for (let bucket = 0; bucket < width; bucket++) {
        cumulative += this.#buckets[slot * width + bucket]!;
        values.push({ labels: labels[bucket]!, value: cumulative, metricName: bucketName });
      }
      values.push({ labels: this.slotLabels[slot]!, value: this.#sums[slot]!, metricName: `${this.name}_sum` });
      values.push({ labels: this.slotLabels[slot]!, value: this.#counts[slot]!, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  reset(): void {
    this.#buckets.fill(0);
    this.#sums.fill(0);
    this.#counts.fill(0);
  }
}
