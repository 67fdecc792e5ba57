import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { MesosExecutorError } from '../../src/errors.js';
import { DEFAULT_MAX_RECORD_BYTES, RecordIODecoder, encodeRecord } from '../../src/protocol/recordio.js';
import { seededRandom } from '../helpers/fake-clock.js';
import { splitAt } from '../helpers/split.js';
import { loadFixtures, type Fixtures } from '../helpers/wire-fixtures.js';

const text = (s: string): Buffer => Buffer.from(s, 'utf8');
const strings = (records: Uint8Array[]): string[] => records.map((r) => Buffer.from(r).toString('utf8'));

function decodeAll(chunks: Uint8Array[], decoder = new RecordIODecoder()): string[] {
  const out: string[] = [];
  for (const chunk of chunks) out.push(...strings(decoder.push(chunk)));
  decoder.end();
  return out;
}

function assertRecordIOError(fn: () => unknown, code: string): MesosExecutorError {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof MesosExecutorError, `expected a MesosExecutorError, got ${String(caught)}`);
  assert.equal(caught.name, 'RecordIOError');
  assert.equal(caught.code, code);
  return caught;
}

describe('RecordIODecoder', () => {
  const records = ['{"type":"SUBSCRIBED"}', 'x', '{"type":"HEARTBEAT"}', 'a longer record with some words in it'];
  const stream = Buffer.concat(records.map((r) => encodeRecord(text(r))));

  it('decodes a whole stream pushed as one chunk', () => {
    assert.deepEqual(decodeAll([stream]), records);
  });

  it('decodes a stream fed one byte at a time', () => {
    const decoder = new RecordIODecoder();
    const out: string[] = [];
    for (let i = 0; i < stream.length; i++) out.push(...strings(decoder.push(stream.subarray(i, i + 1))));
    decoder.end();
    assert.deepEqual(out, records);
  });

  it('decodes the stream split at every single point', () => {
    for (let p = 0; p <= stream.length; p++) {
      assert.deepEqual(decodeAll(splitAt(stream, [p])), records, `split at ${p}`);
    }
  });

  it('decodes the stream split at every pair of points', () => {
    for (let p = 0; p <= stream.length; p++) {
      for (let q = p; q <= stream.length; q++) {
        assert.deepEqual(decodeAll(splitAt(stream, [p, q])), records, `split at ${p}, ${q}`);
      }
    }
  });

  it('counts lengths in bytes, not characters (multi-byte UTF-8)', () => {
    const payloads = ['héllo wörld', '日本語のテキスト', '🎉🎉', 'ascii'];
    const data = Buffer.concat(payloads.map((p) => encodeRecord(text(p))));
    // Two emoji: 4 JS characters, 8 bytes.
    assert.ok(encodeRecord(text('🎉🎉')).toString('latin1').startsWith('8\n'));
    for (let p = 0; p <= data.length; p++) {
      assert.deepEqual(decodeAll(splitAt(data, [p])), payloads, `split at ${p}`);
    }
  });

  it('decodes a record larger than the chunks it arrives in, and copies it only once complete', () => {
    const big = Buffer.alloc(100_000);
    for (let i = 0; i < big.length; i++) big[i] = i % 251;
    const data = encodeRecord(big);
    const decoder = new RecordIODecoder();
    const out: Uint8Array[] = [];
    for (let i = 0; i < data.length; i += 7) {
      out.push(...decoder.push(data.subarray(i, i + 7)));
      if (i > 0 && out.length === 0) assert.equal(decoder.bufferedBytes, i); // header is 7 bytes
    }
    decoder.end();
    assert.equal(out.length, 1);
    assert.ok(Buffer.from(out[0]!).equals(big));
    assert.equal(decoder.bufferedBytes, 0);
  });

  it('returns many records from one chunk, as views of that chunk when complete inside it', () => {
    const many = Array.from({ length: 1000 }, (_, i) => `record-${i}`);
    const data = Buffer.concat(many.map((r) => encodeRecord(text(r))));
    const decoder = new RecordIODecoder();
    const out = decoder.push(data);
    assert.deepEqual(strings(out), many);
    assert.equal(out[0]!.buffer, data.buffer, 'a record inside one chunk is not copied');
    assert.ok(Buffer.isBuffer(out[0]));
  });

  it('ignores empty chunks anywhere', () => {
    const empty = new Uint8Array(0);
    const chunks = [empty, stream.subarray(0, 1), empty, empty, stream.subarray(1, 5), empty, stream.subarray(5), empty];
    assert.deepEqual(decodeAll(chunks), records);
  });

  it('accepts plain Uint8Array chunks (not Buffers)', () => {
    const copy = new Uint8Array(stream.length);
    copy.set(stream);
    assert.deepEqual(decodeAll([copy.subarray(0, 10), copy.subarray(10)]), records);
  });

  it('tolerates bare newlines between records and at the start and end', () => {
    const data = Buffer.concat([text('\n\n'), encodeRecord(text('a')), text('\n'), encodeRecord(text('b')), text('\n\n\n')]);
    for (let p = 0; p <= data.length; p++) {
      assert.deepEqual(decodeAll(splitAt(data, [p])), ['a', 'b'], `split at ${p}`);
    }
  });

  it('skips zero-length records', () => {
    assert.deepEqual(decodeAll([text('0\n1\na0\n00\n1\nb')]), ['a', 'b']);
  });

  it('accepts leading zeros in a length prefix', () => {
    assert.deepEqual(decodeAll([text('003\nabc')]), ['abc']);
  });

  for (const [label, input] of [
    ['a minus sign', '-1\n'],
    ['a hex prefix', '0x10\n'],
    ['a leading space', ' 5\n'],
    ['letters', 'abc'],
    ['a carriage return', '5\r\nhello'],
    ['a trailing space', '5 \nhello'],
    ['a plus sign', '+5\nhello'],
  ] as const) {
    it(`rejects a length prefix with ${label} (MPE_RECORDIO_BAD_HEADER)`, () => {
      const error = assertRecordIOError(() => new RecordIODecoder().push(text(input)), 'MPE_RECORDIO_BAD_HEADER');
      assert.match(error.message, /stream offset 0/);
    });
  }

  it('rejects a bad header after good records, reporting its stream offset', () => {
    const decoder = new RecordIODecoder();
    assert.deepEqual(strings(decoder.push(text('1\na'))), ['a']);
    const error = assertRecordIOError(() => decoder.push(text('2\nbcX')), 'MPE_RECORDIO_BAD_HEADER');
    assert.match(error.message, /stream offset 7/);
    assert.match(error.message, /0x58/);
  });

  it('rejects a hostile length at once, without buffering or allocating it', () => {
    const decoder = new RecordIODecoder();
    const started = process.hrtime.bigint();
    assertRecordIOError(() => decoder.push(text('99999999999999999999\n')), 'MPE_RECORDIO_TOO_LARGE');
    const elapsedMs = Number(process.hrtime.bigint() - started) / 1e6;
    assert.ok(elapsedMs < 100, `took ${elapsedMs} ms`);
    assert.equal(decoder.bufferedBytes, 0);
  });

  it('rejects a length as soon as its digits exceed the maximum, before the newline', () => {
    const decoder = new RecordIODecoder({ maxRecordBytes: 100 });
    assert.deepEqual(decoder.push(text('10')), []);
    assert.equal(decoder.bufferedBytes, 2);
    assertRecordIOError(() => decoder.push(text('1')), 'MPE_RECORDIO_TOO_LARGE');
  });

  it('accepts a record of exactly maxRecordBytes and rejects one byte more', () => {
    const payload = Buffer.alloc(100, 0x61);
    assert.equal(new RecordIODecoder({ maxRecordBytes: 100 }).push(encodeRecord(payload)).length, 1);
    assertRecordIOError(
      () => new RecordIODecoder({ maxRecordBytes: 100 }).push(encodeRecord(Buffer.alloc(101))),
      'MPE_RECORDIO_TOO_LARGE',
    );
  });

  it('defaults maxRecordBytes to 64 MiB', () => {
    assert.equal(DEFAULT_MAX_RECORD_BYTES, 64 * 1024 * 1024);
    const decoder = new RecordIODecoder();
    assert.deepEqual(decoder.push(text(`${DEFAULT_MAX_RECORD_BYTES}\n`)), []);
    assertRecordIOError(() => new RecordIODecoder().push(text(`${DEFAULT_MAX_RECORD_BYTES + 1}\n`)), 'MPE_RECORDIO_TOO_LARGE');
  });

  it('caps the number of header digits even when their value stays small', () => {
    const decoder = new RecordIODecoder();
    assert.deepEqual(decoder.push(text('0'.repeat(20))), []);
    const error = assertRecordIOError(() => decoder.push(text('0')), 'MPE_RECORDIO_BAD_HEADER');
    assert.match(error.message, /more than 20 digits/);
    assert.equal(decoder.bufferedBytes, 0);
  });

  it('stays failed after an error: every later push and end throws the same error', () => {
    const decoder = new RecordIODecoder();
    const first = assertRecordIOError(() => decoder.push(text('x')), 'MPE_RECORDIO_BAD_HEADER');
    assert.throws(() => decoder.push(encodeRecord(text('fine'))), (e) => e === first);
    assert.throws(() => decoder.push(new Uint8Array(0)), (e) => e === first);
    assert.throws(() => decoder.end(), (e) => e === first);
  });

  it('reports truncation when the stream ends inside a record or a length prefix', () => {
    const inBody = new RecordIODecoder();
    inBody.push(text('5\nab'));
    assert.equal(inBody.bufferedBytes, 2);
    const error = assertRecordIOError(() => inBody.end(), 'MPE_RECORDIO_TRUNCATED');
    assert.match(error.message, /2 of 5 bytes/);
    assert.throws(() => inBody.push(text('cde')), (e) => e === error);

    const inHeader = new RecordIODecoder();
    inHeader.push(text('12'));
    assertRecordIOError(() => inHeader.end(), 'MPE_RECORDIO_TRUNCATED');

    const afterNewline = new RecordIODecoder();
    afterNewline.push(text('3\n'));
    assertRecordIOError(() => afterNewline.end(), 'MPE_RECORDIO_TRUNCATED');
  });

  it('ends cleanly between records, after bare newlines and after a skipped empty record', () => {
    for (const input of ['', '1\na', '1\na\n', '0\n']) {
      const decoder = new RecordIODecoder();
      decoder.push(text(input));
      assert.doesNotThrow(() => decoder.end(), JSON.stringify(input));
    }
  });

  it('validates maxRecordBytes', () => {
    for (const bad of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 60]) {
      assert.throws(
        () => new RecordIODecoder({ maxRecordBytes: bad }),
        (e: unknown) => e instanceof MesosExecutorError && e.code === 'MPE_INVALID_OPTION' && /maxRecordBytes/.test(e.message),
        String(bad),
      );
    }
  });

  it('property: random records in random chunkings decode to the same records (seeded)', () => {
    for (let seed = 1; seed <= 200; seed++) {
      const random = seededRandom(seed);
      const count = Math.floor(random() * 20);
      const expected: Buffer[] = [];
      const parts: Buffer[] = [];
      for (let i = 0; i < count; i++) {
        // Mostly small records, sometimes large ones; sometimes empty (skipped) ones.
        const size = random() < 0.1 ? 0 : random() < 0.1 ? Math.floor(random() * 5000) : Math.floor(random() * 40);
        const payload = Buffer.alloc(size);
        for (let b = 0; b < size; b++) payload[b] = Math.floor(random() * 256);
        if (random() < 0.2) parts.push(text('\n'.repeat(1 + Math.floor(random() * 3))));
        parts.push(encodeRecord(payload));
        if (size > 0) expected.push(payload);
      }
      const data = Buffer.concat(parts);
      const chunks: Buffer[] = [];
      for (let at = 0; at < data.length; ) {
        const size = random() < 0.1 ? 0 : 1 + Math.floor(random() * (random() < 0.5 ? 8 : 700));
        chunks.push(data.subarray(at, at + size));
        at += size;
      }
      const decoder = new RecordIODecoder();
      const got: Uint8Array[] = [];
      for (const chunk of chunks) got.push(...decoder.push(chunk));
      decoder.end();
      assert.equal(got.length, expected.length, `seed ${seed}`);
      got.forEach((record, i) => assert.ok(Buffer.from(record).equals(expected[i]!), `seed ${seed}, record ${i}`));
    }
  });
});

describe('encodeRecord', () => {
  it('writes the decimal byte count, a newline and the bytes', () => {
    assert.equal(encodeRecord(text('hello')).toString('utf8'), '5\nhello');
    assert.equal(encodeRecord(text('é')).toString('latin1').slice(0, 2), '2\n');
    assert.equal(encodeRecord(new Uint8Array(0)).toString(), '0\n');
  });

  it('round-trips through the decoder', () => {
    const payloads = [text('{"a":1}'), Buffer.from([0, 1, 2, 255, 10, 10]), Buffer.alloc(12345, 7)];
    const decoder = new RecordIODecoder();
    const got = decoder.push(Buffer.concat(payloads.map(encodeRecord)));
    decoder.end();
    assert.equal(got.length, payloads.length);
    got.forEach((r, i) => assert.ok(Buffer.from(r).equals(payloads[i]!)));
  });
});

// The wire fixtures (test/fixtures/mesos-v1-executor): streams produced with upstream's encoder
// must decode to the recorded messages. A missing fixture fails these tests (loadFixtures throws).
describe('RecordIODecoder on the wire fixtures', () => {
  const load = (): Fixtures => loadFixtures();

  it('decodes the protobuf stream, split at every point, into the recorded messages', () => {
    const { vectors, streams } = load();
    const expected = streams.names.map((name) => vectors.find((v) => v.name === name)?.protobuf_hex);
    const data = Buffer.from(streams.protobuf_recordio_hex, 'hex');
    for (let p = 0; p <= data.length; p += 3) {
      const decoder = new RecordIODecoder();
      const got = [...decoder.push(data.subarray(0, p)), ...decoder.push(data.subarray(p))].map((r) =>
        Buffer.from(r).toString('hex'),
      );
      decoder.end();
      assert.deepEqual(got, expected, `split at ${p}`);
    }
  });

  it('decodes the JSON stream into one JSON document per event, and re-encodes it identically', () => {
    const { streams } = load();
    const data = text(streams.json_recordio_utf8);
    const decoder = new RecordIODecoder();
    const got = decoder.push(data);
    decoder.end();
    assert.equal(got.length, streams.names.length);
    for (const record of got) assert.equal(typeof JSON.parse(Buffer.from(record).toString('utf8')), 'object');
    assert.ok(Buffer.concat(got.map(encodeRecord)).equals(data));
  });
});
