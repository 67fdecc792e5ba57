// An incremental HTTP/1.1 response parser for the call connection: answers to pipelined POSTs,
// one after another, from bytes split anywhere. It keeps only what the current answer needs (the
// head so far, the body so far), never re-scans bytes it has seen, and bounds everything: a head,
// a chunk-size line and a body have a maximum, and anything malformed throws — the caller drops
// the connection, which is always safe here (every unacknowledged update is sent again).
//
// Why not a library: llhttp (Node's parser) is not exposed for client use without a socket, and
// undici's request() costs ~50 µs of main-thread CPU per call (see call-connection.ts).

/** What a response head says (a pure function of its text). */
interface ParsedHead {
  readonly text: string;
  readonly status: number;
  readonly contentLength: number | undefined;
  readonly chunked: boolean;
  readonly close: boolean;
}

/** `\r\n\r\n`: the end of a head. */
const EMPTY_LINE = Buffer.from('\r\n\r\n', 'latin1');

/** Parses the status line and headers (without the empty line); throws when malformed. */
function parseHead(text: string): ParsedHead {
  const lines = text.split('\r\n');
  const match = /^HTTP\/1\.[01] (\d{3})(?: |$)/.exec(lines[0] ?? '');
  if (match === null) throw new Error(`malformed status line: ${JSON.stringify((lines[0] ?? '').slice(0, 80))}`);
  const status = Number(match[1]);
  let contentLength: number | undefined;
  let chunked = false;
  let close = false;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    const colon = line.indexOf(':');
    if (colon <= 0) throw new Error('malformed response header');
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === 'content-length') {
      if (!/^\d{1,15}$/.test(value)) throw new Error('malformed Content-Length');
      const length = Number(value);
      if (contentLength !== undefined && contentLength !== length) throw new Error('conflicting Content-Length headers');
      contentLength = length;
    } else if (name === 'transfer-encoding') {
      chunked = value.toLowerCase().split(',').some((v) => v.trim() === 'chunked');
    } else if (name === 'connection') {
      close = value.toLowerCase().split(',').some((v) => v.trim() === 'close');
    }
  }
  return { text, status, contentLength, chunked, close };
}

/** One complete answer. */
export interface HttpAnswer {
  readonly status: number;
  /** The body as UTF-8 (answers are empty or a line of error text). */
  readonly body: string;
  /** The server will close the connection after this answer (`Connection: close`, or no framing). */
  readonly close: boolean;
}

export interface ResponseParserLimits {
  /** Longest status line plus headers. */
  readonly maxHeadBytes: number;
  /** Longest body, whatever its framing. */
  readonly maxBodyBytes: number;
}

export const DEFAULT_RESPONSE_LIMITS: ResponseParserLimits = Object.freeze({ maxHeadBytes: 64 * 1024, maxBodyBytes: 1024 * 1024 });

/** Longest chunk-size line (size, extensions) or trailer line accepted. */
const MAX_LINE_BYTES = 4096;
const CR = 13;
const LF = 10;

/**
 * - `head`: reading the status line and headers (up to the empty line).
 * - `fixed`: a Content-Length body, `remaining` bytes to go.
 * - `chunk-size`: a chunk-size line; `chunk-data`: `remaining` bytes of a chunk, then its CRLF
 *   (`chunk-end`); `trailers`: after the last chunk, lines up to an empty one.
 */
type ParserState =
  | { readonly kind: 'head' }
  | { readonly kind: 'fixed'; remaining: number }
  | { readonly kind: 'chunk-size' }
  | { readonly kind: 'chunk-data'; remaining: number }
  | { readonly kind: 'chunk-end'; seen: number }
  | { readonly kind: 'trailers' };

interface Head {
  readonly status: number;
  readonly close: boolean;
}

/**
 * Bytes gathered across chunks into one growing buffer (doubling): a body dripped a byte per
 * chunk costs O(n), not a Buffer object per byte.
 */
class Bytes {
  #buffer = Buffer.alloc(0);
  #length = 0;

  get length(): number {
    return this.#length;
  }

  add(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    const needed = this.#length + bytes.length;
    if (needed > this.#buffer.length) {
      const grown = Buffer.allocUnsafe(Math.max(needed, this.#buffer.length * 2, 256));
      this.#buffer.copy(grown, 0, 0, this.#length);
      this.#buffer = grown;
    }
    this.#buffer.set(bytes, this.#length);
    this.#length = needed;
  }

  text(encoding: 'latin1' | 'utf8', end = this.#length): string {
    return this.#buffer.toString(encoding, 0, end);
  }

  /** The last `n` bytes (fewer if there are fewer). */
  tail(n: number): Buffer {
    return this.#buffer.subarray(Math.max(0, this.#length - n), this.#length);
  }

  clear(): void {
    this.#length = 0;
    // Keep a small buffer for the next answer; let a large one go.
    if (this.#buffer.length > 64 * 1024) this.#buffer = Buffer.alloc(0);
  }
}

export class ResponseParser {
  readonly #limits: ResponseParserLimits;
  #state: ParserState = { kind: 'head' };
  /** The head so far (copied: the socket's chunks are never retained). */
  readonly #headBytes = new Bytes();
  /** A chunk-size or trailer line so far. */
  readonly #line = new Bytes();
  #head: Head | undefined;
  /** The last head parsed (see #onHead). */
  #lastHead: ParsedHead | undefined;
  readonly #body = new Bytes();

  constructor(limits: ResponseParserLimits = DEFAULT_RESPONSE_LIMITS) {
    this.#limits = limits;
  }

  /** Feeds bytes; returns the answers they completed, in order. Throws on malformed input. */
  push(chunk: Uint8Array): HttpAnswer[] {
    const out: HttpAnswer[] = [];
    const data = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    let at = 0;
    while (at < data.length) {
      const state = this.#state;
      switch (state.kind) {
        case 'head':
          at = this.#readHead(data, at, out);
          break;
        case 'fixed': {
          const take = Math.min(state.remaining, data.length - at);
          this.#addBody(data.subarray(at, at + take));
          at += take;
          state.remaining -= take;
          if (state.remaining === 0) this.#finish(out);
          break;
        }
        case 'chunk-size': {
          const line = this.#readLine(data, at);
          at = line.next;
          if (line.text !== undefined) this.#onChunkSize(line.text);
          break;
        }
        case 'chunk-data': {
          const take = Math.min(state.remaining, data.length - at);
          this.#addBody(data.subarray(at, at + take));
          at += take;
          state.remaining -= take;
          if (state.remaining === 0) this.#state = { kind: 'chunk-end', seen: 0 };
          break;
        }
        case 'chunk-end': {
          const expected = state.seen === 0 ? CR : LF;
          if (data[at] !== expected) throw new Error('malformed chunk: no CRLF after its data');
          at++;
          if (++state.seen === 2) this.#state = { kind: 'chunk-size' };
          break;
        }
        case 'trailers': {
          const line = this.#readLine(data, at);
          at = line.next;
          if (line.text === '') this.#finish(out);
          break;
        }
      }
    }
    return out;
  }

  /** True between answers (nothing partial held). */
  get idle(): boolean {
    return this.#state.kind === 'head' && this.#headBytes.length === 0;
  }

  #readHead(data: Buffer, at: number, out: HttpAnswer[]): number {
    if (this.#headBytes.length === 0) {
      // The usual case: the whole head is in this chunk; read it in place, no copy.
      const found = data.indexOf(EMPTY_LINE, at);
      if (found !== -1) {
        if (found - at > this.#limits.maxHeadBytes) throw new Error(`response head over ${this.#limits.maxHeadBytes} bytes`);
        this.#onHead(data.toString('latin1', at, found), out);
        return found + 4;
      }
    }
    // The empty line may straddle chunks: look at the last 3 bytes kept and the new ones only.
    const kept = this.#headBytes.tail(3);
    const probe = kept.length === 0 ? data.subarray(at) : Buffer.concat([kept, data.subarray(at)]);
    const found = probe.indexOf('\r\n\r\n', 0, 'latin1');
    if (found === -1) {
      this.#headBytes.add(data.subarray(at));
      if (this.#headBytes.length > this.#limits.maxHeadBytes) throw new Error(`response head over ${this.#limits.maxHeadBytes} bytes`);
      return data.length;
    }
    const next = at + found + 4 - kept.length; // just past the empty line, in `data`
    this.#headBytes.add(data.subarray(at, next));
    const headLength = this.#headBytes.length - 4;
    if (headLength > this.#limits.maxHeadBytes) throw new Error(`response head over ${this.#limits.maxHeadBytes} bytes`);
    const text = this.#headBytes.text('latin1', headLength);
    this.#headBytes.clear();
    this.#onHead(text, out);
    return next;
  }

  #onHead(text: string, out: HttpAnswer[]): void {
    // An agent's answers to one executor's calls have the same head, byte for byte, all
    // through a second (the Date header): parsed once.
    let head = this.#lastHead;
    if (head === undefined || head.text !== text) {
      head = parseHead(text);
      this.#lastHead = head;
    }
    const { status, contentLength, chunked, close } = head;
    if (status < 200) {
      // Informational (100 Continue, 103): the real answer follows; nothing to report.
      return;
    }
    this.#head = { status, close };
    if (status === 204 || status === 304) return this.#finish(out);
    if (chunked) {
      this.#state = { kind: 'chunk-size' };
      return;
    }
    if (contentLength === undefined) {
      // No framing: the body runs to the end of the connection. Agents never answer so; take an
      // empty body and drop the connection after it.
      this.#head = { status, close: true };
      return this.#finish(out);
    }
    if (contentLength > this.#limits.maxBodyBytes) throw new Error(`response body of ${contentLength} bytes is over ${this.#limits.maxBodyBytes}`);
    if (contentLength === 0) return this.#finish(out);
    this.#state = { kind: 'fixed', remaining: contentLength };
  }


  /** A CRLF-terminated line: its text once complete (the bytes so far are kept), and where to go on. */
  #readLine(data: Buffer, at: number): { text: string | undefined; next: number } {
    const lf = data.indexOf(LF, at);
    const end = lf === -1 ? data.length : lf + 1;
    this.#line.add(data.subarray(at, end));
    if (this.#line.length > MAX_LINE_BYTES) throw new Error(`chunk-size or trailer line over ${MAX_LINE_BYTES} bytes`);
    if (lf === -1) return { text: undefined, next: end };
    const length = this.#line.length;
    if (length < 2 || this.#line.tail(2)[0] !== CR) throw new Error('malformed line: LF without CR');
    const text = this.#line.text('latin1', length - 2);
    this.#line.clear();
    return { text, next: end };
  }

  #onChunkSize(line: string): void {
    const sizeText = line.split(';')[0]!.trim();
    if (!/^[0-9a-fA-F]{1,12}$/.test(sizeText)) throw new Error('malformed chunk size');
    const size = parseInt(sizeText, 16);
    if (size === 0) {
      this.#state = { kind: 'trailers' };
      return;
    }
    if (this.#body.length + size > this.#limits.maxBodyBytes) throw new Error(`chunked response body over ${this.#limits.maxBodyBytes} bytes`);
    this.#state = { kind: 'chunk-data', remaining: size };
  }

  #addBody(bytes: Buffer): void {
    this.#body.add(bytes);
  }

  #finish(out: HttpAnswer[]): void {
    const head = this.#head!;
    const body = this.#body.length === 0 ? '' : this.#body.text('utf8');
    out.push({ status: head.status, body, close: head.close });
    this.#head = undefined;
    this.#body.clear();
    this.#state = { kind: 'head' };
  }
}
