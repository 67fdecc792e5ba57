// The one-pass protobuf codec against protobufjs' reflection codec (test/helpers/reflection-codec.ts,
// the codec this package had before): on random messages of every type the executor API has,
// both must write the same bytes, and read the same bytes (valid, mutated or cut) into the same
// value, or both refuse them.
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { CodecError } from '../../src/errors.js';
import { CALL_TYPE, EVENT_TYPE, messageSpec, type FieldSpec, type MessageSpec } from '../../src/proto/schema.js';
import { decodeMessage, encodeMessage, UNKNOWN_FIELDS } from '../../src/protocol/codec-protobuf.js';
import { reflectionDecode, reflectionEncode } from '../helpers/reflection-codec.js';

/** Fixed, so that every run checks the same cases (a failure is reproducible as it stands). */
const PROPERTY_SEED = 20261202;

type Plain = Record<string, unknown>;

const text = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.string({ unit: 'binary', maxLength: 8 }),
  // Long enough for a length prefix of two bytes.
  fc.string({ unit: 'binary-ascii', minLength: 120, maxLength: 300 }),
  fc.constantFrom('\ud83d', 'a\ude00b', '😀', 'é€'),
);
// Ids are opaque bytes: some not UTF-8 (kept as U+DC80..U+DCFF, utf8.ts).
const id = fc.oneof(
  text,
  fc.array(fc.oneof(fc.integer({ min: 0xdc80, max: 0xdcff }), fc.integer({ min: 0x20, max: 0x7e })), { maxLength: 6 }).map((codes) =>
    String.fromCharCode(...codes),
  ),
);
const int64 = fc.oneof(
  fc.maxSafeInteger(),
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map(String),
);
const uint64 = fc.oneof(fc.maxSafeNat(), fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }).map(String));

/** A varint-encoded unknown field with a number no message here declares. */
const unknownField = fc.record({ number: fc.integer({ min: 200, max: 5000 }), value: fc.nat() }).map(({ number, value }) => {
  const bytes: number[] = [];
  const varint = (v: number): void => {
    while (v > 0x7f) {
      bytes.push((v & 0x7f) | 0x80);
      v = Math.floor(v / 128);
    }
    bytes.push(v);
  };
  varint(number * 8);
  varint(value);
  return Buffer.from(bytes);
});

function scalar(field: FieldSpec): fc.Arbitrary<unknown> {
  if (field.opaqueId) return id;
  switch (field.kind) {
    case 'string':
      return text;
    case 'bytes':
      return fc.uint8Array({ maxLength: 140 }).map((b) => Buffer.from(b));
    case 'bool':
      return fc.boolean();
    case 'double':
      return fc.double();
    case 'float':
      return fc.float();
    case 'int32':
    case 'sint32':
    case 'sfixed32':
      return fc.integer();
    case 'uint32':
    case 'fixed32':
      return fc.integer({ min: 0, max: 0xffffffff });
    case 'int64':
    case 'sint64':
    case 'sfixed64':
      return int64;
    case 'uint64':
    case 'fixed64':
      return uint64;
    case 'enum': {
      const names = [...field.enumSpec!.numberOf.keys()];
      // Mostly names; sometimes a number, known or not (an unknown one is kept with the unknown fields).
      return fc.oneof({ weight: 6, arbitrary: fc.constantFrom(...names) }, { weight: 1, arbitrary: fc.integer({ min: -3, max: 300 }) });
    }
    case 'message':
      throw new Error('not a scalar');
  }
}

function messageValue(spec: MessageSpec, depth: number): fc.Arbitrary<Plain> {
  const fields = spec.fields.filter((f) => f.kind !== 'message' || depth > 0);
  const entries = fields.map((f) => {
    const one = f.kind === 'message' ? messageValue(f.message!, depth - 1) : scalar(f);
    const arb: fc.Arbitrary<unknown> = f.map
      ? fc.dictionary(fc.string({ maxLength: 6 }).filter((k) => k !== '__proto__'), one, { maxKeys: 3 })
      : f.repeated
        ? fc.array(one, { maxLength: 3 })
        : one;
    return [f.name, arb] as const;
  });
  return fc
    .tuple(fc.record(Object.fromEntries(entries), { requiredKeys: [] }), fc.option(fc.array(unknownField, { minLength: 1, maxLength: 2 }), { freq: 8 }))
    .map(([value, unknowns]) => {
      const out = value as Plain;
      if (unknowns !== null) (out as { [UNKNOWN_FIELDS]?: Buffer[] })[UNKNOWN_FIELDS] = unknowns;
      return out;
    });
}

function outcome(run: () => unknown): { ok: true; value: unknown } | { ok: false; code: string } {
  try {
    return { ok: true, value: run() };
  } catch (error) {
    assert.ok(error instanceof CodecError, `not a CodecError: ${String(error)}`);
    return { ok: false, code: error.code };
  }
}

const TYPES = [CALL_TYPE, EVENT_TYPE, 'mesos.v1.TaskInfo', 'mesos.v1.TaskStatus', 'mesos.v1.Resource'];

describe('one-pass protobuf codec = protobufjs reflection', () => {
  for (const typeName of TYPES) {
    const spec = messageSpec(typeName);
    it(`${typeName}: the same bytes from random values, and the same values from those bytes`, () => {
      fc.assert(
        fc.property(messageValue(spec, 4), (value) => {
          const ours = outcome(() => encodeMessage(spec, value));
          const theirs = outcome(() => reflectionEncode(spec, value));
          assert.equal(ours.ok, theirs.ok);
          if (!ours.ok || !theirs.ok) return;
          const bytes = ours.value as Uint8Array;
          assert.deepStrictEqual(Buffer.from(bytes), Buffer.from(theirs.value as Uint8Array));
          assert.deepStrictEqual(decodeMessage(spec, bytes), reflectionDecode(spec, bytes));
        }),
        { numRuns: 300, seed: PROPERTY_SEED },
      );
    });

    it(`${typeName}: mutated and cut bytes are read alike, or refused by both (MPE_DECODE)`, () => {
      const mutation = fc.oneof(
        fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bits: fc.integer({ min: 1, max: 255 }) }),
        fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }),
        fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 4 }) }),
      );
      fc.assert(
        fc.property(messageValue(spec, 3), fc.array(mutation, { minLength: 1, maxLength: 3 }), (value, mutations) => {
          let bytes: Buffer;
          try {
            bytes = Buffer.from(reflectionEncode(spec, value));
          } catch {
            return;
          }
          for (const m of mutations) {
            if (bytes.length === 0) break;
            const at = m.at % bytes.length;
            if (m.kind === 'flip') bytes[at]! ^= m.bits;
            else if (m.kind === 'cut') bytes = bytes.subarray(0, at);
            else bytes = Buffer.concat([bytes.subarray(0, at), m.bytes, bytes.subarray(at)]);
          }
          const ours = outcome(() => decodeMessage(spec, bytes));
          const theirs = outcome(() => reflectionDecode(spec, bytes));
          assert.deepStrictEqual(ours, theirs);
        }),
        { numRuns: 300, seed: PROPERTY_SEED },
      );
    });
  }

  // Bytes as a peer writes them (an unknown enum number is kept with the unknown fields, which
  // are written after the known ones: hence one decode/encode first).
  it('decoded bytes encode back to the same bytes (unknown fields, ids that are not UTF-8)', () => {
    const spec = messageSpec(EVENT_TYPE);
    fc.assert(
      fc.property(messageValue(spec, 4), (value) => {
        let bytes: Uint8Array;
        try {
          bytes = encodeMessage(spec, decodeMessage(spec, encodeMessage(spec, value)));
        } catch {
          return;
        }
        assert.deepStrictEqual(Buffer.from(encodeMessage(spec, decodeMessage(spec, bytes))), Buffer.from(bytes));
      }),
      { numRuns: 300, seed: PROPERTY_SEED },
    );
  });

  it('decoded bytes and unknown fields are copies, not views of the input', () => {
    const spec = messageSpec('mesos.v1.TaskInfo');
    const bytes = Buffer.from(encodeMessage(spec, { name: 'n', task_id: { value: 't' }, data: Buffer.from('payload'), [UNKNOWN_FIELDS]: [Buffer.from([0xc0, 0x3e, 0x01])] }));
    const task = decodeMessage(spec, bytes) as { data: Buffer; [UNKNOWN_FIELDS]: Buffer[] };
    bytes.fill(0);
    assert.equal(task.data.toString(), 'payload');
    assert.deepStrictEqual([...task[UNKNOWN_FIELDS][0]!], [0xc0, 0x3e, 0x01]);
  });

  it('a length prefix past 127 bytes moves the message after it (nested twice)', () => {
    const spec = messageSpec(EVENT_TYPE);
    const value = { type: 'LAUNCH', launch: { task: { name: 'x'.repeat(300), task_id: { value: 'é'.repeat(100) }, agent_id: { value: 'a' } } } };
    const bytes = encodeMessage(spec, value);
    assert.deepStrictEqual(Buffer.from(bytes), Buffer.from(reflectionEncode(spec, value)));
    assert.deepStrictEqual(decodeMessage(spec, bytes), value);
  });

  it('required fields: missing ones are named at any depth, before a wrong-typed field', () => {
    const spec = messageSpec(CALL_TYPE);
    assert.throws(
      () => encodeMessage(spec, { type: 'UPDATE', executor_id: { value: 'e' }, update: { status: { state: 'TASK_RUNNING' } } }, true),
      { code: 'MPE_ENCODE', message: 'Missing required fields: framework_id, update.status.task_id' },
    );
    assert.throws(() => encodeMessage(spec, { type: 'UPDATE', update: { status: { state: 7.5 } } }, true), {
      code: 'MPE_ENCODE',
      message: /^Missing required fields: executor_id, framework_id, update\.status\.task_id$/,
    });
    const partial = encodeMessage(spec, { type: 'HEARTBEAT', executor_id: { value: 'e' } });
    assert.throws(() => decodeMessage(spec, partial, true), { code: 'MPE_DECODE', message: 'Missing required fields: framework_id' });
    assert.deepStrictEqual(decodeMessage(spec, partial), { type: 'HEARTBEAT', executor_id: { value: 'e' } });
  });
});
