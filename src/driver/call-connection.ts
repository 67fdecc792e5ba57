import { connect as netConnect, type Socket } from 'node:net';
import { MesosExecutorError } from '../errors.js';
import { connectTls, type TlsOptions } from './tls.js';

/**
 * The executor's second connection: every call but SUBSCRIBE (PROTOCOL.md §2.1), as pipelined
 * HTTP/1.1 POSTs on one keep-alive socket.
 *
 * Why not undici here: a task costs three UPDATE calls, and the benchmarks (bench/, "dispatch
 * cost per layer") measured undici's request() at ~50 µs of main-thread CPU per call — most of
 * an executor's per-task cost. The calls are all alike (small POST, short answer), so a plain
 * writer and a small response parser do the same job for a fraction of that. Responses come
 * back in request order (HTTP/1.1 pipelining, which libprocess and Node's server both honour).
 */
export interface CallConnectionOptions {
  readonly host: string;
  readonly port: number;
  /** Connect through this Unix socket instead. */
  readonly socketPath?: string;
  /** Use TLS with these settings (and verify the agent as they say, see tls.ts). */
  readonly tls?: TlsOptions;
  /** The request target, e.g. `/slave(1)/api/v1/executor`. */
  readonly path: string;
  /** Fail every call in flight when the oldest has waited this long for its answer. */
  readonly responseTimeoutMs: number;
  /** Calls written at most before their answers (more wait their turn). */
  readonly pipelining: number;
}

export interface CallAnswer {
  readonly status: number;
  readonly body: string;
}

interface Pending {
  readonly head: Buffer;
  readonly body: Uint8Array;
  readonly resolve: (answer: CallAnswer) => void;
  readonly reject: (error: Error) => void;
  sentAt: number;
}

const CRLF = Buffer.from('\r\n');
const HEADER_END = Buffer.from('\r\n\r\n');
/** Longest response head accepted: an agent's are a few hundred bytes. */
const MAX_HEAD_BYTES = 64 * 1024;
/** Longest response body kept: answers are empty or a line of error text. */
const MAX_BODY_BYTES = 1024 * 1024;

export class CallConnection {
  private readonly options: CallConnectionOptions;
  private readonly hostHeader: string;
  private socket: Socket | undefined;
  private connected = false;
  /** Written, waiting for their answers, oldest first. */
  private inFlight: Pending[] = [];
  /** Not written yet (pipelining limit, or the socket still connecting), from `waitingHead` on. */
  private waiting: Pending[] = [];
  private waitingHead = 0;
  private buffer: Buffer = Buffer.alloc(0);
  private parser = new ResponseParser();
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(options: CallConnectionOptions) {
    this.options = options;
    this.hostHeader = options.socketPath !== undefined ? 'localhost' : options.host.includes(':') ? `[${options.host}]:${options.port}` : `${options.host}:${options.port}`;
  }

  /**
   * Sends one POST with `headers` (lines each ending in CRLF: Content-Type, Accept, …); resolves
   * with its answer, rejects with MPE_CONNECTION when the connection fails.
   */
  post(body: Uint8Array, headers: string): Promise<CallAnswer> {
    if (this.closed) return Promise.reject(new MesosExecutorError('MPE_CONNECTION', 'the call connection is closed'));
    const head = Buffer.from(
      `POST ${this.options.path} HTTP/1.1\r\nHost: ${this.hostHeader}\r\n${headers}Content-Length: ${body.byteLength}\r\n\r\n`,
      'latin1',
    );
    return new Promise((resolve, reject) => {
      this.waiting.push({ head, body, resolve, reject, sentAt: 0 });
      this.pump();
    });
  }

  /** Closes the socket; calls not answered yet fail. */
  close(): void {
    this.closed = true;
    this.fail(new MesosExecutorError('MPE_CONNECTION', 'the call connection was closed'));
  }

  private ensureSocket(): Socket {
    if (this.socket !== undefined) return this.socket;
    const { host, port, socketPath, tls } = this.options;
    let socket: Socket;
    const watch = (target: Socket): void => {
      target.once('error', (error: Error) => this.onSocketGone(target, error.message, error));
      target.once('close', () => this.onSocketGone(target, 'the agent closed the call connection'));
    };
    if (tls !== undefined) {
      // Usable only once the agent's certificate is judged (tls.ts); until then a failure is
      // reported by `ready`, with its reason.
      const connection = connectTls(tls, host, port);
      socket = connection.socket;
      connection.ready.then(
        () => {
          if (socket !== this.socket) return;
          watch(socket);
          this.connected = true;
          this.pump();
        },
        (error: Error) => this.onSocketGone(socket, error.message, error),
      );
    } else {
      socket = socketPath !== undefined ? netConnect({ path: socketPath }) : netConnect({ host, port });
      watch(socket);
      socket.once('connect', () => {
        this.connected = true;
        this.pump();
      });
    }
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 10_000);
    socket.on('data', (chunk: Buffer) => this.onData(socket, chunk));
    this.socket = socket;
    this.connected = false;
    this.buffer = Buffer.alloc(0);
    this.parser = new ResponseParser();
    return socket;
  }

  private pump(): void {
    if (this.waitingHead === this.waiting.length) return;
    const socket = this.ensureSocket();
    if (!this.connected) return;
    const room = this.options.pipelining - this.inFlight.length;
    if (room <= 0) return;
    const end = Math.min(this.waiting.length, this.waitingHead + room);
    const now = performance.now();
    // One write for the whole batch: a syscall per call would cost more than the call.
    const parts: Uint8Array[] = [];
    for (let i = this.waitingHead; i < end; i++) {
      const pending = this.waiting[i]!;
      pending.sentAt = now;
      parts.push(pending.head, pending.body);
      this.inFlight.push(pending);
    }
    if (end === this.waiting.length) {
      this.waiting = [];
      this.waitingHead = 0;
    } else {
      this.waitingHead = end;
      // Drop the written prefix now and then, not on every call (that would be O(n²)).
      if (this.waitingHead > 1024 && this.waitingHead * 2 > this.waiting.length) {
        this.waiting = this.waiting.slice(this.waitingHead);
        this.waitingHead = 0;
      }
    }
    socket.write(parts.length === 2 ? Buffer.concat(parts, parts[0]!.byteLength + parts[1]!.byteLength) : Buffer.concat(parts));
    this.armTimer();
  }

  private armTimer(): void {
    if (this.timer !== undefined || this.inFlight.length === 0) return;
    const oldest = this.inFlight[0]!;
    const due = Math.max(0, oldest.sentAt + this.options.responseTimeoutMs - performance.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      const first = this.inFlight[0];
      if (first === undefined) return;
      if (performance.now() - first.sentAt >= this.options.responseTimeoutMs) {
        this.onSocketGone(this.socket, `no answer within ${this.options.responseTimeoutMs} ms`);
      } else {
        this.armTimer();
      }
    }, due);
    this.timer.unref();
  }

  private onData(socket: Socket, chunk: Buffer): void {
    if (socket !== this.socket) return;
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    for (;;) {
      let parsed: ParsedResponse | undefined;
      try {
        parsed = this.parser.next(this.buffer);
      } catch (error) {
        this.onSocketGone(socket, (error as Error).message, error);
        return;
      }
      if (parsed === undefined) return;
      this.buffer = this.buffer.subarray(parsed.consumed);
      const pending = this.inFlight.shift();
      if (pending === undefined) {
        this.onSocketGone(socket, 'an answer came for no call');
        return;
      }
      if (this.timer !== undefined) {
        clearTimeout(this.timer);
        this.timer = undefined;
      }
      this.armTimer();
      pending.resolve({ status: parsed.status, body: parsed.body });
      if (parsed.close) {
        this.onSocketGone(socket, 'the agent closed the call connection');
        return;
      }
      this.pump();
    }
  }

  private onSocketGone(socket: Socket | undefined, reason: string, cause?: unknown): void {
    if (socket === undefined || socket !== this.socket) return;
    this.socket = undefined;
    this.connected = false;
    socket.destroy();
    // Calls written on the lost socket may or may not have reached the agent, and the ones not
    // written yet would only meet the same fate now: fail them all. The driver retries UPDATEs
    // on its own schedule (the agent deduplicates them by uuid); the next call reconnects. No
    // reconnection here, so an agent that is down costs no busy loop.
    const lost = [...this.inFlight, ...this.waiting.slice(this.waitingHead)];
    this.inFlight = [];
    this.waiting = [];
    this.waitingHead = 0;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    const error = new MesosExecutorError('MPE_CONNECTION', `call failed: ${reason}`, { cause });
    for (const pending of lost) pending.reject(error);
  }

  private fail(error: MesosExecutorError): void {
    const all = [...this.inFlight, ...this.waiting.slice(this.waitingHead)];
    this.inFlight = [];
    this.waiting = [];
    this.waitingHead = 0;
    const socket = this.socket;
    this.socket = undefined;
    socket?.destroy();
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    for (const pending of all) pending.reject(error);
  }
}

interface ParsedResponse {
  readonly status: number;
  readonly body: string;
  /** The server will close the connection after this response. */
  readonly close: boolean;
  /** Bytes of the buffer this response took. */
  readonly consumed: number;
}

/**
 * Parses one HTTP/1.1 response at a time from the front of a buffer: the status line, the
 * headers it needs (Content-Length, Transfer-Encoding, Connection), and a body framed by
 * Content-Length or chunked encoding. Anything else malformed throws: the connection is then
 * dropped, which is always safe here.
 */
export class ResponseParser {
  next(buffer: Buffer): ParsedResponse | undefined {
    const headEnd = buffer.indexOf(HEADER_END);
    if (headEnd === -1) {
      if (buffer.length > MAX_HEAD_BYTES) throw new Error('response head too long');
      return undefined;
    }
    const head = buffer.toString('latin1', 0, headEnd);
    const lines = head.split('\r\n');
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
        if (!/^\d+$/.test(value)) throw new Error('malformed Content-Length');
        contentLength = Number(value);
      } else if (name === 'transfer-encoding') {
        chunked = value.toLowerCase().split(',').some((v) => v.trim() === 'chunked');
      } else if (name === 'connection') {
        close = value.toLowerCase().split(',').some((v) => v.trim() === 'close');
      }
    }
    const bodyStart = headEnd + HEADER_END.length;
    if (status < 200 || status === 204 || status === 304) {
      // No body; an informational 1xx answer is followed by the real one.
      if (status < 200) {
        const final = this.next(buffer.subarray(bodyStart));
        return final === undefined ? undefined : { ...final, consumed: bodyStart + final.consumed };
      }
      return { status, body: '', close, consumed: bodyStart };
    }
    if (chunked) {
      const decoded = decodeChunked(buffer, bodyStart);
      if (decoded === undefined) return undefined;
      return { status, body: decoded.body, close, consumed: decoded.end };
    }
    if (contentLength === undefined) {
      // No framing: the body runs to the end of the connection. Agents never answer so; treat
      // it as an empty body and drop the connection after it.
      return { status, body: '', close: true, consumed: bodyStart };
    }
    if (contentLength > MAX_BODY_BYTES) throw new Error(`response body of ${contentLength} bytes is too large`);
    if (buffer.length < bodyStart + contentLength) return undefined;
    return { status, body: buffer.toString('utf8', bodyStart, bodyStart + contentLength), close, consumed: bodyStart + contentLength };
  }
}

function decodeChunked(buffer: Buffer, start: number): { body: string; end: number } | undefined {
  const parts: Buffer[] = [];
  let at = start;
  let size = 0;
  for (;;) {
    const lineEnd = buffer.indexOf(CRLF, at);
    if (lineEnd === -1) return undefined;
    const sizeText = buffer.toString('latin1', at, lineEnd).split(';')[0]!.trim();
    if (!/^[0-9a-fA-F]+$/.test(sizeText)) throw new Error('malformed chunk size');
    const chunkSize = parseInt(sizeText, 16);
    size += chunkSize;
    if (size > MAX_BODY_BYTES) throw new Error('chunked response body is too large');
    at = lineEnd + 2;
    if (chunkSize === 0) {
      // Trailers (none expected) end with an empty line.
      const trailerEnd = buffer.indexOf(CRLF, at);
      if (trailerEnd === -1) return undefined;
      if (trailerEnd !== at) {
        const end = buffer.indexOf(HEADER_END, at);
        if (end === -1) return undefined;
        return { body: Buffer.concat(parts).toString('utf8'), end: end + 4 };
      }
      return { body: Buffer.concat(parts).toString('utf8'), end: at + 2 };
    }
    if (buffer.length < at + chunkSize + 2) return undefined;
    parts.push(buffer.subarray(at, at + chunkSize));
    at += chunkSize + 2;
  }
}
