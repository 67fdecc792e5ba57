// src/proto/types.ts is written by hand beside the .proto subset the codec loads: this test keeps
// the two from drifting. From the roots (`Call`, `Event`) it walks both at once, the .proto as
// protobufjs parses it and types.ts as the TypeScript compiler reads it: every declared field has
// a property of the same name and kind (message, enum, scalar, repeated, map), required exactly
// when upstream requires it, every enum's names are the literal union of its property, and every
// property of a reached type is a declared field. Declared types no field reaches are listed.
import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import protobuf from 'protobufjs';
import ts from 'typescript';
import { repoRoot } from '../helpers/repo-root.js';

const protoDir = join(repoRoot, 'src', 'proto');
const root = new protobuf.Root();
// alternateCommentMode keeps the `// required upstream` comments (see src/proto/schema.ts).
root.loadSync(join(protoDir, 'executor.proto'), { keepCase: true, alternateCommentMode: true });
root.resolveAll();

const program = ts.createProgram([join(protoDir, 'types.ts')], { strict: true, target: ts.ScriptTarget.ES2022, noEmit: true, types: [] });
const checker = program.getTypeChecker();
const source = program.getSourceFile(join(protoDir, 'types.ts'))!;

function exported(name: string): ts.Type {
  const symbol = checker.getExportsOfModule(checker.getSymbolAtLocation(source)!).find((s) => s.name === name);
  assert.ok(symbol !== undefined, `types.ts declares ${name}`);
  return checker.getDeclaredTypeOfSymbol(symbol);
}

const INT64 = new Set(['int64', 'uint64', 'sint64', 'fixed64', 'sfixed64']);
const NUMBER = new Set(['double', 'float', 'int32', 'uint32', 'sint32', 'fixed32', 'sfixed32']);

/** `T | undefined` → `T`. */
const defined = (type: ts.Type): ts.Type => checker.getNonNullableType(type);
const show = (type: ts.Type): string => checker.typeToString(type);
const parts = (type: ts.Type): readonly ts.Type[] => (type.isUnion() ? type.types : [type]);

/** What the walk found wrong, one line each; and every declared type it reached. */
const problems: string[] = [];
const reached = new Set<string>();

function checkScalar(protoType: string, type: ts.Type, where: string): void {
  // Named by symbol (Uint8Array<ArrayBufferLike> is Uint8Array); booleans are the union of two literals.
  const names = parts(type).map((t) => t.getSymbol()?.name ?? show(t)).sort().join(' | ');
  const expected =
    protoType === 'string' ? 'string' : protoType === 'bool' ? 'false | true' : protoType === 'bytes' ? 'Uint8Array' : INT64.has(protoType) ? 'number | string' : NUMBER.has(protoType) ? 'number' : undefined;
  if (expected === undefined) problems.push(`${where}: proto type ${protoType} has no TypeScript rule`);
  else if (names !== expected) problems.push(`${where}: ${protoType} should be ${expected}, is ${names}`);
}

function checkEnum(enumType: protobuf.Enum, type: ts.Type, where: string): void {
  reached.add(enumType.fullName);
  const literals = parts(type).filter((t) => t.isStringLiteral()).map((t) => (t as ts.StringLiteralType).value);
  const others = parts(type).filter((t) => !t.isStringLiteral()).map(show);
  const declared = Object.keys(enumType.values);
  for (const name of declared) if (!literals.includes(name)) problems.push(`${where}: enum value ${enumType.fullName}.${name} is missing from ${show(type)}`);
  for (const name of literals) if (!declared.includes(name)) problems.push(`${where}: '${name}' is not a value of ${enumType.fullName}`);
  // A number is accepted on encode, so `| number` may stand beside the names; nothing else may.
  for (const other of others) if (other !== 'number') problems.push(`${where}: enum property also admits ${other}`);
}

function checkValue(field: protobuf.Field, type: ts.Type, where: string): void {
  const resolved = field.resolvedType;
  if (resolved instanceof protobuf.Type) checkMessage(resolved, type, where);
  else if (resolved instanceof protobuf.Enum) checkEnum(resolved, type, where);
  else checkScalar(field.type, type, where);
}

const visited = new Map<string, Set<ts.Type>>();

function checkMessage(message: protobuf.Type, type: ts.Type, where: string): void {
  reached.add(message.fullName);
  // The same message may be written as several TypeScript types (a named interface, an inline
  // literal); each pair is checked once.
  const seen = visited.get(message.fullName) ?? new Set<ts.Type>();
  if (seen.has(type)) return;
  seen.add(type);
  visited.set(message.fullName, seen);
  if (!(type.flags & ts.TypeFlags.Object)) {
    problems.push(`${where}: ${message.fullName} should be an object type, is ${show(type)}`);
    return;
  }
  const properties = new Map(checker.getPropertiesOfType(type).map((p) => [p.name, p]));
  for (const field of message.fieldsArray) {
    const at = `${where}.${field.name}`;
    const property = properties.get(field.name);
    if (property === undefined) {
      problems.push(`${at}: declared in ${message.fullName} (field ${field.id}), missing from ${show(type)}`);
      continue;
    }
    const optional = (property.flags & ts.SymbolFlags.Optional) !== 0;
    const requiredUpstream = /required upstream/.test(field.comment ?? '');
    if (optional === requiredUpstream) problems.push(`${at}: ${requiredUpstream ? 'required upstream but optional' : 'optional upstream but required'} in TypeScript`);
    const propertyType = defined(checker.getTypeOfSymbol(property));
    if (field instanceof protobuf.MapField) {
      const index = checker.getIndexInfoOfType(propertyType, ts.IndexKind.String);
      if (field.keyType !== 'string' || index === undefined) problems.push(`${at}: map<${field.keyType}, ${field.type}> should be a Record<string, …>, is ${show(propertyType)}`);
      else checkValue(field, index.type, `${at}[key]`);
    } else if (field.repeated) {
      if (!checker.isArrayType(propertyType)) problems.push(`${at}: repeated, but ${show(propertyType)} is not an array`);
      else checkValue(field, checker.getTypeArguments(propertyType as ts.TypeReference)[0]!, `${at}[]`);
    } else {
      checkValue(field, propertyType, at);
    }
  }
  for (const name of properties.keys()) {
    if (message.fields[name] === undefined) problems.push(`${where}.${name}: not a field of ${message.fullName}`);
  }
}

checkMessage(root.lookupType('mesos.v1.executor.Call'), exported('Call'), 'Call');
checkMessage(root.lookupType('mesos.v1.executor.Event'), exported('Event'), 'Event');

/** Every message and enum the .proto files declare. */
function declared(namespace: protobuf.NamespaceBase, out: string[] = []): string[] {
  for (const nested of namespace.nestedArray) {
    if (nested instanceof protobuf.Type || nested instanceof protobuf.Enum) out.push(nested.fullName);
    if (nested instanceof protobuf.Namespace || nested instanceof protobuf.Type) declared(nested, out);
  }
  return out;
}

describe('src/proto/types.ts against the .proto subset', () => {
  it('walks a sizeable part of the protos', () => {
    assert.ok(reached.size > 50, `only ${reached.size} types reached`);
  });

  it('has every declared field and enum value, and nothing else, with the declared kind and presence', () => {
    assert.deepEqual(problems, []);
  });

  it('declares no message or enum that no field reaches, except those kept for their nested types', () => {
    const unreached = declared(root)
      .filter((name) => !reached.has(name))
      .map((name) => name.replace(/^\./, ''))
      .sort();
    assert.deepEqual(unreached, [
      // Declared as upstream declares it; no AgentInfo field carries it, upstream's either.
      'mesos.v1.AgentInfo.Capability',
      'mesos.v1.AgentInfo.Capability.Type',
      // Only its nested Protocol enum is used (by the HTTP and TCP health checks).
      'mesos.v1.NetworkInfo',
      // Only its nested types are used (Resource and Attribute fields).
      'mesos.v1.Value',
    ]);
  });

  it('the walk catches a drift', () => {
    // Labels read as if it were Label: fields missing both ways.
    const before = problems.length;
    checkMessage(root.lookupType('mesos.v1.Label'), exported('Labels'), 'Labels-as-Label');
    assert.ok(problems.length > before, 'Labels checked as Label: its fields differ');
    problems.length = before;
  });
});
