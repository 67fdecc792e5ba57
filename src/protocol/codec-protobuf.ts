/**
 * `application/x-protobuf`, in one pass each way: bytes are read straight into our plain value
 * shape (src/proto/types.ts), and a plain value is written straight to bytes, walking per-message
 * field tables compiled once from the flattened schema. No intermediate protobufjs message
 * objects: building them and converting them (toObject, fromObject) cost about half of the
 * time protobufjs' reflection codec takes, and twice that of ours before this one.
 *
 * What the bytes mean is what protobufjs' reflection codec makes of them (the property tests in
 * test/unit/protocol-codec-one-pass.test.ts compare the two on random messages), with these rules:
 * - Enums are proto2 "closed", as in C++: an enum number our schema does not know is not put in
 *   the field; it is kept with the unknown fields, so the field reads as unset (PROTOCOL.md §5).
 * - Unknown fields (also those of the messages our subset leaves out, e.g. TaskInfo.container),
 *   and known fields with a wire type other than their own, are kept beside the decoded value
 *   under {@link UNKNOWN_FIELDS} and written back after the known fields, so decode → encode
 *   gives the same bytes.
 * - Mesos ids (`TaskID.value`, ...) are opaque bytes to the agent: an id that is not UTF-8
 *   decodes to a string that keeps its bytes and encodes back to them (utf8.ts).
 * - Known fields are written in field-number order, as protobufjs and C++ write them; a
 *   singular field that occurs twice is the last one (a message: both merged).
 */
import { CodecError } from '../errors.js';
import { missingRequiredFields, type FieldSpec, type MessageSpec } from '../proto/schema.js';
import { decodeOpaqueUtf8, encodeOpaqueUtf8, truncateUtf8 } from './utf8.js';

/**
 * Property of a decoded message holding the raw bytes of the fields our schema does not declare
 * (one entry per field occurrence). Only this codec reads it; JSON drops it. An own enumerable
 * symbol property: copies made with spread or object rest keep it (what the driver re-sends in
 * `unacknowledged_tasks` must be what the agent sent).
 */
export const UNKNOWN_FIELDS: unique symbol = Symbol('mesos.unknownFields');

type Plain = Record<string, unknown>;

/**
 * Buffer's own slice/write methods (on every Buffer since Node 0.x, used by protobufjs too, not
 * in @types/node): `toString(encoding, …)` and `write(…, encoding)` add an encoding lookup and
 * argument checks to every string, a good part of the cost of a short one.
 */
interface RawBuffer extends Buffer {
  utf8Slice(start: number, end: number): string;
  latin1Slice(start: number, end: number): string;
  utf8Write(text: string, offset: number, length: number): number;
}

/** Nesting depth at most, both ways (protoc's default recursion limit, and protobufjs'). */
const RECURSION_LIMIT = 100;

// ---- field tables ----

const enum Op {
  Double,
  Float,
  Int32,
  Uint32,
  Sint32,
  Fixed32,
  Sfixed32,
  Int64,
  Uint64,
  Sint64,
  Fixed64,
  Sfixed64,
  Bool,
  String,
  Bytes,
  Enum,
  Message,
  OpaqueId,
}

const OPS: Readonly<Record<FieldSpec['kind'], Op>> = {
  double: Op.Double,
  float: Op.Float,
  int32: Op.Int32,
  uint32: Op.Uint32,
  sint32: Op.Sint32,
  fixed32: Op.Fixed32,
  sfixed32: Op.Sfixed32,
  int64: Op.Int64,
  uint64: Op.Uint64,
  sint64: Op.Sint64,
  fixed64: Op.Fixed64,
  sfixed64: Op.Sfixed64,
  bool: Op.Bool,
  string: Op.String,
  bytes: Op.Bytes,
  enum: Op.Enum,
  message: Op.Message,
};

/** The wire type of one value of each op. */
function wireTypeOf(op: Op): number {
  switch (op) {
    case Op.Double:
    case Op.Fixed64:
    case Op.Sfixed64:
      return 1;
    case Op.Float:
    case Op.Fixed32:
    case Op.Sfixed32:
      return 5;
    case Op.String:
    case Op.Bytes:
    case Op.Message:
    case Op.OpaqueId:
      return 2;
    default:
      return 0;
  }
}

interface FieldPlan {
  readonly name: string;
  readonly id: number;
  readonly op: Op;
  readonly wireType: number;
  readonly repeated: boolean;
  readonly map: boolean;
  /** Repeated scalars may come packed (wire type 2), whatever the declaration. */
  readonly packable: boolean;
  /** Written packed (declared `[packed = true]`). */
  readonly packed: boolean;
  readonly required: boolean;
  /** The tag a value of this field is written with (a map entry, a packed run: wire type 2). */
  readonly tag: number;
  readonly enumNames: ReadonlyMap<number, string> | undefined;
  readonly enumNumbers: ReadonlyMap<string, number> | undefined;
  /** For Op.Message (and a map of messages); resolved after every plan exists. */
  message: MessagePlan | undefined;
  /** Reads and writes the field on a decoded value (see {@link accessors}). */
  readonly get: (target: Plain) => unknown;
  readonly set: (target: Plain, value: unknown) => void;
}

interface MessagePlan {
  readonly fullName: string;
  /** In field-number order: the order they are written in. */
  readonly fields: readonly FieldPlan[];
  /** Indexed by field number. */
  readonly byNumber: ReadonlyArray<FieldPlan | undefined>;
  readonly hasRequired: boolean;
}

const plans = new Map<MessageSpec, MessagePlan>();

function planOf(spec: MessageSpec): MessagePlan {
  const known = plans.get(spec);
  if (known !== undefined) return known;
  const fields = spec.fields
    .map((f) => fieldPlan(spec, f))
    .sort((a, b) => a.id - b.id);
  const byNumber: Array<FieldPlan | undefined> = [];
  for (const f of fields) byNumber[f.id] = f;
  // Dense: a field number past the end reads as unknown.
  for (let i = 0; i < byNumber.length; i++) byNumber[i] ??= undefined;
  const plan: MessagePlan = { fullName: spec.fullName, fields, byNumber, hasRequired: fields.some((f) => f.required) };
  plans.set(spec, plan);
  // Sub-messages after this plan is cached: types may be recursive.
  spec.fields.forEach((f) => {
    if (f.message !== undefined) fields.find((p) => p.id === f.id)!.message = planOf(f.message);
  });
  return plan;
}

function fieldPlan(spec: MessageSpec, f: FieldSpec): FieldPlan {
  const op = f.opaqueId ? Op.OpaqueId : OPS[f.kind];
  const wireType = wireTypeOf(op);
  const packable = f.repeated && !f.map && wireType !== 2;
  const packed = packable && spec.type.fieldsById[f.id]?.packed === true;
  return {
    name: f.name,
    id: f.id,
    op,
    wireType,
    repeated: f.repeated && !f.map,
    map: f.map,
    packable,
    packed,
    required: f.required,
    tag: ((f.id << 3) | (f.map || packed ? 2 : wireType)) >>> 0,
    enumNames: f.enumSpec?.nameOf,
    enumNumbers: f.enumSpec?.numberOf,
    message: undefined,
    ...accessors(f.name),
  };
}

/**
 * A getter and a setter of their own for one property name. Decoding writes each field into a
 * fresh object: through `target[name]` with names varying across all the schema's fields, that
 * store is megamorphic and every new property a trip to V8's runtime; a function per field
 * compiles `t.name = v` with its own inline cache, which stays monomorphic.
 */
function accessors(name: string): { get: (target: Plain) => unknown; set: (target: Plain, value: unknown) => void } {
  const key = JSON.stringify(name);
  return {
    get: new Function('t', `return t[${key}];`) as (target: Plain) => unknown,
    set: new Function('t', 'v', `t[${key}] = v;`) as (target: Plain, value: unknown) => void,
  };
}

// ---- decode ----

/** The input being read (one decode at a time: decoding is synchronous and never re-entered). */
let input = Buffer.alloc(0) as RawBuffer;
let at = 0;
/** Set when a message decoded lacks an upstream-required field. */
let missingRequired = false;

class WireError extends Error {}

function outOfRange(): never {
  throw new WireError(`index out of range at offset ${at}`);
}

/** A varint's low 32 bits (unsigned), as protobufjs' uint32 reads it. */
function readVarint32(end: number): number {
  let b = at < end ? input[at++]! : outOfRange();
  let value = b & 0x7f;
  if (b < 0x80) return value;
  b = at < end ? input[at++]! : outOfRange();
  value |= (b & 0x7f) << 7;
  if (b < 0x80) return value;
  b = at < end ? input[at++]! : outOfRange();
  value |= (b & 0x7f) << 14;
  if (b < 0x80) return value;
  b = at < end ? input[at++]! : outOfRange();
  value |= (b & 0x7f) << 21;
  if (b < 0x80) return value;
  b = at < end ? input[at++]! : outOfRange();
  value = (value | ((b & 0x0f) << 28)) >>> 0;
  if (b < 0x80) return value;
  // Bytes 6..10 only carry bits above 32.
  for (let i = 0; i < 5; i++) {
    b = at < end ? input[at++]! : outOfRange();
    if (b < 0x80) return value;
  }
  throw new WireError('invalid varint encoding');
}

/** The first four bytes of a tag or a length (at most 28 bits); -1 when it goes on (`b` holds the 5th). */
let fifth = 0;
function readShortVarint(end: number): number {
  let value = 0;
  for (let shift = 0; shift < 28; shift += 7) {
    const b = at < end ? input[at++]! : outOfRange();
    value |= (b & 0x7f) << shift;
    if (b < 0x80) return value;
  }
  fifth = at < end ? input[at++]! : outOfRange();
  return value;
}

/** A field tag: a varint of at most 32 bits in at most 5 bytes (else invalid, as protobufjs has it). */
function readTag(end: number): number {
  const start = at;
  const value = readShortVarint(end);
  if (at - start < 5) return value;
  if (fifth >= 0x80 || (fifth & 0x70) !== 0) throw new WireError('invalid tag encoding');
  return (value | (fifth << 28)) >>> 0;
}

/** A length prefix: at most 5 bytes, below 2^31, whose bytes fit before `end`. */
function readLength(end: number): number {
  const start = at;
  let length = readShortVarint(end);
  if (at - start === 5) {
    if (fifth > 7) throw new WireError('invalid length encoding');
    length = (length | (fifth << 28)) >>> 0;
  }
  if (at + length > end) outOfRange();
  return length;
}

/** Where a length-delimited value starting at `at` ends (`at` moved past its length). */
function delimitedEnd(end: number): number {
  const length = readLength(end);
  return at + length;
}

/** A 64-bit varint as two unsigned 32-bit halves (in `lo`, `hi`). */
let lo = 0;
let hi = 0;
function readVarint64(end: number): void {
  let b = 0;
  let low = 0;
  let high = 0;
  let shift = 0;
  for (; shift < 28; shift += 7) {
    b = at < end ? input[at++]! : outOfRange();
    low |= (b & 0x7f) << shift;
    if (b < 0x80) {
      lo = low >>> 0;
      hi = 0;
      return;
    }
  }
  // 5th byte: 4 bits of lo, 3 of hi.
  b = at < end ? input[at++]! : outOfRange();
  low |= (b & 0x0f) << 28;
  high = (b & 0x7f) >> 4;
  if (b >= 0x80) {
    for (shift = 3; shift < 32; shift += 7) {
      b = at < end ? input[at++]! : outOfRange();
      high |= (b & 0x7f) << shift;
      if (b < 0x80) break;
    }
    if (b >= 0x80) throw new WireError('invalid varint encoding');
  }
  lo = low >>> 0;
  hi = high >>> 0;
}

function readFixed32(end: number): number {
  if (at + 4 > end) outOfRange();
  const v = input.readUInt32LE(at);
  at += 4;
  return v;
}

/** `lo`/`hi` as a number when exact, else decimal digits (our shape of a 64-bit integer). */
function int64Value(signed: boolean): number | string {
  const high = signed ? hi | 0 : hi;
  const n = high * 4294967296 + lo;
  if (Number.isSafeInteger(n)) return n;
  return ((BigInt(high) << 32n) + BigInt(lo)).toString();
}

/** A copy (not a view: a decoded value must not pin, or alias, the stream's buffer). */
function copyBytes(start: number, end: number): Buffer {
  const out = Buffer.allocUnsafe(end - start);
  input.copy(out, 0, start, end);
  return out;
}

function readString(end: number): string {
  const length = readLength(end);
  const start = at;
  at += length;
  return input.utf8Slice(start, at);
}

function readOpaqueId(end: number): string {
  const length = readLength(end);
  const start = at;
  at += length;
  // Ids are ASCII in practice: no validation pass and no view needed for those.
  for (let i = start; i < at; i++) {
    if (input[i]! >= 0x80) return decodeOpaqueUtf8(input.subarray(start, at));
  }
  return input.latin1Slice(start, at);
}

/** One scalar value of `f` (wire type already checked), in our shape. */
function readScalar(f: FieldPlan, end: number): unknown {
  switch (f.op) {
    case Op.String:
      return readString(end);
    case Op.OpaqueId:
      return readOpaqueId(end);
    case Op.Bytes: {
      const length = readLength(end);
      const start = at;
      at += length;
      return copyBytes(start, at);
    }
    case Op.Bool:
      return readVarint32(end) !== 0;
    case Op.Int32:
      return readVarint32(end) | 0;
    case Op.Uint32:
      return readVarint32(end);
    case Op.Sint32: {
      const v = readVarint32(end);
      return ((v >>> 1) ^ -(v & 1)) | 0;
    }
    case Op.Double: {
      if (at + 8 > end) outOfRange();
      const v = input.readDoubleLE(at);
      at += 8;
      return v;
    }
    case Op.Float: {
      if (at + 4 > end) outOfRange();
      const v = input.readFloatLE(at);
      at += 4;
      return v;
    }
    case Op.Fixed32:
      return readFixed32(end);
    case Op.Sfixed32:
      return readFixed32(end) | 0;
    case Op.Int64:
      readVarint64(end);
      return int64Value(true);
    case Op.Uint64:
      readVarint64(end);
      return int64Value(false);
    case Op.Sint64: {
      readVarint64(end);
      const mask = -(lo & 1);
      const l = (((lo >>> 1) | (hi << 31)) ^ mask) >>> 0;
      hi = ((hi >>> 1) ^ mask) >>> 0;
      lo = l;
      return int64Value(true);
    }
    case Op.Fixed64:
    case Op.Sfixed64:
      lo = readFixed32(end);
      hi = readFixed32(end);
      return int64Value(f.op === Op.Sfixed64);
    default:
      throw new WireError(`not a scalar: ${f.name}`);
  }
}

/** Skips one value of wire type `wireType` (a group up to its end tag). */
function skip(wireType: number, fieldNumber: number, end: number, depth: number): void {
  if (depth > RECURSION_LIMIT) throw new WireError('max depth exceeded');
  switch (wireType) {
    case 0:
      for (;;) {
        const b = at < end ? input[at++]! : outOfRange();
        if (b < 0x80) return;
      }
    case 1:
      if (at + 8 > end) outOfRange();
      at += 8;
      return;
    case 2:
      at = delimitedEnd(end);
      return;
    case 3:
      for (;;) {
        const tag = readTag(end);
        const nested = tag >>> 3;
        if (nested === 0) throw new WireError('illegal tag: field number 0');
        if ((tag & 7) === 4) {
          if (nested !== fieldNumber) throw new WireError('invalid end group tag');
          return;
        }
        skip(tag & 7, nested, end, depth + 1);
      }
    case 5:
      if (at + 4 > end) outOfRange();
      at += 4;
      return;
    default:
      throw new WireError(`invalid wire type ${wireType} at offset ${at}`);
  }
}

function addUnknown(target: Plain, bytes: Buffer): void {
  const holder = target as { [UNKNOWN_FIELDS]?: Buffer[] };
  const list = holder[UNKNOWN_FIELDS];
  // Enumerable, so that a spread or an object rest (`{ data, ...task }`) keeps it; a symbol key,
  // so that JSON, Object.keys and structured clone never see it.
  if (list === undefined) holder[UNKNOWN_FIELDS] = [bytes];
  else list.push(bytes);
}

/** The varint bytes of a closed enum's unknown number, as a field of its own (tag, value). */
function unknownEnumField(id: number, start: number, end: number): Buffer {
  const head = varintBytes((id << 3) >>> 0);
  const out = Buffer.allocUnsafe(head.length + end - start);
  out.set(head, 0);
  input.copy(out, head.length, start, end);
  return out;
}

function varintBytes(value: number): number[] {
  const out: number[] = [];
  while (value > 0x7f) {
    out.push((value & 0x7f) | 0x80);
    value >>>= 7;
  }
  out.push(value);
  return out;
}

/** Reads fields up to `end` into `target` (merging, as a repeated occurrence of a message does). */
function readMessage(plan: MessagePlan, target: Plain, end: number, depth: number): Plain {
  if (depth > RECURSION_LIMIT) throw new WireError('max depth exceeded');
  const byNumber = plan.byNumber;
  while (at < end) {
    const start = at;
    const tag = readTag(end);
    const id = tag >>> 3;
    const wireType = tag & 7;
    if (id === 0) throw new WireError('illegal tag: field number 0');
    const f = id < byNumber.length ? byNumber[id] : undefined;
    if (f !== undefined && readField(f, target, wireType, start, end, depth)) continue;
    skip(wireType, id, end, depth);
    addUnknown(target, copyBytes(start, at));
  }
  if (at !== end) outOfRange();
  if (plan.hasRequired && !missingRequired) {
    for (const f of plan.fields) if (f.required && f.get(target) === undefined) missingRequired = true;
  }
  return target;
}

/** Reads one occurrence of a known field; false when its wire type is not the field's (then unknown). */
function readField(f: FieldPlan, target: Plain, wireType: number, start: number, end: number, depth: number): boolean {
  if (f.map) {
    if (wireType !== 2) return false;
    readMapEntry(f, target, start, end, depth);
    return true;
  }
  if (f.repeated) {
    if (wireType === 2 && f.packable) {
      const stop = delimitedEnd(end);
      while (at < stop) {
        const from = at;
        const v = readScalar(f, stop);
        if (f.op === Op.Enum) {
          const name = f.enumNames!.get(v as number);
          if (name === undefined) {
            addUnknown(target, unknownEnumField(f.id, from, at));
            continue;
          }
          pushTo(target, f, name);
        } else {
          pushTo(target, f, v);
        }
      }
      return true;
    }
    if (wireType !== f.wireType) return false;
    if (f.op === Op.Message) {
      const stop = delimitedEnd(end);
      pushTo(target, f, readMessage(f.message!, {}, stop, depth + 1));
    } else if (f.op === Op.Enum) {
      const name = f.enumNames!.get(readVarint32(end) | 0);
      if (name === undefined) {
        addUnknown(target, copyBytes(start, at));
      } else {
        pushTo(target, f, name);
      }
    } else {
      pushTo(target, f, readScalar(f, end));
    }
    return true;
  }
  if (wireType !== f.wireType) return false;
  if (f.op === Op.Message) {
    const stop = delimitedEnd(end);
    const existing = f.get(target);
    f.set(target, readMessage(f.message!, existing === undefined ? {} : (existing as Plain), stop, depth + 1));
  } else if (f.op === Op.Enum) {
    const name = f.enumNames!.get(readVarint32(end) | 0);
    if (name === undefined) addUnknown(target, copyBytes(start, at));
    else f.set(target, name);
  } else {
    f.set(target, readScalar(f, end));
  }
  return true;
}

function pushTo(target: Plain, f: FieldPlan, value: unknown): void {
  const list = f.get(target) as unknown[] | undefined;
  if (list === undefined) f.set(target, [value]);
  else list.push(value);
}

/** One `map<string, V>` entry: key 1, value 2; anything else in it is skipped. */
function readMapEntry(f: FieldPlan, target: Plain, start: number, end: number, depth: number): void {
  const stop = delimitedEnd(end);
  let key = '';
  let value: unknown;
  let set = false;
  while (at < stop) {
    const tag = readTag(stop);
    const id = tag >>> 3;
    const wireType = tag & 7;
    if (id === 1 && wireType === 2) {
      key = readString(stop);
      continue;
    }
    if (id === 2 && wireType === f.wireType) {
      if (f.op === Op.Message) {
        const valueEnd = delimitedEnd(stop);
        value = readMessage(f.message!, set ? (value as Plain) : {}, valueEnd, depth + 1);
      } else if (f.op === Op.Enum) {
        value = readVarint32(stop) | 0;
      } else {
        value = readScalar(f, stop);
      }
      set = true;
      continue;
    }
    if (id === 0) throw new WireError('illegal tag: field number 0');
    skip(wireType, id, stop, depth);
  }
  if (!set) value = mapDefault(f);
  if (f.op === Op.Enum) {
    const name = f.enumNames!.get(value as number);
    // Closed enum: the whole entry is kept as an unknown field.
    if (name === undefined) return addUnknown(target, copyBytes(start, at));
    value = name;
  }
  let map = f.get(target) as Plain | undefined;
  if (map === undefined) f.set(target, (map = {}));
  if (key === '__proto__') Object.defineProperty(map, key, { value, enumerable: true, writable: true, configurable: true });
  else map[key] = value;
}

/** A map entry without a value has the value type's default. */
function mapDefault(f: FieldPlan): unknown {
  switch (f.op) {
    case Op.Message:
      return {};
    case Op.String:
    case Op.OpaqueId:
      return '';
    case Op.Bytes:
      return Buffer.alloc(0);
    case Op.Bool:
      return false;
    default:
      return 0;
  }
}

/**
 * Decodes one message; any malformed input is a CodecError MPE_DECODE. With `checkRequired`,
 * a message (at any depth) lacking an upstream-required field is one too, naming every such field.
 */
export function decodeMessage(spec: MessageSpec, bytes: Uint8Array, checkRequired = false): Plain {
  input = (Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)) as RawBuffer;
  at = 0;
  missingRequired = false;
  let value: Plain;
  try {
    value = readMessage(planOf(spec), {}, input.length, 0);
  } catch (err) {
    throw new CodecError('MPE_DECODE', `Failed to decode ${spec.fullName} from protobuf: ${(err as Error).message}`, { cause: err });
  } finally {
    // Do not keep the caller's buffer alive.
    input = EMPTY;
  }
  if (checkRequired && missingRequired) requireAll(spec, value, 'MPE_DECODE');
  return value;
}

const EMPTY = Buffer.alloc(0) as RawBuffer;

function requireAll(spec: MessageSpec, value: Plain, code: 'MPE_ENCODE' | 'MPE_DECODE'): void {
  const missing = missingRequiredFields(spec.fullName, value);
  if (missing.length > 0) throw new CodecError(code, `Missing required fields: ${missing.join(', ')}`);
}

// ---- encode ----

/** A failure inside a message, carrying the field path out to the top-level message. */
class FieldError extends Error {
  readonly path: string[] = [];
}

/** The output being written (one encode at a time, like decoding), grown by doubling. */
let out = Buffer.allocUnsafeSlow(16 * 1024) as RawBuffer;
let pos = 0;

function reserve(n: number): void {
  if (pos + n <= out.length) return;
  const grown = Buffer.allocUnsafeSlow(Math.max(out.length * 2, pos + n)) as RawBuffer;
  out.copy(grown, 0, 0, pos);
  out = grown;
}

function writeVarint32(value: number): void {
  reserve(5);
  while (value > 0x7f) {
    out[pos++] = (value & 0x7f) | 0x80;
    value >>>= 7;
  }
  out[pos++] = value;
}

function writeVarint64(low: number, high: number): void {
  reserve(10);
  while (high !== 0) {
    out[pos++] = (low & 0x7f) | 0x80;
    low = ((low >>> 7) | (high << 25)) >>> 0;
    high >>>= 7;
  }
  while (low > 0x7f) {
    out[pos++] = (low & 0x7f) | 0x80;
    low >>>= 7;
  }
  out[pos++] = low;
}

/** int32 and enum values: a negative one is sign-extended to 10 bytes. */
function writeInt32(value: number): void {
  value |= 0;
  if (value < 0) writeVarint64(value >>> 0, 0xffffffff);
  else writeVarint32(value);
}

function writeFixed32(value: number): void {
  reserve(4);
  out.writeUInt32LE(value >>> 0, pos);
  pos += 4;
}

/** Starts a length-delimited value: one byte reserved for its length (enough below 128). */
function beginDelimited(): number {
  reserve(1);
  return pos++;
}

/** Ends it: writes the length, moving the value when the length needs more than one byte. */
function endDelimited(lengthAt: number): void {
  const length = pos - lengthAt - 1;
  if (length < 0x80) {
    out[lengthAt] = length;
    return;
  }
  let size = 1;
  for (let v = length; v > 0x7f; v >>>= 7) size++;
  reserve(size - 1);
  out.copyWithin(lengthAt + size, lengthAt + 1, pos);
  pos += size - 1;
  let v = length;
  let i = lengthAt;
  while (v > 0x7f) {
    out[i++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  out[i] = v;
}

/** Writes `text` as UTF-8, every lone surrogate as U+FFFD (utf8.ts, rule 1). */
function writeUtf8(text: string): void {
  const n = text.length;
  reserve(n);
  // ASCII by hand (no call into C++ for the short strings most are); the rest by Buffer.
  let i = 0;
  for (; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x80) break;
    out[pos++] = c;
  }
  if (i === n) return;
  const rest = (i === 0 ? text : text.slice(i)).toWellFormed();
  reserve(rest.length * 3);
  pos += out.utf8Write(rest, pos, out.length - pos);
}

function writeBytes(bytes: Uint8Array): void {
  writeVarint32(bytes.byteLength);
  reserve(bytes.byteLength);
  out.set(bytes, pos);
  pos += bytes.byteLength;
}

function isPlainObject(v: unknown): v is Plain {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !ArrayBuffer.isView(v);
}

function describe(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(truncateUtf8(v, 40));
  if (typeof v === 'object') return v === null ? 'null' : Array.isArray(v) ? 'an array' : 'an object';
  return String(v);
}

function expected(v: unknown, what: string): never {
  throw new FieldError(`expected ${what}, got ${describe(v)}`);
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;

/** A 64-bit value of our shape (number, or decimal digits) into `lo`/`hi`, two's complement. */
function int64Bits(v: unknown, unsigned: boolean): void {
  if (typeof v === 'number') {
    if (!Number.isInteger(v) || (unsigned && v < 0)) expected(v, 'a 64-bit integer');
    // Modulo 2^64, as protobufjs' LongBits.fromNumber.
    const negative = v < 0;
    const m = negative ? -v : v;
    let l = m >>> 0;
    let h = ((m - l) / 4294967296) >>> 0;
    if (negative) {
      h = ~h >>> 0;
      l = ~l >>> 0;
      if (++l > 0xffffffff) {
        l = 0;
        if (++h > 0xffffffff) h = 0;
      }
    }
    lo = l;
    hi = h;
    return;
  }
  if (typeof v !== 'string' || !/^-?\d+$/.test(v)) expected(v, 'a 64-bit integer');
  const big = BigInt(v);
  if (unsigned ? big < 0n || big > UINT64_MAX : big < INT64_MIN || big > INT64_MAX) {
    throw new FieldError(`${v} is out of range`);
  }
  const bits = BigInt.asUintN(64, big);
  lo = Number(bits & 0xffffffffn);
  hi = Number(bits >> 32n);
}

/** Set when a message encoded lacks an upstream-required field. */
let encodeMissingRequired = false;

/** Writes one value of `f` (no tag), checking its type. */
function writeValue(f: FieldPlan, v: unknown, depth: number): void {
  switch (f.op) {
    case Op.String: {
      if (typeof v !== 'string') expected(v, 'a string');
      const lengthAt = beginDelimited();
      writeUtf8(v);
      endDelimited(lengthAt);
      return;
    }
    case Op.OpaqueId: {
      if (typeof v !== 'string') expected(v, 'a string');
      // The id's own bytes, also when they are not UTF-8 (utf8.ts, rule 3).
      if (v.isWellFormed()) {
        const lengthAt = beginDelimited();
        writeUtf8(v);
        endDelimited(lengthAt);
      } else {
        writeBytes(encodeOpaqueUtf8(v));
      }
      return;
    }
    case Op.Bytes:
      if (!(v instanceof Uint8Array)) expected(v, 'a Uint8Array');
      writeBytes(v);
      return;
    case Op.Message: {
      if (!isPlainObject(v)) throw new FieldError('expected an object');
      const lengthAt = beginDelimited();
      writeMessage(f.message!, v, depth + 1);
      endDelimited(lengthAt);
      return;
    }
    case Op.Enum: {
      if (typeof v === 'string') {
        const n = f.enumNumbers!.get(v);
        if (n === undefined) throw new FieldError(`unknown enum name '${v}'`);
        writeInt32(n);
      } else if (typeof v === 'number' && Number.isInteger(v)) {
        writeInt32(v);
      } else {
        throw new FieldError('expected an enum name');
      }
      return;
    }
    case Op.Bool:
      if (typeof v !== 'boolean') expected(v, 'a boolean');
      reserve(1);
      out[pos++] = v ? 1 : 0;
      return;
    case Op.Double:
      if (typeof v !== 'number') expected(v, 'a number');
      reserve(8);
      out.writeDoubleLE(v, pos);
      pos += 8;
      return;
    case Op.Float:
      if (typeof v !== 'number') expected(v, 'a number');
      reserve(4);
      out.writeFloatLE(v, pos);
      pos += 4;
      return;
    case Op.Int32:
    case Op.Sint32:
    case Op.Sfixed32:
      if (typeof v !== 'number' || !Number.isInteger(v) || v < -2147483648 || v > 2147483647) expected(v, 'an int32');
      if (f.op === Op.Int32) writeInt32(v);
      else if (f.op === Op.Sint32) writeVarint32(((v << 1) ^ (v >> 31)) >>> 0);
      else writeFixed32(v);
      return;
    case Op.Uint32:
    case Op.Fixed32:
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 4294967295) expected(v, 'a uint32');
      if (f.op === Op.Uint32) writeVarint32(v);
      else writeFixed32(v);
      return;
    case Op.Int64:
    case Op.Uint64:
      int64Bits(v, f.op === Op.Uint64);
      writeVarint64(lo, hi);
      return;
    case Op.Sint64: {
      int64Bits(v, false);
      const mask = hi >> 31;
      const h = (((hi << 1) | (lo >>> 31)) ^ mask) >>> 0;
      writeVarint64(((lo << 1) ^ mask) >>> 0, h);
      return;
    }
    case Op.Fixed64:
    case Op.Sfixed64:
      int64Bits(v, f.op === Op.Fixed64);
      writeFixed32(lo);
      writeFixed32(hi);
      return;
  }
}

function writeMessage(plan: MessagePlan, value: Plain, depth: number): void {
  if (depth > RECURSION_LIMIT) throw new Error('max depth exceeded');
  const fields = plan.fields;
  let f: FieldPlan | undefined;
  try {
    for (let i = 0; i < fields.length; i++) {
      f = fields[i]!;
      const v = f.get(value);
      if (v === undefined || v === null) {
        if (f.required) encodeMissingRequired = true;
        continue;
      }
      if (f.map) writeMap(f, v, depth);
      else if (f.repeated) writeRepeated(f, v, depth);
      else {
        writeVarint32(f.tag);
        writeValue(f, v, depth);
      }
    }
  } catch (err) {
    if (err instanceof FieldError && f !== undefined) err.path.unshift(f.name);
    throw err;
  }
  const unknowns = (value as { [UNKNOWN_FIELDS]?: unknown })[UNKNOWN_FIELDS];
  if (unknowns !== undefined && unknowns !== null) writeUnknowns(unknowns);
}

function writeRepeated(f: FieldPlan, v: unknown, depth: number): void {
  if (!Array.isArray(v)) throw new FieldError('expected an array');
  if (v.length === 0) return;
  if (f.packed) {
    writeVarint32(f.tag);
    const lengthAt = beginDelimited();
    for (const item of v) writeValue(f, item, depth);
    endDelimited(lengthAt);
    return;
  }
  for (const item of v) {
    writeVarint32(f.tag);
    writeValue(f, item, depth);
  }
}

function writeMap(f: FieldPlan, v: unknown, depth: number): void {
  if (!isPlainObject(v)) throw new FieldError('expected an object (map)');
  const valueTag = (16 | f.wireType) >>> 0;
  for (const key of Object.keys(v)) {
    const item = v[key];
    if (item === undefined || item === null) continue;
    writeVarint32(f.tag);
    const entryAt = beginDelimited();
    // Keys are strings on the wire too: well-formed, like every string we send.
    reserve(1);
    out[pos++] = 10;
    const keyAt = beginDelimited();
    writeUtf8(key);
    endDelimited(keyAt);
    writeVarint32(valueTag);
    writeValue(f, item, depth);
    endDelimited(entryAt);
  }
}

function writeUnknowns(unknowns: unknown): void {
  if (!Array.isArray(unknowns)) throw new Error('its unknown fields are not an array');
  for (const u of unknowns) {
    if (!(u instanceof Uint8Array)) throw new Error('an unknown field is not a Uint8Array');
    reserve(u.byteLength);
    out.set(u, pos);
    pos += u.byteLength;
  }
}

/**
 * Encodes one message; a value of the wrong type is a CodecError MPE_ENCODE naming the field.
 * With `checkRequired`, so is a message (at any depth) lacking an upstream-required field, named
 * in the error with every other such field; that error comes first, as it would from a check
 * made before encoding.
 */
export function encodeMessage(spec: MessageSpec, value: Plain, checkRequired = false): Uint8Array {
  // A buffer grown for one large message is not kept for the rest of the process.
  if (out.length > 1024 * 1024) out = Buffer.allocUnsafeSlow(16 * 1024) as RawBuffer;
  pos = 0;
  encodeMissingRequired = false;
  try {
    writeMessage(planOf(spec), value, 0);
  } catch (err) {
    if (checkRequired) requireAll(spec, value, 'MPE_ENCODE');
    if (err instanceof FieldError) {
      throw new CodecError('MPE_ENCODE', `Cannot encode ${spec.fullName}: field '${err.path.join('.')}': ${err.message}`);
    }
    throw new CodecError('MPE_ENCODE', `Cannot encode ${spec.fullName}: ${(err as Error).message}`, { cause: err });
  }
  if (checkRequired && encodeMissingRequired) requireAll(spec, value, 'MPE_ENCODE');
  const bytes = Buffer.allocUnsafe(pos);
  out.copy(bytes, 0, 0, pos);
  return bytes;
}
