// Property-based fuzzing of the pure wire code: the RecordIO decoder and both Call/Event codecs,
// on random input and on mutations of the official fixture vectors. Shared by the unit tests
// (a few thousand cases) and the soak (over 100k). Every property states the same contract:
// the code returns, or throws a MesosExecutorError with a documented code; it never hangs,
// never throws anything else, and never holds more than its configured limit.
import fc from 'fast-check';
import { ERROR_CODES, MesosExecutorError } from '../../src/errors.js';
import { jsonCodec, protobufCodec, type Codec } from '../../src/protocol/codec.js';
import { encodeRecord, RecordIODecoder } from '../../src/protocol/recordio.js';
import { splitAt } from '../helpers/split.js';
import { loadFixtures } from '../helpers/wire-fixtures.js';

/** Small on purpose: a hostile length prefix must fail long before any allocation of it. */
export const FUZZ_MAX_RECORD_BYTES = 4096;
/** A single decode or a whole property case taking longer than this counts as a hang. */
export const CASE_BUDGET_MS = 2000;

const RECORDIO_CODES = new Set(['MPE_RECORDIO_BAD_HEADER', 'MPE_RECORDIO_TOO_LARGE', 'MPE_RECORDIO_TRUNCATED']);

/** Throws (failing the property) unless `error` is a typed error with a documented code in `allowed`. */
export function assertTypedError(error: unknown, allowed: ReadonlySet<string>, what: string): void {
  if (!(error instanceof MesosExecutorError)) {
    const detail = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    throw new Error(`${what} threw an untyped error: ${detail}`, { cause: error });
  }
  if (!(error.code in ERROR_CODES) || !allowed.has(error.code)) {
    throw new Error(`${what} threw ${error.code}, expected one of ${[...allowed].join(', ')}`, { cause: error });
  }
}

function timed<T>(what: string, run: () => T): T {
  const started = performance.now();
  const result = run();
  const took = performance.now() - started;
  if (took > CASE_BUDGET_MS) throw new Error(`${what} took ${took.toFixed(0)} ms (budget ${CASE_BUDGET_MS} ms): a hang`);
  return result;
}

// ---- inputs ----

interface Corpus {
  /** Protobuf bytes of every Call and Event vector. */
  protobufCalls: Uint8Array[];
  protobufEvents: Uint8Array[];
  /** The agent's JSON text of every Call and Event vector. */
  jsonCalls: string[];
  jsonEvents: string[];
  /** The two recorded RecordIO streams. */
  protobufStream: Uint8Array;
  jsonStream: Uint8Array;
}

let corpus: Corpus | undefined;

/** The wire fixture vectors (test/fixtures/mesos-v1-executor), loaded once. */
export function fixtureCorpus(): Corpus {
  if (corpus !== undefined) return corpus;
  const fixtures = loadFixtures();
  const calls = fixtures.vectors.filter((v) => v.kind === 'Call');
  const events = fixtures.vectors.filter((v) => v.kind === 'Event');
  corpus = {
    protobufCalls: calls.map((v) => Buffer.from(v.protobuf_hex, 'hex')),
    protobufEvents: events.map((v) => Buffer.from(v.protobuf_hex, 'hex')),
    jsonCalls: calls.map((v) => JSON.stringify(v.json)),
    jsonEvents: events.map((v) => JSON.stringify(v.json)),
    protobufStream: Buffer.from(fixtures.streams.protobuf_recordio_hex, 'hex'),
    jsonStream: Buffer.from(fixtures.streams.json_recordio_utf8, 'utf8'),
  };
  return corpus;
}

type Mutation =
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'set'; at: number; value: number }
  | { kind: 'insert'; at: number; bytes: Uint8Array }
  | { kind: 'delete'; at: number; count: number }
  | { kind: 'duplicate'; at: number; count: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'interesting'; at: number; value: number };

// Bytes that matter to the formats: varint continuation, wire types, RecordIO digits and '\n',
// JSON punctuation, a lone UTF-8 continuation byte.
const INTERESTING = [0x00, 0x01, 0x07, 0x08, 0x0a, 0x0f, 0x12, 0x22, 0x30, 0x39, 0x7f, 0x80, 0xff, 0x7b, 0x7d, 0x5b, 0x5d, 0x22, 0x3a, 0x2c];

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('set' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }) }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), count: fc.integer({ min: 1, max: 16 }) }),
  fc.record({ kind: fc.constant('duplicate' as const), at: fc.nat(), count: fc.integer({ min: 1, max: 64 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('interesting' as const), at: fc.nat(), value: fc.constantFrom(...INTERESTING) }),
);

export function applyMutations(input: Uint8Array, mutations: readonly Mutation[]): Buffer {
  let buf = Buffer.from(input);
  for (const m of mutations) {
    const len = buf.length;
    const at = len === 0 ? 0 : m.at % (len + (m.kind === 'insert' ? 1 : 0));
    switch (m.kind) {
      case 'flip':
        if (len > 0) buf[at] = buf[at]! ^ (1 << m.bit);
        break;
      case 'set':
      case 'interesting':
        if (len > 0) buf[at] = m.value;
        break;
      case 'insert':
        buf = Buffer.concat([buf.subarray(0, at), m.bytes, buf.subarray(at)]);
        break;
      case 'delete':
        buf = Buffer.concat([buf.subarray(0, at), buf.subarray(at + m.count)]);
        break;
      case 'duplicate':
        buf = Buffer.concat([buf.subarray(0, at + m.count), buf.subarray(at, at + m.count), buf.subarray(at + m.count)]);
        break;
      case 'truncate':
        buf = buf.subarray(0, at);
        break;
    }
  }
  return buf;
}

/** A fixture (chosen by index) with 1–8 mutations. */
function mutated(inputs: readonly Uint8Array[]): fc.Arbitrary<Buffer> {
  return fc
    .tuple(fc.nat({ max: inputs.length - 1 }), fc.array(mutationArb, { minLength: 1, maxLength: 8 }))
    .map(([i, ms]) => applyMutations(inputs[i]!, ms));
}

/** Split points for feeding a buffer in chunks. */
const cutsArb = fc.array(fc.nat(), { maxLength: 12 });

function chunk(buf: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  if (buf.length === 0) return [buf];
  return splitAt(buf, [...new Set(cuts.map((c) => c % (buf.length + 1)))].sort((a, b) => a - b));
}

// JSON values that stress the reader: wrong types in every slot, huge and tiny numbers, long
// digit runs (the lossless path), odd strings and keys.
const nastyJsonLeaf: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(null, true, false, 0, -1, 1e308, -1e308, 5e-324, 2 ** 53 + 1, '', 'TASK_RUNNING', 'UNKNOWN', '__proto__', 'AAAA', '====', '\u0000'),
  fc.integer(),
  fc.double({ noNaN: true }),
  fc.string({ maxLength: 20 }),
  fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }).map((b) => ({ $bigint: b.toString() })),
);
const nastyJson: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    nastyJsonLeaf,
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(fc.oneof(fc.string({ maxLength: 8 }), fc.constantFrom('__proto__', 'constructor', 'type', 'value', 'uuid', 'task_id', 'data')), tie('value'), { maxKeys: 4 }),
  ),
})).value;

/** Serializes, writing `{"$bigint": "123…"}` as a bare integer literal beyond 2^53. */
function toJsonText(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => v).replace(/\{"\$bigint":"(-?\d+)"\}/g, '$1');
}

/** Replaces a random sub-value of a parsed fixture (path chosen by a list of indexes). */
function replaceAt(root: unknown, path: readonly number[], replacement: unknown): unknown {
  if (path.length === 0 || root === null || typeof root !== 'object') return replacement;
  const copy: Record<string, unknown> | unknown[] = Array.isArray(root) ? [...root] : { ...(root as Record<string, unknown>) };
  const keys = Object.keys(copy);
  if (keys.length === 0) return replacement;
  const key = keys[path[0]! % keys.length]!;
  (copy as Record<string, unknown>)[key] = replaceAt((copy as Record<string, unknown>)[key], path.slice(1), replacement);
  return copy;
}

function structurallyMutatedJson(texts: readonly string[]): fc.Arbitrary<Buffer> {
  return fc
    .tuple(fc.nat({ max: texts.length - 1 }), fc.array(fc.nat(), { maxLength: 6 }), nastyJson)
    .map(([i, path, value]) => Buffer.from(toJsonText(replaceAt(JSON.parse(texts[i]!), path, value)), 'utf8'));
}

// ---- properties ----

const CODEC_CODES = new Set(['MPE_DECODE']);
const ENCODE_CODES = new Set(['MPE_ENCODE']);

/** decode → (if it decoded) encode → decode: each step returns or throws a typed error. */
function decodeContract(codec: Codec, kind: 'Call' | 'Event', bytes: Uint8Array): void {
  const what = `${codec.contentType} decode${kind}`;
  let value: unknown;
  try {
    value = timed(what, () => (kind === 'Call' ? codec.decodeCall(bytes) : codec.decodeEvent(bytes)));
  } catch (error) {
    assertTypedError(error, CODEC_CODES, what);
    return;
  }
  if (value === null || typeof value !== 'object') throw new Error(`${what} returned ${String(value)}`);
  // What was decoded must encode again (the driver re-encodes TaskInfos in SUBSCRIBE).
  let encoded: Uint8Array;
  try {
    encoded = timed(`${what} re-encode`, () =>
      kind === 'Call' ? codec.encodeCall(value as never) : codec.encodeEvent(value as never),
    );
  } catch (error) {
    assertTypedError(error, ENCODE_CODES, `${what} re-encode`);
    return;
  }
  try {
    if (kind === 'Call') codec.decodeCall(encoded);
    else codec.decodeEvent(encoded);
  } catch (error) {
    throw new Error(`${what}: what we encoded does not decode again`, { cause: error });
  }
}

/** Feeds `chunks` to a decoder with the fuzz limit; checks records, memory, and the error contract. */
function recordioContract(chunks: readonly Uint8Array[], onRecord?: (record: Uint8Array) => void): void {
  const decoder = new RecordIODecoder({ maxRecordBytes: FUZZ_MAX_RECORD_BYTES });
  let failed: unknown;
  timed('RecordIO decode', () => {
    for (const c of chunks) {
      try {
        for (const record of decoder.push(c)) {
          if (record.byteLength === 0 || record.byteLength > FUZZ_MAX_RECORD_BYTES) {
            throw new Error(`RecordIO decoder returned a record of ${record.byteLength} bytes`);
          }
          onRecord?.(record);
        }
      } catch (error) {
        if (error instanceof MesosExecutorError) {
          failed = error;
          break;
        }
        throw error;
      }
      if (decoder.bufferedBytes > FUZZ_MAX_RECORD_BYTES) {
        throw new Error(`RecordIO decoder holds ${decoder.bufferedBytes} bytes, over its limit of ${FUZZ_MAX_RECORD_BYTES}`);
      }
    }
    if (failed === undefined) {
      try {
        decoder.end();
      } catch (error) {
        failed = error;
      }
    }
  });
  if (failed === undefined) return;
  assertTypedError(failed, RECORDIO_CODES, 'RecordIODecoder');
  // Errors are permanent: a later push throws the same error.
  try {
    decoder.push(Buffer.from('1\nx'));
  } catch (again) {
    if (again !== failed) throw new Error('RecordIODecoder: a later push threw a different error');
    return;
  }
  throw new Error('RecordIODecoder: a push after an error succeeded');
}

export interface FuzzProperty {
  readonly name: string;
  /** Share of the total case budget. */
  readonly weight: number;
  readonly property: fc.IProperty<never>;
}

function prop<T>(name: string, weight: number, arb: fc.Arbitrary<T>, check: (value: T) => void): FuzzProperty {
  return { name, weight, property: fc.property(arb, check) as unknown as fc.IProperty<never> };
}

/** The fuzz properties, each with its share of the cases. */
export function fuzzProperties(): FuzzProperty[] {
  const c = fixtureCorpus();
  const codecs: Array<[string, Codec]> = [
    ['protobuf', protobufCodec],
    ['json', jsonCodec],
  ];
  const out: FuzzProperty[] = [
    prop('RecordIO: random bytes in random chunks', 3, fc.tuple(fc.uint8Array({ maxLength: 256 }), cutsArb), ([bytes, cuts]) =>
      recordioContract(chunk(bytes, cuts)),
    ),
    prop(
      'RecordIO: digit-heavy headers (hostile length prefixes, leading zeros, bare newlines)',
      2,
      fc.tuple(fc.array(fc.constantFrom(...'0123456789\n\nx'.split('')), { maxLength: 80 }).map((a) => Buffer.from(a.join(''), 'latin1')), cutsArb),
      ([bytes, cuts]) => recordioContract(chunk(bytes, cuts)),
    ),
    prop(
      'RecordIO: valid records in any chunking decode to exactly those records',
      2,
      fc.tuple(fc.array(fc.uint8Array({ minLength: 1, maxLength: 300 }), { maxLength: 8 }), cutsArb),
      ([records, cuts]) => {
        const stream = Buffer.concat(records.map((r) => encodeRecord(r)));
        const got: Buffer[] = [];
        recordioContract(chunk(stream, cuts), (r) => got.push(Buffer.from(r)));
        if (got.length !== records.length || got.some((g, i) => !g.equals(Buffer.from(records[i]!)))) {
          throw new Error(`decoded ${got.length} records, expected ${records.length} identical ones`);
        }
      },
    ),
  ];
  for (const [name, codec] of codecs) {
    const stream = name === 'json' ? c.jsonStream : c.protobufStream;
    out.push(
      prop(`RecordIO + ${name} events: mutated fixture stream`, 3, fc.tuple(mutated([stream]), cutsArb), ([bytes, cuts]) =>
        recordioContract(chunk(bytes, cuts), (record) => decodeContract(codec, 'Event', record)),
      ),
    );
  }
  for (const kind of ['Event', 'Call'] as const) {
    out.push(
      prop(`protobuf decode${kind}: random bytes`, 2, fc.uint8Array({ maxLength: 200 }), (bytes) => decodeContract(protobufCodec, kind, bytes)),
      prop(`protobuf decode${kind}: mutated fixture vectors`, 4, mutated(kind === 'Call' ? c.protobufCalls : c.protobufEvents), (bytes) =>
        decodeContract(protobufCodec, kind, bytes),
      ),
      prop(`json decode${kind}: random text`, 1, fc.string({ maxLength: 120 }).map((s) => Buffer.from(s, 'utf8')), (bytes) =>
        decodeContract(jsonCodec, kind, bytes),
      ),
      prop(
        `json decode${kind}: byte-mutated fixture vectors`,
        2,
        mutated((kind === 'Call' ? c.jsonCalls : c.jsonEvents).map((t) => Buffer.from(t, 'utf8'))),
        (bytes) => decodeContract(jsonCodec, kind, bytes),
      ),
      prop(`json decode${kind}: fixture vectors with a sub-value replaced`, 3, structurallyMutatedJson(kind === 'Call' ? c.jsonCalls : c.jsonEvents), (bytes) =>
        decodeContract(jsonCodec, kind, bytes),
      ),
    );
  }
  return out;
}

export interface FuzzResult {
  readonly name: string;
  readonly runs: number;
}

/**
 * Runs every property with its share of `totalRuns` cases (seeded), throwing fast-check's
 * report (with the counterexample and the seed to replay it) on the first failure.
 */
export function runFuzz(totalRuns: number, seed: number, only?: (name: string) => boolean): FuzzResult[] {
  const props = fuzzProperties().filter((p) => only === undefined || only(p.name));
  const weights = props.reduce((sum, p) => sum + p.weight, 0);
  const results: FuzzResult[] = [];
  for (const [i, p] of props.entries()) {
    const runs = Math.max(1, Math.round((totalRuns * p.weight) / weights));
    try {
      fc.assert(p.property, { numRuns: runs, seed: seed + i, endOnFailure: false });
    } catch (error) {
      throw new Error(`fuzz property "${p.name}" failed (seed ${seed + i}):\n${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
    results.push({ name: p.name, runs });
  }
  return results;
}

/** Deep nesting: a JSON text of `depth` nested arrays (or objects). */
export function deeplyNested(depth: number, kind: 'array' | 'object' = 'array'): string {
  return kind === 'array' ? '['.repeat(depth) + ']'.repeat(depth) : '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
}
