// RecordIO framing of the SUBSCRIBE event stream (PROTOCOL.md §4): `<decimal length>\n<bytes>`,
// repeated. A pure incremental decoder: it takes chunks of any size and split (HTTP chunk
// boundaries mean nothing) and returns whole records. No I/O, no knowledge of HTTP.
import { constants as bufferConstants } from 'node:buffer';
import { InvalidOptionError, RecordIOError } from '../errors.js';

export interface RecordIODecoderOptions {
  /** Largest record accepted, in bytes (default 64 MiB). A larger length prefix is an error before any allocation. */
  maxRecordBytes?: number;
}

/** Default {@link RecordIODecoderOptions.maxRecordBytes}: 64 MiB. */
export const DEFAULT_MAX_RECORD_BYTES = 64 * 1024 * 1024;

// A uint64 has at most 20 decimal digits. Leading zeros are legal (the Mesos decoder's
// lexical_cast accepts them), so the value check alone would not stop an endless run of '0's.
const MAX_HEADER_DIGITS = 20;

const LF = 0x0a;
const ZERO = 0x30;
const NINE = 0x39;

/**
 * Streaming RecordIO decoder: feed chunks of any size, get whole records back.
 *
 * - Accepts only `[0-9]+\n` headers (no sign, space, CR or hex, unlike the Mesos decoder's
 *   lexical_cast), and tolerates a bare `\n` between records, as the docs' pseudo-code does.
 * - Skips zero-length records: the agent never sends them (`docs/recordio.md`), and an empty
 *   payload decodes to nothing useful (an `Event` of type UNKNOWN in protobuf, invalid JSON),
 *   so handing it on would only turn a harmless oddity into a decode error downstream.
 * - Rejects a length above `maxRecordBytes` as soon as the digits read so far exceed it, so a
 *   hostile prefix never causes an allocation or unbounded buffering.
 * - Errors are permanent: the stream cannot be resynchronised, so every later `push` or `end`
 *   throws the same `RecordIOError` again; the caller should drop the connection.
 *
 * Returned records are `Buffer`s. A record that arrived inside one chunk is a view of that chunk
 * (no copy), so a chunk must not be modified after it was pushed. A record spread over several
 * chunks is copied once, when it is complete.
 */
export class RecordIODecoder {
  readonly #maxRecordBytes: number;
  #failed: RecordIOError | undefined;
  // Header state: digits seen so far for the current length prefix, and their value.
  #headerDigits = 0;
  #length = 0;
  // Body state: true while reading a record's bytes; the parts received so far and their total.
  #inBody = false;
  #parts: Buffer[] = [];
  #received = 0;
  // Bytes consumed since the start of the stream, for error messages.
  #offset = 0;

  constructor(options: RecordIODecoderOptions = {}) {
    const max = options.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES;
    if (!Number.isSafeInteger(max) || max < 1 || max > bufferConstants.MAX_LENGTH) {
      throw new InvalidOptionError(
        'maxRecordBytes',
        `maxRecordBytes: expected an integer from 1 to ${bufferConstants.MAX_LENGTH}, got ${String(max)}`,
      );
    }
    this.#maxRecordBytes = max;
  }

  /** Bytes held for an incomplete record: the digits of a partial length prefix, or the body bytes received so far. */
  get bufferedBytes(): number {
    return this.#inBody ? this.#received : this.#headerDigits;
  }

  /** Feeds a chunk; returns the records completed by it (possibly none). Throws RecordIOError; after an error every later call throws too. */
  push(chunk: Uint8Array): Uint8Array[] {
    if (this.#failed !== undefined) throw this.#failed;
    const data = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const records: Buffer[] = [];
    const end = data.length;
    let at = 0;
    while (at < end) {
      if (this.#inBody) {
        const missing = this.#length - this.#received;
        const available = end - at;
        if (available < missing) {
          this.#parts.push(data.subarray(at, end));
          this.#received += available;
          at = end;
          break;
        }
        const tail = data.subarray(at, at + missing);
        at += missing;
        if (this.#parts.length === 0) {
          records.push(tail);
        } else {
          // Concatenate once per record, never per chunk: a large record made of many small
          // chunks stays O(n).
          this.#parts.push(tail);
          records.push(Buffer.concat(this.#parts, this.#length));
          this.#parts = [];
        }
        this.#inBody = false;
        this.#received = 0;
        this.#length = 0;
        continue;
      }
      // Header: digits up to '\n'.
      const byte = data[at]!;
      if (byte >= ZERO && byte <= NINE) {
        if (this.#headerDigits === MAX_HEADER_DIGITS) {
          this.#fail(
            'MPE_RECORDIO_BAD_HEADER',
            `RecordIO length prefix at stream offset ${this.#offset + at - this.#headerDigits} has more than ${MAX_HEADER_DIGITS} digits`,
          );
        }
        this.#headerDigits += 1;
        this.#length = this.#length * 10 + (byte - ZERO);
        if (this.#length > this.#maxRecordBytes) {
          this.#fail(
            'MPE_RECORDIO_TOO_LARGE',
            `RecordIO record at stream offset ${this.#offset + at + 1 - this.#headerDigits} is larger than the maximum of ${this.#maxRecordBytes} bytes (length prefix starts with ${this.#length})`,
          );
        }
        at += 1;
        continue;
      }
      if (byte === LF) {
        at += 1;
        if (this.#headerDigits === 0) continue; // a bare '\n' between records
        this.#headerDigits = 0;
        // Zero-length records are skipped (see the class comment).
        if (this.#length > 0) this.#inBody = true;
        continue;
      }
      this.#fail(
        'MPE_RECORDIO_BAD_HEADER',
        `RecordIO length prefix at stream offset ${this.#offset + at - this.#headerDigits}: expected a decimal digit or "\\n", got byte 0x${byte.toString(16).padStart(2, '0')}${describeByte(byte)}`,
      );
    }
    this.#offset += end;
    return records;
  }

  /** The stream ended: throws MPE_RECORDIO_TRUNCATED if a record (or a length prefix) is incomplete. */
  end(): void {
    if (this.#failed !== undefined) throw this.#failed;
    if (this.#inBody) {
      this.#fail(
        'MPE_RECORDIO_TRUNCATED',
        `RecordIO stream ended inside a record: got ${this.#received} of ${this.#length} bytes`,
      );
    }
    if (this.#headerDigits > 0) {
      this.#fail(
        'MPE_RECORDIO_TRUNCATED',
        `RecordIO stream ended inside a length prefix (${this.#headerDigits} digits, no "\\n")`,
      );
    }
  }

  #fail(code: 'MPE_RECORDIO_BAD_HEADER' | 'MPE_RECORDIO_TOO_LARGE' | 'MPE_RECORDIO_TRUNCATED', message: string): never {
    this.#failed = new RecordIOError(code, message);
    // Release whatever was held: nothing more will be decoded.
    this.#parts = [];
    this.#inBody = false;
    this.#received = 0;
    this.#headerDigits = 0;
    this.#length = 0;
    throw this.#failed;
  }
}

function describeByte(byte: number): string {
  return byte >= 0x20 && byte < 0x7f ? ` (${JSON.stringify(String.fromCharCode(byte))})` : '';
}

/** Frames one record: `<decimal length>\n<bytes>`. */
export function encodeRecord(payload: Uint8Array): Buffer {
  const header = `${payload.byteLength}\n`;
  const out = Buffer.allocUnsafe(header.length + payload.byteLength);
  out.write(header, 0, 'latin1');
  out.set(payload, header.length);
  return out;
}
