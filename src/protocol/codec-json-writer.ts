/**
 * Mesos JSON writer: the JSON the agent produces (stout's `jsonify(JSON::Protobuf(...))` over
 * rapidjson, PROTOCOL.md §5), byte for byte. JSON.stringify cannot do it: doubles keep a `.0`
 * when integral (`64.0`), int64 values beyond 2^53 are bare digits, fields come in declaration
 * order, and unset fields with a non-deprecated declared default are written with that default.
 */
import { CodecError } from '../errors.js';
import type { FieldSpec, MessageSpec } from '../proto/schema.js';
import { wellFormed } from './utf8.js';

type Plain = Record<string, unknown>;
type Write = (value: unknown) => string;

class FieldError extends Error {
  readonly path: string[] = [];
}

interface FieldWriter {
  readonly name: string;
  /** `"name":` */
  readonly key: string;
  readonly repeated: boolean;
  readonly map: boolean;
  readonly write: Write;
  /** The JSON of the declared default, written when the field is unset; undefined when none. */
  readonly fallback: string | undefined;
}

const writers = new Map<MessageSpec, (v: Plain) => string>();

function messageWriter(spec: MessageSpec): (v: Plain) => string {
  let write = writers.get(spec);
  if (write !== undefined) return write;
  const fields: FieldWriter[] = spec.fields.map((f) => {
    const w = valueWriter(f);
    const fallback =
      !f.repeated && !f.deprecated && f.declaredDefault !== undefined ? w(f.declaredDefault) : undefined;
    return { name: f.name, key: `${jsonString(f.name)}:`, repeated: f.repeated, map: f.map, write: w, fallback };
  });
  write = (v: Plain): string => {
    let out = '';
    let current = '';
    try {
      for (const f of fields) {
        const x = v[f.name];
        let json: string;
        if (x === undefined || x === null) {
          if (f.fallback === undefined) continue;
          json = f.fallback;
        } else {
          current = f.name;
          if (f.map) {
            if (!isPlainObject(x)) throw new FieldError('expected an object (map)');
            const keys = Object.keys(x).filter((k) => x[k] !== undefined && x[k] !== null);
            if (keys.length === 0) continue;
            json = `{${keys.map((k) => `${jsonString(k)}:${f.write(x[k])}`).join(',')}}`;
          } else if (f.repeated) {
            if (!Array.isArray(x)) throw new FieldError('expected an array');
            if (x.length === 0) continue;
            json = `[${x.map(f.write).join(',')}]`;
          } else {
            json = f.write(x);
          }
        }
        out += out === '' ? f.key + json : `,${f.key}${json}`;
      }
    } catch (err) {
      if (err instanceof FieldError) err.path.unshift(current);
      throw err;
    }
    return `{${out}}`;
  };
  writers.set(spec, write);
  return write;
}

function isPlainObject(v: unknown): v is Plain {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !ArrayBuffer.isView(v);
}

function valueWriter(field: FieldSpec): Write {
  switch (field.kind) {
    case 'message': {
      const sub = field.message!;
      return (v) => {
        if (!isPlainObject(v)) throw new FieldError('expected an object');
        return messageWriter(sub)(v);
      };
    }
    case 'enum': {
      const { nameOf, numberOf } = field.enumSpec!;
      return (v) => {
        if (typeof v === 'string' && numberOf.has(v)) return jsonString(v);
        const name = typeof v === 'number' ? nameOf.get(v) : undefined;
        // The agent's reader refuses enum numbers, so an unnamed value has no JSON form.
        if (name === undefined) throw new FieldError(`no enum name for ${String(v)}`);
        return jsonString(name);
      };
    }
    case 'string':
      return (v) => {
        if (typeof v !== 'string') throw new FieldError('expected a string');
        return jsonString(v);
      };
    case 'bytes':
      return (v) => {
        if (!(v instanceof Uint8Array)) throw new FieldError('expected a Uint8Array');
        return `"${Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64')}"`;
      };
    case 'bool':
      return (v) => {
        if (typeof v !== 'boolean') throw new FieldError('expected a boolean');
        return v ? 'true' : 'false';
      };
    case 'double':
    case 'float':
      return (v) => {
        if (typeof v !== 'number') throw new FieldError('expected a number');
        return formatDouble(v);
      };
    case 'int64':
    case 'sint64':
    case 'sfixed64':
    case 'uint64':
    case 'fixed64':
      return formatInt64;
    default:
      return (v) => {
        if (typeof v !== 'number' || !Number.isInteger(v)) throw new FieldError('expected an integer');
        return String(v);
      };
  }
}

/**
 * A double as rapidjson's Writer prints it: shortest round-trip digits (as JS), an integral
 * value keeps `.0`, exponents carry no `+` (`1e21`), and -0 is `-0.0`. rapidjson refuses to
 * write NaN or infinities; we write the strings `"Infinity"`/`"-Infinity"`, which the agent's
 * reader accepts, and reject NaN.
 */
export function formatDouble(v: number): string {
  if (!Number.isFinite(v)) {
    if (Number.isNaN(v)) throw new FieldError('NaN has no JSON form');
    return v > 0 ? '"Infinity"' : '"-Infinity"';
  }
  if (v === 0) return Object.is(v, -0) ? '-0.0' : '0.0';
  const s = String(v);
  if (s.includes('e')) return s.replace('e+', 'e');
  return s.includes('.') ? s : `${s}.0`;
}

/** int64 as a bare JSON number, also beyond 2^53 (then held as a decimal string). */
function formatInt64(v: unknown): string {
  if (typeof v === 'number') {
    if (!Number.isInteger(v)) throw new FieldError('expected a 64-bit integer');
    // An unsafe number has already lost precision; print its exact integer value, not 1e+21.
    return Number.isSafeInteger(v) ? String(v) : BigInt(v).toString();
  }
  if (typeof v === 'string' && /^-?\d+$/.test(v)) return BigInt(v).toString();
  throw new FieldError('expected a 64-bit integer');
}

const NEEDS_ESCAPE_FIXUP = /[\u0000-\u001f]/;

/**
 * A JSON string as rapidjson writes it. JSON.stringify agrees except that rapidjson spells the
 * control-character escapes with upper-case hex (`\u001F`), so that rare case is done by hand.
 * A lone surrogate is written as U+FFFD: JSON.stringify would write the escape `\ud83d`, which
 * the agent's parser (picojson) refuses with 400 (see utf8.ts). Every string of every message
 * (values, map keys, enum names) goes through here.
 */
export function jsonString(text: string): string {
  const s = wellFormed(text);
  if (!NEEDS_ESCAPE_FIXUP.test(s)) return JSON.stringify(s);
  let out = '"';
  for (const ch of s) {
    const c = ch.charCodeAt(0);
    if (c >= 0x20) {
      out += ch === '"' ? '\\"' : ch === '\\' ? '\\\\' : ch;
    } else if (c === 0x08) out += '\\b';
    else if (c === 0x09) out += '\\t';
    else if (c === 0x0a) out += '\\n';
    else if (c === 0x0c) out += '\\f';
    else if (c === 0x0d) out += '\\r';
    else out += `\\u00${c.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return `${out}"`;
}

/** The Mesos JSON text of a message; a value of the wrong type is CodecError MPE_ENCODE. */
export function writeMesosJson(spec: MessageSpec, value: Plain): string {
  try {
    return messageWriter(spec)(value);
  } catch (err) {
    if (err instanceof FieldError) {
      throw new CodecError('MPE_ENCODE', `Cannot write ${spec.fullName} as JSON: field '${err.path.join('.')}': ${err.message}`);
    }
    throw err;
  }
}
