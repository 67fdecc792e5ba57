// The allocation-free families print exactly what prom-client's own Counter and Histogram print
// for the same observations, keep labels bounded, and refuse bad configurations.
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { Counter, Histogram, Registry } from 'prom-client';
import { MesosExecutorError } from '../../src/errors.js';
import { parseExposition, sampleSum } from '../../src/metrics/exposition.js';
import { CounterFamily, HistogramFamily } from '../../src/metrics/families.js';

const BUCKETS = [0.001, 0.01, 0.1, 1, 10];
const VALUES = [0, 0.0005, 0.001, 0.0011, 0.05, 0.1, 0.2, 3, 10, 11, 1e6];

describe('metrics families', () => {
  it('a HistogramFamily prints what a prom-client Histogram prints for the same values', async () => {
    const theirs = new Registry();
    const ours = new Registry();
    const reference = new Histogram({ name: 'x_seconds', help: 'h', labelNames: ['job'], buckets: BUCKETS, registers: [theirs] });
    const family = new HistogramFamily(ours, { name: 'x_seconds', help: 'h', buckets: BUCKETS, label: { name: 'job', values: ['a', 'b'] } });
    reference.zero({ job: 'a' });
    reference.zero({ job: 'b' });
    for (const [i, v] of VALUES.entries()) {
      const job = i % 3 === 0 ? 'b' : 'a';
      reference.observe({ job }, v);
      assert.ok(family.observeLabel(job, v));
    }
    assert.equal(await ours.metrics(), await theirs.metrics());
  });

  it('an unlabelled HistogramFamily matches prom-client too, and reset() zeroes it', async () => {
    const theirs = new Registry();
    const ours = new Registry();
    const reference = new Histogram({ name: 'y_seconds', help: 'h', buckets: BUCKETS, registers: [theirs] });
    const family = new HistogramFamily(ours, { name: 'y_seconds', help: 'h', buckets: BUCKETS });
    for (const v of VALUES) {
      reference.observe(v);
      family.observe(0, v);
    }
    assert.equal(await ours.metrics(), await theirs.metrics());
    ours.resetMetrics();
    const samples = parseExposition(await ours.metrics());
    assert.equal(sampleSum(samples, 'y_seconds_count'), 0);
    assert.equal(sampleSum(samples, 'y_seconds_bucket', { le: '+Inf' }), 0);
  });

  it('a CounterFamily prints what a prom-client Counter prints', async () => {
    const theirs = new Registry();
    const ours = new Registry();
    const reference = new Counter({ name: 'z_total', help: 'h', labelNames: ['state'], registers: [theirs] });
    const family = new CounterFamily(ours, { name: 'z_total', help: 'h', label: { name: 'state', values: ['A', 'B', 'C'] } });
    for (const state of ['A', 'B', 'C']) reference.inc({ state }, 0);
    for (const state of ['A', 'A', 'C']) {
      reference.inc({ state });
      assert.ok(family.incLabel(state));
    }
    assert.equal(await ours.metrics(), await theirs.metrics());
  });

  it('a two-label CounterFamily prints what a two-label prom-client Counter prints, every pair up front', async () => {
    const theirs = new Registry();
    const ours = new Registry();
    const reference = new Counter({ name: 'p_total', help: 'h', labelNames: ['job', 'state'], registers: [theirs] });
    const family = new CounterFamily(ours, {
      name: 'p_total',
      help: 'h',
      labels: [{ name: 'job', values: ['a', 'b'] }, { name: 'state', values: ['X', 'Y', 'Z'] }],
    });
    for (const job of ['a', 'b']) for (const state of ['X', 'Y', 'Z']) reference.inc({ job, state }, 0);
    for (const [job, state] of [['a', 'Y'], ['b', 'Z'], ['b', 'Z'], ['b', 'X']] as const) {
      reference.inc({ job, state });
      family.inc(family.slotOf(job, state));
    }
    assert.equal(await ours.metrics(), await theirs.metrics());
    assert.equal(family.slotOf('a', 'W'), -1);
    assert.equal(family.slotOf('evil', 'X'), -1);
    assert.throws(() => new CounterFamily(new Registry(), { name: 'q_total', help: 'h', labels: [{ name: 'j', values: ['a'] }, { name: 'j', values: ['b'] }] }), /label names must differ/);
  });

  it('a value outside the label set never becomes a series', async () => {
    const registry = new Registry();
    const counter = new CounterFamily(registry, { name: 'c_total', help: 'h', label: { name: 'job', values: ['a'] } });
    const histogram = new HistogramFamily(registry, { name: 'h_seconds', help: 'h', buckets: [1], label: { name: 'job', values: ['a'] } });
    assert.equal(counter.incLabel('evil'), false);
    assert.equal(histogram.observeLabel('evil', 1), false);
    counter.inc(counter.slot('evil'));
    histogram.observe(histogram.slot('evil'), 1);
    histogram.observe(0, Number.NaN);
    histogram.observe(0, Infinity);
    const text = await registry.metrics();
    assert.ok(!text.includes('evil'), text);
    const samples = parseExposition(text);
    assert.equal(sampleSum(samples, 'c_total'), 0);
    assert.equal(sampleSum(samples, 'h_seconds_count'), 0, 'NaN and Infinity are not observed');
  });

  it('refuses bad names, labels and buckets with MPE_INVALID_OPTION', () => {
    const registry = new Registry();
    const bad: Array<() => unknown> = [
      () => new CounterFamily(registry, { name: 'bad-name', help: 'h' }),
      () => new CounterFamily(registry, { name: 'a_total', help: 'h', label: { name: 'le', values: ['x'] } }),
      () => new CounterFamily(registry, { name: 'b_total', help: 'h', label: { name: 'x', values: ['a', 'a'] } }),
      () => new CounterFamily(registry, { name: 'c_total', help: 'h', label: { name: 'x', values: [] } }),
      () => new HistogramFamily(registry, { name: 'd_seconds', help: 'h', buckets: [1, 1] }),
      () => new HistogramFamily(registry, { name: 'e_seconds', help: 'h', buckets: [] }),
      () => new HistogramFamily(registry, { name: 'f_seconds', help: 'h', buckets: [1, Infinity] }),
    ];
    for (const make of bad) {
      assert.throws(make, (error: unknown) => error instanceof MesosExecutorError && error.code === 'MPE_INVALID_OPTION');
    }
    new CounterFamily(registry, { name: 'taken_total', help: 'h' });
    assert.throws(() => new CounterFamily(registry, { name: 'taken_total', help: 'h' }), /already been registered/);
  });
});
