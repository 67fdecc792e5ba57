// The small exposition reader used by `local`'s final scrape and the tests.
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { parseExposition, sampleSum } from '../../src/metrics/exposition.js';

describe('metrics exposition reader', () => {
  it('reads names, escaped labels, special values and timestamps; skips comments', () => {
    const samples = parseExposition(
      [
        '# HELP a_total help',
        '# TYPE a_total counter',
        'a_total{state="X"} 3',
        'a_total{state="Y",q="a\\"b\\\\c\\nd"} 4 1700000000000',
        'b_bucket{le="+Inf"} +Inf',
        'c NaN',
        '',
      ].join('\n'),
    );
    assert.equal(samples.length, 4);
    assert.deepEqual(samples[1], { name: 'a_total', labels: { state: 'Y', q: 'a"b\\c\nd' }, value: 4 });
    assert.equal(samples[2]!.value, Infinity);
    assert.ok(Number.isNaN(samples[3]!.value));
    assert.equal(sampleSum(samples, 'a_total'), 7);
    assert.equal(sampleSum(samples, 'a_total', { state: 'X' }), 3);
    assert.equal(sampleSum(samples, 'missing'), 0);
  });
});
