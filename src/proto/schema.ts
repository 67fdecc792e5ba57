/**
 * The Mesos v1 executor schema, loaded once (synchronously, on first use) from the .proto files
 * beside this module, and flattened into field tables the codecs walk without further reflection.
 *
 * Upstream-required fields are declared `optional` in our .proto (protobufjs would refuse to decode
 * an event the agent wrote with SerializePartialToString); the trailing comment
 * `// required upstream` on such a field is what puts it in {@link upstreamRequiredFields}.
 */
import protobuf from 'protobufjs';
import { fileURLToPath } from 'node:url';

export const CALL_TYPE = 'mesos.v1.executor.Call';
export const EVENT_TYPE = 'mesos.v1.executor.Event';

const REQUIRED_MARKER = 'required upstream';

export type ScalarKind =
  | 'double'
  | 'float'
  | 'int32'
  | 'uint32'
  | 'sint32'
  | 'fixed32'
  | 'sfixed32'
  | 'int64'
  | 'uint64'
  | 'sint64'
  | 'fixed64'
  | 'sfixed64'
  | 'bool'
  | 'string'
  | 'bytes';

export type FieldKind = ScalarKind | 'enum' | 'message';

export interface EnumSpec {
  readonly fullName: string;
  readonly nameOf: ReadonlyMap<number, string>;
  readonly numberOf: ReadonlyMap<string, number>;
}

export interface FieldSpec {
  readonly name: string;
  readonly id: number;
  /** For a map field: the kind of its values. */
  readonly kind: FieldKind;
  readonly repeated: boolean;
  /** A `map<string, …>` field; its keys are strings in our shape. */
  readonly map: boolean;
  /** `required` in upstream's .proto (we declare it optional). */
  readonly required: boolean;
  readonly deprecated: boolean;
  /** The `[default = …]` declared upstream, in our value shape (enum as name); else undefined. */
  readonly declaredDefault: unknown;
  /** For kind 'message'. Filled in after every message spec exists (types can be recursive). */
  readonly message: MessageSpec | undefined;
  /** For kind 'enum'. */
  readonly enumSpec: EnumSpec | undefined;
  /**
   * The `value` of a Mesos id message (`TaskID`, `ExecutorID`, `FrameworkID`, ...). Kind
   * 'string' in our shape, but opaque bytes to the agent (a C++ std::string, never checked for
   * UTF-8), so it is declared `bytes` to protobufjs: the protobuf codec then sees the exact
   * bytes and keeps an id that is not UTF-8 exact (src/protocol/utf8.ts).
   */
  readonly opaqueId: boolean;
}

export interface MessageSpec {
  /** Without the leading dot, e.g. `mesos.v1.TaskInfo`. */
  readonly fullName: string;
  /** In declaration order, which is the order the agent writes JSON in. */
  readonly fields: readonly FieldSpec[];
  readonly byName: ReadonlyMap<string, FieldSpec>;
  readonly required: readonly FieldSpec[];
  readonly type: protobuf.Type;
}

interface Schema {
  readonly root: protobuf.Root;
  readonly messages: ReadonlyMap<string, MessageSpec>;
}

let loaded: Schema | undefined;

function schema(): Schema {
  loaded ??= load();
  return loaded;
}

function load(): Schema {
  const root = new protobuf.Root();
  const file = fileURLToPath(new URL('./executor.proto', import.meta.url));
  // alternateCommentMode makes protobufjs keep `//` comments, which carry the required marker.
  root.loadSync(file, { keepCase: true, alternateCommentMode: true });
  const opaqueIds = declareIdsAsBytes(root);
  root.resolveAll();

  const types: protobuf.Type[] = [];
  const enums = new Map<string, EnumSpec>();
  collect(root, types, enums);

  // Two passes, because messages refer to each other (ContainerID.parent refers to itself).
  type Mutable<T> = { -readonly [K in keyof T]: T[K] };
  const messages = new Map<string, Mutable<MessageSpec>>();
  for (const type of types) {
    messages.set(bare(type.fullName), {
      fullName: bare(type.fullName),
      fields: [],
      byName: new Map(),
      required: [],
      type,
    });
  }
  for (const type of types) {
    const spec = messages.get(bare(type.fullName))!;
    const fields = type.fieldsArray.map((field) => fieldSpec(field, messages, enums, opaqueIds.has(field)));
    spec.fields = fields;
    spec.byName = new Map(fields.map((f) => [f.name, f]));
    spec.required = fields.filter((f) => f.required);
  }
  return { root, messages };
}

/** Messages named `…ID` whose `value` is a string: Mesos ids. */
const ID_MESSAGE = /ID$/;

/** Redeclares every Mesos id's `value` as `bytes` for protobufjs (see FieldSpec.opaqueId); returns those fields. */
function declareIdsAsBytes(ns: protobuf.NamespaceBase, out = new Set<protobuf.Field>()): Set<protobuf.Field> {
  for (const nested of ns.nestedArray) {
    if (nested instanceof protobuf.Type && ID_MESSAGE.test(nested.name)) {
      const value = nested.fields['value'];
      if (value !== undefined && value.type === 'string') {
        value.type = 'bytes';
        out.add(value);
      }
    }
    if (nested instanceof protobuf.Namespace || nested instanceof protobuf.Type) declareIdsAsBytes(nested, out);
  }
  return out;
}

function collect(ns: protobuf.NamespaceBase, types: protobuf.Type[], enums: Map<string, EnumSpec>): void {
  for (const nested of ns.nestedArray) {
    if (nested instanceof protobuf.Type) types.push(nested);
    if (nested instanceof protobuf.Enum) {
      const nameOf = new Map<number, string>();
      const numberOf = new Map<string, number>();
      for (const [name, id] of Object.entries(nested.values)) {
        numberOf.set(name, id);
        if (!nameOf.has(id)) nameOf.set(id, name);
      }
      enums.set(bare(nested.fullName), { fullName: bare(nested.fullName), nameOf, numberOf });
    }
    if (nested instanceof protobuf.Namespace || nested instanceof protobuf.Type) collect(nested, types, enums);
  }
}

function fieldSpec(
  field: protobuf.Field,
  messages: ReadonlyMap<string, MessageSpec>,
  enums: ReadonlyMap<string, EnumSpec>,
  opaqueId: boolean,
): FieldSpec {
  const resolved = field.resolvedType;
  let kind: FieldKind;
  let message: MessageSpec | undefined;
  let enumSpec: EnumSpec | undefined;
  if (resolved instanceof protobuf.Type) {
    kind = 'message';
    message = messages.get(bare(resolved.fullName));
  } else if (resolved instanceof protobuf.Enum) {
    kind = 'enum';
    enumSpec = enums.get(bare(resolved.fullName));
  } else {
    kind = opaqueId ? 'string' : (field.type as ScalarKind);
  }
  const isMap = field instanceof protobuf.MapField;
  if (isMap && (field as protobuf.MapField).keyType !== 'string') {
    throw new Error(`schema: map ${field.fullName} must have string keys`);
  }
  const options = field.options ?? {};
  let declaredDefault: unknown;
  if (Object.hasOwn(options, 'default')) {
    const raw: unknown = options['default'];
    declaredDefault = kind === 'enum' && typeof raw === 'number' ? enumSpec?.nameOf.get(raw) : raw;
  }
  return {
    name: field.name,
    id: field.id,
    kind,
    repeated: field.repeated,
    map: isMap,
    required: field.comment?.trim() === REQUIRED_MARKER,
    deprecated: options['deprecated'] === true,
    declaredDefault,
    message,
    enumSpec,
    opaqueId,
  };
}

function bare(fullName: string): string {
  return fullName.startsWith('.') ? fullName.slice(1) : fullName;
}

/**
 * The spec of a message type, by full name (`mesos.v1.TaskInfo`) or by a name protobufjs can
 * resolve from the root (`TaskInfo` is ambiguous-free in this subset, `executor.Call` too).
 */
export function messageSpec(typeName: string): MessageSpec {
  const { root, messages } = schema();
  const direct = messages.get(typeName);
  if (direct !== undefined) return direct;
  let found: protobuf.Type | undefined;
  try {
    found = root.lookupType(typeName);
  } catch {
    found = undefined;
  }
  const spec = found === undefined ? undefined : messages.get(bare(found.fullName));
  if (spec === undefined) throw new Error(`schema: no message type '${typeName}'`);
  return spec;
}

/** The resolved protobufjs type (for code that needs protobufjs itself). */
export function protobufType(typeName: string): protobuf.Type {
  return messageSpec(typeName).type;
}

export const callSpec = (): MessageSpec => messageSpec(CALL_TYPE);
export const eventSpec = (): MessageSpec => messageSpec(EVENT_TYPE);

/** Every message type with upstream-required fields, mapped to those fields' names. */
export function upstreamRequiredFields(): ReadonlyMap<string, readonly string[]> {
  const out = new Map<string, readonly string[]>();
  for (const spec of schema().messages.values()) {
    if (spec.required.length > 0) out.set(spec.fullName, spec.required.map((f) => f.name));
  }
  return out;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !ArrayBuffer.isView(value);
}

/**
 * Paths of the upstream-required fields missing from `value` (recursively), in the style of
 * C++ `InitializationErrorString()`: `executor_id`, `update.status.task_id`,
 * `subscribe.unacknowledged_tasks[0].agent_id`. Empty when the message is initialized.
 * Presence is `!== undefined && !== null`, as in our value shape.
 */
export function missingRequiredFields(typeName: string, value: unknown): string[] {
  const out: string[] = [];
  walkRequired(messageSpec(typeName), value, '', out);
  return out;
}

function walkRequired(spec: MessageSpec, value: unknown, prefix: string, out: string[]): void {
  if (!isRecord(value)) return;
  for (const field of spec.fields) {
    const v = value[field.name];
    if (v === undefined || v === null) {
      if (field.required) out.push(prefix + field.name);
      continue;
    }
    const sub = field.message;
    if (sub === undefined) continue;
    if (field.map) {
      if (isRecord(v)) for (const [k, item] of Object.entries(v)) walkRequired(sub, item, `${prefix}${field.name}[${k}].`, out);
    } else if (field.repeated) {
      if (Array.isArray(v)) v.forEach((item, i) => walkRequired(sub, item, `${prefix}${field.name}[${i}].`, out));
    } else {
      walkRequired(sub, v, `${prefix}${field.name}.`, out);
    }
  }
}

/**
 * A copy of `value` in which every unset singular field with a `[default = …]` in upstream's
 * .proto holds that default, recursively through the sub-messages that are present. These are
 * the values a C++ reader sees (`has_x()` aside). Deprecated defaults (`role = "*"`) are filled in
 * too; the JSON writer is what leaves those out. Useful to compare a message decoded from
 * protobuf (defaults absent) with one decoded from the agent's JSON (non-deprecated defaults
 * written out).
 */
export function withDeclaredDefaults<T>(typeName: string, value: T): T {
  return fillDefaults(messageSpec(typeName), value) as T;
}

function fillDefaults(spec: MessageSpec, value: unknown): unknown {
  if (!isRecord(value)) return value;
  const out: Record<string, unknown> = { ...value };
  for (const field of spec.fields) {
    const v = value[field.name];
    if (v === undefined || v === null) {
      if (!field.repeated && field.declaredDefault !== undefined) out[field.name] = field.declaredDefault;
      continue;
    }
    const sub = field.message;
    if (sub === undefined) continue;
    if (field.map) {
      if (isRecord(v)) {
        out[field.name] = Object.fromEntries(Object.entries(v).map(([k, item]) => [k, fillDefaults(sub, item)]));
      }
    } else if (field.repeated) {
      if (Array.isArray(v)) out[field.name] = v.map((item) => fillDefaults(sub, item));
    } else {
      out[field.name] = fillDefaults(sub, v);
    }
  }
  return out;
}
