// CONTRACT STUB — to be implemented (see task). Signatures are fixed; bodies are not.
export interface RecordIODecoderOptions {
  /** Largest record accepted, in bytes (default 64 MiB). A larger length prefix is an error before any allocation. */
  maxRecordBytes?: number;
}
/** Streaming RecordIO decoder: feed chunks of any size, get whole records back. */
export declare class RecordIODecoder {
  constructor(options?: RecordIODecoderOptions);
  /** Feeds a chunk; returns the records completed by it (possibly none). Throws RecordIOError; after an error every later call throws too. */
  push(chunk: Uint8Array): Uint8Array[];
  /** The stream ended: throws MPE_RECORDIO_TRUNCATED if a record (or a length prefix) is incomplete. */
  end(): void;
  /** Bytes held for an incomplete record. */
  readonly bufferedBytes: number;
}
/** Frames one record: `<decimal length>\n<bytes>`. */
export declare function encodeRecord(payload: Uint8Array): Buffer;
