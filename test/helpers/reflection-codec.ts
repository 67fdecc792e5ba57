// The protobuf codec as it was before the one-pass codec (src/protocol/codec-protobuf.ts):
// protobufjs' reflection decode/encode of the schema's types, plus a converter between its
// message objects and our plain shape. Kept as the oracle the property tests compare the
// one-pass codec with: the same bytes in, the same plain value out, and the other way round.
import protobuf from 'protobufjs';
import { CodecError } from '../../src/errors.js';
import type { FieldSpec, MessageSpec } from '../../src/proto/schema.js';
import { UNKNOWN_FIELDS } from '../../src/protocol/codec-protobuf.js';
import { decodeOpaqueUtf8, encodeOpaqueUtf8, truncateUtf8, wellFormed } from '../../src/protocol/utf8.js';

type Plain = Record<string, unknown>;
type Convert = (value: unknown) => unknown;

const hasOwn = Object.prototype.hasOwnProperty;

/** A failure inside a message, carrying the field path out to the top-level message. */
class FieldError extends Error {
  readonly path: string[] = [];
}

// ---- decode: protobufjs message -> plain value ----

const decoders = new Map<MessageSpec, (m: Plain) => Plain>();

function messageDecoder(spec: MessageSpec): (m: Plain) => Plain {
  let decode = decoders.get(spec);
  if (decode !== undefined) return decode;
  const fields = spec.fields.map((f) => ({ name: f.name, repeated: f.repeated, map: f.map, convert: fromWire(f) }));
  decode = (m: Plain): Plain => {
    const out: Plain = {};
    for (const f of fields) {
      const v = m[f.name];
      if (f.map) {
        const entries = Object.keys(v as Plain);
        if (entries.length === 0) continue;
        const obj: Plain = {};
        for (const k of entries) obj[k] = f.convert((v as Plain)[k]);
        out[f.name] = obj;
      } else if (f.repeated) {
        const arr = v as unknown[];
        if (arr.length === 0) continue;
        out[f.name] = f.convert === identity ? arr.slice() : arr.map(f.convert);
      } else if (v !== undefined && v !== null && hasOwn.call(m, f.name)) {
        out[f.name] = f.convert(v);
      }
    }
    const unknowns = (m as { $unknowns?: Uint8Array[] }).$unknowns;
    if (unknowns !== undefined && unknowns.length > 0) {
      // Copies (Buffer.from, not Buffer#slice, which is a view): protobufjs hands out views of
      // the input buffer, which would pin the whole stream chunk. Enumerable, so that a spread or
      // an object rest (`{ data, ...task }`) keeps it; a symbol key, so that JSON,
      // Object.keys and structured clone never see it.
      (out as { [UNKNOWN_FIELDS]?: Uint8Array[] })[UNKNOWN_FIELDS] = unknowns.map((u) => Buffer.from(u));
    }
    return out;
  };
  decoders.set(spec, decode);
  return decode;
}

const identity: Convert = (v) => v;

function fromWire(field: FieldSpec): Convert {
  if (field.opaqueId) return (v) => decodeOpaqueUtf8(v as Uint8Array);
  switch (field.kind) {
    case 'message': {
      const sub = field.message!;
      return (v) => messageDecoder(sub)(v as Plain);
    }
    case 'enum': {
      const names = field.enumSpec!.nameOf;
      return (v) => names.get(v as number) ?? v;
    }
    case 'int64':
    case 'sint64':
    case 'sfixed64':
      return (v) => int64FromWire(v, false);
    case 'uint64':
    case 'fixed64':
      return (v) => int64FromWire(v, true);
    case 'bytes':
      // A copy, so a decoded event does not pin (or alias) the whole stream buffer.
      return (v) => Buffer.from(v as Uint8Array);
    default:
      return identity;
  }
}

interface LongLike {
  low: number;
  high: number;
  unsigned?: boolean;
}

/** protobufjs gives a Long (or a number without long.js); we want a number when exact, else digits. */
function int64FromWire(v: unknown, unsigned: boolean): number | string {
  if (typeof v === 'number') return v;
  const { low, high } = v as LongLike;
  const hi = unsigned ? high >>> 0 : high | 0;
  const n = hi * 4294967296 + (low >>> 0);
  if (Number.isSafeInteger(n)) return n;
  return ((BigInt(hi) << 32n) + BigInt(low >>> 0)).toString();
}

// ---- encode: plain value -> protobufjs-encodable object ----

const encoders = new Map<MessageSpec, (v: Plain) => Plain>();

function messageEncoder(spec: MessageSpec): (v: Plain) => Plain {
  let encode = encoders.get(spec);
  if (encode !== undefined) return encode;
  const fields = spec.fields.map((f) => ({ name: f.name, repeated: f.repeated, map: f.map, convert: toWire(f) }));
  encode = (v: Plain): Plain => {
    const out: Plain = {};
    let current = '';
    try {
      for (const f of fields) {
        const x = v[f.name];
        if (x === undefined || x === null) continue;
        current = f.name;
        if (f.map) {
          if (!isPlainObject(x)) throw new FieldError('expected an object (map)');
          const obj: Plain = {};
          for (const k of Object.keys(x)) {
            const item = x[k];
            // Keys are strings on the wire too: well-formed, like every string we send.
            if (item !== undefined && item !== null) obj[wellFormed(k)] = f.convert(item);
          }
          out[f.name] = obj;
        } else if (f.repeated) {
          if (!Array.isArray(x)) throw new FieldError('expected an array');
          out[f.name] = x.map(f.convert);
        } else {
          out[f.name] = f.convert(x);
        }
      }
    } catch (err) {
      if (err instanceof FieldError) err.path.unshift(current);
      throw err;
    }
    const unknowns = (v as { [UNKNOWN_FIELDS]?: Uint8Array[] })[UNKNOWN_FIELDS];
    if (unknowns !== undefined) out['$unknowns'] = unknowns;
    return out;
  };
  encoders.set(spec, encode);
  return encode;
}

function isPlainObject(v: unknown): v is Plain {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !ArrayBuffer.isView(v);
}

function toWire(field: FieldSpec): Convert {
  // The id's own bytes, also when they are not UTF-8 (protobufjs has it declared as bytes).
  if (field.opaqueId) return (v) => encodeOpaqueUtf8(checked(typeof v === 'string', v, 'a string') as string);
  switch (field.kind) {
    case 'message': {
      const sub = field.message!;
      return (v) => {
        if (!isPlainObject(v)) throw new FieldError('expected an object');
        return messageEncoder(sub)(v);
      };
    }
    case 'enum': {
      const numbers = field.enumSpec!.numberOf;
      return (v) => {
        if (typeof v === 'string') {
          const n = numbers.get(v);
          if (n === undefined) throw new FieldError(`unknown enum name '${v}'`);
          return n;
        }
        if (typeof v === 'number' && Number.isInteger(v)) return v;
        throw new FieldError('expected an enum name');
      };
    }
    case 'int64':
    case 'sint64':
    case 'sfixed64':
      return (v) => int64ToWire(v, false);
    case 'uint64':
    case 'fixed64':
      return (v) => int64ToWire(v, true);
    case 'int32':
    case 'sint32':
    case 'sfixed32':
      return (v) => checked(typeof v === 'number' && Number.isInteger(v) && v >= -2147483648 && v <= 2147483647, v, 'an int32');
    case 'uint32':
    case 'fixed32':
      return (v) => checked(typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 4294967295, v, 'a uint32');
    case 'double':
    case 'float':
      return (v) => checked(typeof v === 'number', v, 'a number');
    case 'bool':
      return (v) => checked(typeof v === 'boolean', v, 'a boolean');
    case 'string':
      // protobufjs would write a lone surrogate as invalid UTF-8 (see utf8.ts).
      return (v) => wellFormed(checked(typeof v === 'string', v, 'a string') as string);
    case 'bytes':
      return (v) => checked(v instanceof Uint8Array, v, 'a Uint8Array');
  }
}

function checked(ok: boolean, v: unknown, what: string): unknown {
  if (!ok) throw new FieldError(`expected ${what}, got ${describe(v)}`);
  return v;
}

function describe(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(truncateUtf8(v, 40));
  if (typeof v === 'object') return v === null ? 'null' : Array.isArray(v) ? 'an array' : 'an object';
  return String(v);
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;

/** Numbers go through as they are; a decimal string becomes the {low, high} pair protobufjs accepts. */
function int64ToWire(v: unknown, unsigned: boolean): unknown {
  if (typeof v === 'number') {
    if (!Number.isInteger(v) || (unsigned && v < 0)) throw new FieldError(`expected a 64-bit integer, got ${describe(v)}`);
    return v;
  }
  if (typeof v !== 'string' || !/^-?\d+$/.test(v)) throw new FieldError(`expected a 64-bit integer, got ${describe(v)}`);
  const big = BigInt(v);
  if (unsigned ? big < 0n || big > UINT64_MAX : big < INT64_MIN || big > INT64_MAX) {
    throw new FieldError(`${v} is out of range`);
  }
  const bits = BigInt.asUintN(64, big);
  return { low: Number(bits & 0xffffffffn) | 0, high: Number(bits >> 32n) | 0, unsigned };
}

// ---- entry points ----

/** Decodes one message; any malformed input is a CodecError MPE_DECODE (never a protobufjs error). */
export function reflectionDecode(spec: MessageSpec, bytes: Uint8Array): Plain {
  let message: Plain;
  try {
    const reader = protobuf.Reader.create(bytes);
    reader.discardUnknown = false;
    message = spec.type.decode(reader) as unknown as Plain;
  } catch (err) {
    throw new CodecError('MPE_DECODE', `Failed to decode ${spec.fullName} from protobuf: ${(err as Error).message}`, {
      cause: err,
    });
  }
  return messageDecoder(spec)(message);
}

/** Encodes one message; a value of the wrong type is a CodecError MPE_ENCODE naming the field. */
export function reflectionEncode(spec: MessageSpec, value: Plain): Uint8Array {
  let wire: Plain;
  try {
    wire = messageEncoder(spec)(value);
  } catch (err) {
    if (err instanceof FieldError) {
      throw new CodecError('MPE_ENCODE', `Cannot encode ${spec.fullName}: field '${err.path.join('.')}': ${err.message}`);
    }
    throw err;
  }
  try {
    return spec.type.encode(wire).finish();
  } catch (err) {
    throw new CodecError('MPE_ENCODE', `Cannot encode ${spec.fullName}: ${(err as Error).message}`, { cause: err });
  }
}
