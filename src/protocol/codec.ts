// CONTRACT STUB — to be implemented (see task). Signatures are fixed; bodies are not.
import type { Call, Event } from '../proto/types.js';
export type ContentType = 'application/x-protobuf' | 'application/json';
export interface Codec {
  readonly contentType: ContentType;
  encodeCall(call: Call): Uint8Array;
  /** Throws CodecError MPE_DECODE; `requireInitialized` true checks proto2 required fields like the agent's parser. */
  decodeCall(bytes: Uint8Array): Call;
  encodeEvent(event: Event): Uint8Array;
  decodeEvent(bytes: Uint8Array): Event;
}
export declare const protobufCodec: Codec;
export declare const jsonCodec: Codec;
export declare function codecFor(contentType: string): Codec;
