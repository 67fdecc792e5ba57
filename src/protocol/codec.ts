/**
 * The Call/Event codecs for the two content types of the executor API. Values have the plain
 * shape of src/proto/types.ts in both encodings.
 *
 * Upstream-required fields (PROTOCOL.md §6) are checked where the agent checks them:
 * - encodeCall refuses a Call missing one (MPE_ENCODE): the agent would answer 400;
 * - decodeCall refuses one too (MPE_DECODE), like the agent's ParseFromString / IsInitialized,
 *   unless `{ requireInitialized: false }`;
 * - Events are decoded leniently and encoded as given (the agent uses SerializePartialToString).
 */
import { CodecError } from '../errors.js';
import type { Call, Event } from '../proto/types.js';
import { callSpec, eventSpec, missingRequiredFields, type MessageSpec } from '../proto/schema.js';
import { decodeMessage, encodeMessage } from './codec-protobuf.js';
import { writeMesosJson } from './codec-json-writer.js';
import { parseJsonText, readMesosJson } from './codec-json-reader.js';

export type ContentType = 'application/x-protobuf' | 'application/json';

export interface DecodeCallOptions {
  /** Check upstream-required fields as the agent's parser does (default true). */
  requireInitialized?: boolean;
}

export interface Codec {
  readonly contentType: ContentType;
  /** Throws CodecError MPE_ENCODE, e.g. when an upstream-required field is missing. */
  encodeCall(call: Call): Uint8Array;
  /** Throws CodecError MPE_DECODE; `requireInitialized` (default true) checks proto2 required fields like the agent's parser. */
  decodeCall(bytes: Uint8Array, options?: DecodeCallOptions): Call;
  /** Throws CodecError MPE_ENCODE when a field holds a value of the wrong type. */
  encodeEvent(event: Event): Uint8Array;
  /** Throws CodecError MPE_DECODE; never checks required fields. */
  decodeEvent(bytes: Uint8Array): Event;
}

type Plain = Record<string, unknown>;

function requireAll(spec: MessageSpec, value: Plain, code: 'MPE_ENCODE' | 'MPE_DECODE'): void {
  const missing = missingRequiredFields(spec.fullName, value);
  if (missing.length > 0) throw new CodecError(code, `Missing required fields: ${missing.join(', ')}`);
}

function asPlain(value: unknown, what: string): Plain {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new CodecError('MPE_ENCODE', `${what} must be an object`);
  }
  return value as Plain;
}

// The required fields are checked by the protobuf codec itself, in its one pass (the error is
// the same as requireAll's).
export const protobufCodec: Codec = Object.freeze({
  contentType: 'application/x-protobuf' as const,
  encodeCall(call: Call): Uint8Array {
    return encodeMessage(callSpec(), asPlain(call, 'Call'), true);
  },
  decodeCall(bytes: Uint8Array, options?: DecodeCallOptions): Call {
    return decodeMessage(callSpec(), bytes, options?.requireInitialized !== false) as unknown as Call;
  },
  encodeEvent(event: Event): Uint8Array {
    return encodeMessage(eventSpec(), asPlain(event, 'Event'));
  },
  decodeEvent(bytes: Uint8Array): Event {
    return decodeMessage(eventSpec(), bytes) as Event;
  },
});

export const jsonCodec: Codec = Object.freeze({
  contentType: 'application/json' as const,
  encodeCall(call: Call): Uint8Array {
    const value = asPlain(call, 'Call');
    requireAll(callSpec(), value, 'MPE_ENCODE');
    return Buffer.from(writeMesosJson(callSpec(), value), 'utf8');
  },
  decodeCall(bytes: Uint8Array, options?: DecodeCallOptions): Call {
    const strict = options?.requireInitialized !== false;
    const value = readMesosJson(callSpec(), parseJsonText(bytes), strict);
    if (strict) requireAll(callSpec(), value, 'MPE_DECODE');
    return value as unknown as Call;
  },
  encodeEvent(event: Event): Uint8Array {
    return Buffer.from(writeMesosJson(eventSpec(), asPlain(event, 'Event')), 'utf8');
  },
  decodeEvent(bytes: Uint8Array): Event {
    return readMesosJson(eventSpec(), parseJsonText(bytes), false) as Event;
  },
});

/** The codec for a Content-Type, compared exactly as the agent does (no parameters, no case folding). */
export function codecFor(contentType: string): Codec {
  if (contentType === 'application/x-protobuf') return protobufCodec;
  if (contentType === 'application/json') return jsonCodec;
  throw new CodecError(
    'MPE_UNSUPPORTED_CONTENT_TYPE',
    `Expecting 'Content-Type' of application/json or application/x-protobuf, got '${contentType}'`,
  );
}

export { UNKNOWN_FIELDS } from './codec-protobuf.js';
export { formatDouble } from './codec-json-writer.js';
