// Property-based fuzzing of the RecordIO decoder and both codecs (test/soak/fuzz-properties.ts):
// a few thousand seeded cases here; `npm run soak` runs over 100k. Plus the hand-picked hostile
// inputs the properties are unlikely to hit by chance.
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { MesosExecutorError } from '../../src/errors.js';
import { jsonCodec, protobufCodec } from '../../src/protocol/codec.js';
import { RecordIODecoder } from '../../src/protocol/recordio.js';
import { deeplyNested, fuzzProperties, runFuzz } from '../soak/fuzz-properties.js';

const TOTAL_RUNS = Number(process.env.FUZZ_RUNS ?? 3000);
const SEED = Number(process.env.FUZZ_SEED ?? 20240823);

describe('fuzz: RecordIO decoder and codecs (fast-check)', () => {
  for (const { name } of fuzzProperties()) {
    it(name, () => {
      const [result] = runFuzz(TOTAL_RUNS, SEED, (n) => n === name);
      assert.ok(result !== undefined && result.runs > 0);
    });
  }
});

describe('fuzz: hand-picked hostile inputs', () => {
  it('a length prefix of 20 nines fails at once, holding nothing (default 64 MiB limit)', () => {
    const decoder = new RecordIODecoder();
    assert.throws(() => decoder.push(Buffer.from('99999999999999999999\n')), { code: 'MPE_RECORDIO_TOO_LARGE' });
    assert.equal(decoder.bufferedBytes, 0);
  });

  it('a prefix one byte over the limit fails before its body arrives; one at the limit waits for it', () => {
    const over = new RecordIODecoder({ maxRecordBytes: 1000 });
    assert.throws(() => over.push(Buffer.from('1001')), { code: 'MPE_RECORDIO_TOO_LARGE' });
    const at = new RecordIODecoder({ maxRecordBytes: 1000 });
    assert.deepEqual(at.push(Buffer.from('1000\n')), []);
    assert.throws(() => at.end(), { code: 'MPE_RECORDIO_TRUNCATED' });
  });

  it('an endless run of leading zeros is refused after 20 digits', () => {
    const decoder = new RecordIODecoder();
    assert.throws(() => decoder.push(Buffer.alloc(10_000, '0')), { code: 'MPE_RECORDIO_BAD_HEADER' });
  });

  for (const [name, codec] of [
    ['json', jsonCodec],
    ['protobuf', protobufCodec],
  ] as const) {
    it(`${name}: 100k nested arrays and objects in an event: a typed error or ignored, never a RangeError`, () => {
      for (const text of [
        deeplyNested(100_000),
        deeplyNested(100_000, 'object'),
        `{"type":"MESSAGE","message":{"data":"","x":${deeplyNested(100_000)}}}`,
        `{"type":"LAUNCH","launch":{"task":${deeplyNested(100_000, 'object')}}}`,
      ]) {
        try {
          codec.decodeEvent(Buffer.from(text));
        } catch (error) {
          assert.ok(error instanceof MesosExecutorError, `untyped: ${String(error)}`);
          assert.equal(error.code, 'MPE_DECODE');
        }
      }
    });
  }

  it('protobuf: deeply nested length-delimited fields (a submessage bomb) are a typed error or ignored', () => {
    // Field 4 (launch) → field 1 (task) → … nested 50k deep.
    let inner: Buffer = Buffer.alloc(0);
    for (let i = 0; i < 50_000; i++) {
      const header = Buffer.from([0x0a, ...varint(inner.length)]);
      inner = Buffer.concat([header, inner]);
    }
    const event = Buffer.concat([Buffer.from([0x08, 0x02, 0x22, ...varint(inner.length)]), inner]);
    try {
      protobufCodec.decodeEvent(event);
    } catch (error) {
      assert.ok(error instanceof MesosExecutorError, `untyped: ${String(error)}`);
    }
  });
});

function varint(n: number): number[] {
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return out;
}
