/**
 * Mesos JSON reader: accepts what the agent's parser accepts (stout `protobuf::parse`,
 * PROTOCOL.md §5) and gives our plain value shape. Error texts follow stout's, so the local agent
 * can answer with the agent's own words.
 *
 * Precision: JSON.parse turns integers beyond 2^53 into the nearest double. Such a literal has
 * 16 or more digits, so only a text with a run of 16+ digits goes through lossless-json (slower),
 * which hands big integer literals over as {@link BigInteger}; every other text stays on JSON.parse.
 */
import { parse as losslessParse } from 'lossless-json';
import { CodecError } from '../errors.js';
import type { FieldSpec, MessageSpec } from '../proto/schema.js';

type Plain = Record<string, unknown>;

/** An integer literal too big for a double, as its text. */
class BigInteger {
  constructor(readonly text: string) {}
}

/** What a field reader returns for a value the agent silently drops (unknown optional enum name). */
const DROP: unique symbol = Symbol('drop');
type Read = (value: unknown) => unknown;

function fail(message: string): never {
  throw new CodecError('MPE_DECODE', message);
}

const LONG_DIGIT_RUN = /\d{16}/;

function parseNumberLossless(text: string): unknown {
  const n = Number(text);
  return Number.isSafeInteger(n) || !/^-?\d+$/.test(text) ? n : new BigInteger(text);
}

/** Parses JSON text; a syntax error is MPE_DECODE with the agent's wording. */
export function parseJsonText(bytes: Uint8Array): unknown {
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
  try {
    if (!LONG_DIGIT_RUN.test(text)) return JSON.parse(text);
    return losslessParse(text, null, {
      parseNumber: parseNumberLossless,
      // JSON.parse (and the agent's parser) keep the last of duplicate keys; lossless-json would throw.
      onDuplicateKey: ({ newValue }) => newValue,
    });
  } catch (err) {
    throw new CodecError('MPE_DECODE', `Failed to parse body into JSON: ${(err as Error).message}`, { cause: err });
  }
}

function isObject(v: unknown): v is Plain {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof BigInteger);
}

function jsonKind(v: unknown): string {
  if (Array.isArray(v)) return 'array';
  if (v instanceof BigInteger || typeof v === 'number') return 'number';
  if (typeof v === 'boolean') return 'boolean';
  return typeof v === 'string' ? 'string' : 'object';
}

function notExpecting(v: unknown, field: FieldSpec): never {
  fail(`Not expecting a JSON ${jsonKind(v)} for field '${field.name}'`);
}

const readers = new Map<string, (v: Plain) => Plain>();

function messageReader(spec: MessageSpec, strict: boolean): (v: Plain) => Plain {
  const cacheKey = `${strict ? 's' : 'l'}:${spec.fullName}`;
  let read = readers.get(cacheKey);
  if (read !== undefined) return read;
  const fields = spec.fields.map((f) => ({ spec: f, read: valueReader(f, strict) }));
  read = (obj: Plain): Plain => {
    const out: Plain = {};
    for (const { spec: f, read: r } of fields) {
      // Fields are looked up by proto name only; other keys (camelCase, typos) are ignored.
      const x = Object.prototype.hasOwnProperty.call(obj, f.name) ? obj[f.name] : undefined;
      if (x === undefined || x === null) continue;
      if (f.map) {
        if (!isObject(x)) notExpecting(x, f);
        const map: Plain = {};
        for (const k of Object.keys(x)) {
          const item = x[k];
          if (item === null) continue;
          const value = r(item);
          if (value !== DROP) map[k] = value;
        }
        if (Object.keys(map).length > 0) out[f.name] = map;
      } else if (f.repeated) {
        const items: unknown[] = [];
        addRepeated(x, r, items);
        if (items.length > 0) out[f.name] = items;
      } else {
        if (Array.isArray(x)) fail(`Not expecting a JSON array for field '${f.name}'`);
        const value = r(x);
        if (value !== DROP) out[f.name] = value;
      }
    }
    return out;
  };
  readers.set(cacheKey, read);
  return read;
}

/** The agent adds a single value to a repeated field as one element, and flattens nested arrays. */
function addRepeated(x: unknown, read: Read, into: unknown[]): void {
  if (x === null) return;
  if (!Array.isArray(x)) {
    const value = read(x);
    if (value !== DROP) into.push(value);
    return;
  }
  for (const item of x) addRepeated(item, read, into);
}

const JSON_NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;

/** A JSON number, or a string holding one (the agent accepts both for numeric fields). */
function numericText(v: unknown, field: FieldSpec): number | BigInteger {
  if (typeof v === 'number' || v instanceof BigInteger) return v;
  if (typeof v === 'string') {
    if (!JSON_NUMBER.test(v)) fail(`Failed to parse '${v}' as a JSON number for field '${field.name}'`);
    return parseNumberLossless(v) as number | BigInteger;
  }
  notExpecting(v, field);
}

const INT64_MIN = -(2n ** 63n);
const UINT64_MAX = 2n ** 64n - 1n;

/** As C++ `JSON::Number::as<int64_t/uint64_t>()`: truncates fractions, wraps across signedness. */
function toInt64(v: number | BigInteger, unsigned: boolean, field: FieldSpec): number | string {
  let big: bigint;
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) fail(`Value out of range for field '${field.name}'`);
    const t = Math.trunc(v);
    if (Number.isSafeInteger(t) && (t >= 0 || !unsigned)) return t === 0 ? 0 : t;
    big = BigInt(t);
  } else {
    big = BigInt(v.text);
  }
  if (big < INT64_MIN || big > UINT64_MAX) fail(`Value out of range for field '${field.name}'`);
  const wrapped = unsigned ? BigInt.asUintN(64, big) : BigInt.asIntN(64, big);
  const n = Number(wrapped);
  return Number.isSafeInteger(n) ? n : wrapped.toString();
}

const BASE64_CHAR = /^[A-Za-z0-9+/]$/;

/**
 * stout's base64 decoder: whitespace is skipped, decoding stops at the first `=`, and any other
 * character outside the standard alphabet (so also URL-safe `-` and `_`) is an error. Node's own
 * decoder would silently accept all of those.
 */
function decodeBase64(s: string, field: FieldSpec): Buffer {
  let clean = '';
  for (const ch of s) {
    if (ch === '=') break;
    if (ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r' || ch === '\v' || ch === '\f') continue;
    if (!BASE64_CHAR.test(ch)) fail(`Failed to base64 decode bytes field '${field.name}': Invalid character '${ch}'`);
    clean += ch;
  }
  return Buffer.from(clean, 'base64');
}

function valueReader(field: FieldSpec, strict: boolean): Read {
  switch (field.kind) {
    case 'message': {
      const sub = field.message!;
      return (v) => {
        if (!isObject(v)) notExpecting(v, field);
        return messageReader(sub, strict)(v);
      };
    }
    case 'enum': {
      const names = field.enumSpec!.numberOf;
      return (v) => {
        if (typeof v !== 'string') notExpecting(v, field);
        if (names.has(v)) return v;
        // Unknown names: an error for a required field, silently unset otherwise (proto2).
        if (strict && field.required) fail(`Failed to find enum for '${v}'`);
        return DROP;
      };
    }
    case 'string':
      return (v) => (typeof v === 'string' ? v : notExpecting(v, field));
    case 'bytes':
      return (v) => (typeof v === 'string' ? decodeBase64(v, field) : notExpecting(v, field));
    case 'bool':
      return (v) => {
        if (typeof v === 'boolean') return v;
        if (v === 'true') return true;
        if (v === 'false') return false;
        if (typeof v === 'string') fail(`Failed to parse '${v}' as a JSON boolean for field '${field.name}'`);
        notExpecting(v, field);
      };
    case 'double':
    case 'float':
      return (v) => {
        if (v === 'Infinity') return Infinity;
        if (v === '-Infinity') return -Infinity;
        const n = numericText(v, field);
        return typeof n === 'number' ? n : Number(n.text);
      };
    case 'int64':
    case 'sint64':
    case 'sfixed64':
      return (v) => toInt64(numericText(v, field), false, field);
    case 'uint64':
    case 'fixed64':
      return (v) => toInt64(numericText(v, field), true, field);
    case 'uint32':
    case 'fixed32':
      return (v) => int32Of(numericText(v, field)) >>> 0;
    default:
      return (v) => int32Of(numericText(v, field)) | 0;
  }
}

function int32Of(n: number | BigInteger): number {
  return Math.trunc(typeof n === 'number' ? n : Number(BigInt.asIntN(64, BigInt(n.text))));
}

/**
 * Reads a message from parsed JSON. The top level must be an object. `strict` is the agent's
 * reading of a Call (an unknown name for a required enum is an error); the required-field check
 * itself is the caller's (see missingRequiredFields in src/proto/schema.ts).
 */
export function readMesosJson(spec: MessageSpec, json: unknown, strict: boolean): Plain {
  if (!isObject(json)) fail('Expecting a JSON object');
  return messageReader(spec, strict)(json);
}
