import { connect as netConnect, type Socket } from 'node:net';
import { ConnectionError } from '../errors.js';
import { ResponseParser, type HttpAnswer } from './http-response-parser.js';
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
  /** Header lines each ending in CRLF (Content-Type, Accept, …). */
  readonly headers: string;
  readonly body: Uint8Array;
  readonly resolve: (answer: CallAnswer) => void;
  readonly reject: (error: Error) => void;
  sentAt: number;
}


/** Digits of a body length at most (a Buffer's length is below 2^53). */
const MAX_LENGTH_DIGITS = 16;

export class CallConnection {
  readonly #options: CallConnectionOptions;
  readonly #hostHeader: string;
  #socket: Socket | undefined;
  #connected = false;
  /** Written, waiting for their answers, oldest first. */
  #inFlight: Pending[] = [];
  /** Not written yet (pipelining limit, or the socket still connecting), from `waitingHead` on. */
  #waiting: Pending[] = [];
  #waitingHead = 0;
  #parser = new ResponseParser();
  #timer: NodeJS.Timeout | undefined;
  #closed = false;
  /** A write of the waiting calls is scheduled for the end of this event-loop turn. */
  #flushScheduled = false;
  /**
   * The request head up to the Content-Length value, for the header lines it was made for: the
   * same for every call of a driver. A #private field: it may hold the Authorization token,
   * which must not show when the connection is inspected or logged.
   */
  #prefix: { readonly headers: string; readonly bytes: Buffer } | undefined;

  constructor(options: CallConnectionOptions) {
    this.#options = options;
    this.#hostHeader = options.socketPath !== undefined ? 'localhost' : options.host.includes(':') ? `[${options.host}]:${options.port}` : `${options.host}:${options.port}`;
  }

  /**
   * Sends one POST with `headers` (lines each ending in CRLF: Content-Type, Accept, …); resolves
   * with its answer, rejects with MPE_CONNECTION when the connection fails.
   */
  post(body: Uint8Array, headers: string): Promise<CallAnswer> {
    if (this.#closed) return Promise.reject(new ConnectionError('the call connection is closed'));
    return new Promise((resolve, reject) => {
      this.#waiting.push({ headers, body, resolve, reject, sentAt: 0 });
      this.#schedule();
    });
  }

  /**
   * Calls made in one event-loop turn (the status updates of every task that ended in it) leave
   * in one write, at its end: a write is a syscall and a TCP segment, more than a call's own cost.
   */
  #schedule(): void {
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    setImmediate(this.#flush);
  }

  readonly #flush = (): void => {
    this.#flushScheduled = false;
    this.#pump();
  };

  /** `POST <path> HTTP/1.1`, Host and `headers`, up to the Content-Length value. */
  #requestPrefix(headers: string): Buffer {
    const cached = this.#prefix;
    if (cached !== undefined && cached.headers === headers) return cached.bytes;
    const bytes = Buffer.from(`POST ${this.#options.path} HTTP/1.1\r\nHost: ${this.#hostHeader}\r\n${headers}Content-Length: `, 'latin1');
    this.#prefix = { headers, bytes };
    return bytes;
  }

  /** Closes the socket; calls not answered yet fail. */
  close(): void {
    this.#closed = true;
    this.#fail(new ConnectionError('the call connection was closed'));
  }

  #ensureSocket(): Socket {
    if (this.#socket !== undefined) return this.#socket;
    const { host, port, socketPath, tls } = this.#options;
    let socket: Socket;
    const watch = (target: Socket): void => {
      target.once('error', (error: Error) => this.#onSocketGone(target, error.message, error));
      target.once('close', () => this.#onSocketGone(target, 'the agent closed the call connection'));
    };
    if (tls !== undefined) {
      // Usable only once the agent's certificate is judged (tls.ts); until then a failure is
      // reported by `ready`, with its reason.
      const connection = connectTls(tls, host, port);
      socket = connection.socket;
      connection.ready.then(
        () => {
          if (socket !== this.#socket) return;
          watch(socket);
          this.#connected = true;
          this.#pump();
        },
        (error: Error) => this.#onSocketGone(socket, error.message, error),
      );
    } else {
      socket = socketPath !== undefined ? netConnect({ path: socketPath }) : netConnect({ host, port });
      watch(socket);
      socket.once('connect', () => {
        this.#connected = true;
        this.#pump();
      });
    }
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 10_000);
    socket.on('data', (chunk: Buffer) => this.#onData(socket, chunk));
    this.#socket = socket;
    this.#connected = false;
    this.#parser = new ResponseParser();
    return socket;
  }

  #pump(): void {
    if (this.#waitingHead === this.#waiting.length) return;
    const socket = this.#ensureSocket();
    if (!this.#connected) return;
    const room = this.#options.pipelining - this.#inFlight.length;
    if (room <= 0) return;
    const end = Math.min(this.#waiting.length, this.#waitingHead + room);
    const now = performance.now();
    // One buffer for the whole batch (one write: a syscall per call would cost more than the
    // call), each call its cached head prefix, its Content-Length and its body.
    let total = 0;
    for (let i = this.#waitingHead; i < end; i++) {
      const pending = this.#waiting[i]!;
      total += this.#requestPrefix(pending.headers).byteLength + MAX_LENGTH_DIGITS + 4 + pending.body.byteLength;
    }
    const batch = Buffer.allocUnsafe(total);
    let at = 0;
    for (let i = this.#waitingHead; i < end; i++) {
      const pending = this.#waiting[i]!;
      const prefix = this.#requestPrefix(pending.headers);
      batch.set(prefix, at);
      at += prefix.byteLength;
      at += batch.write(`${pending.body.byteLength}\r\n\r\n`, at, 'latin1');
      batch.set(pending.body, at);
      at += pending.body.byteLength;
      pending.sentAt = now;
      this.#inFlight.push(pending);
    }
    if (end === this.#waiting.length) {
      this.#waiting = [];
      this.#waitingHead = 0;
    } else {
      this.#waitingHead = end;
      // Drop the written prefix now and then, not on every call (that would be O(n²)).
      if (this.#waitingHead > 1024 && this.#waitingHead * 2 > this.#waiting.length) {
        this.#waiting = this.#waiting.slice(this.#waitingHead);
        this.#waitingHead = 0;
      }
    }
    socket.write(batch.subarray(0, at));
    this.#armTimer();
  }

  /**
   * At most one timer, for the oldest call in flight. It is not moved when that call is
   * answered (a timer per answer costs more than the answer): when it fires it looks at the
   * call that is oldest then, and waits again for what that one has left.
   */
  #armTimer(): void {
    if (this.#timer !== undefined || this.#inFlight.length === 0) return;
    const oldest = this.#inFlight[0]!;
    const due = Math.max(0, oldest.sentAt + this.#options.responseTimeoutMs - performance.now());
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      const first = this.#inFlight[0];
      if (first === undefined) return;
      if (performance.now() - first.sentAt >= this.#options.responseTimeoutMs) {
        this.#onSocketGone(this.#socket, `no answer within ${this.#options.responseTimeoutMs} ms`);
      } else {
        this.#armTimer();
      }
    }, due);
    this.#timer.unref();
  }

  #onData(socket: Socket, chunk: Buffer): void {
    if (socket !== this.#socket) return;
    let answers: HttpAnswer[];
    try {
      answers = this.#parser.push(chunk);
    } catch (error) {
      this.#onSocketGone(socket, (error as Error).message, error, true);
      return;
    }
    for (const answer of answers) {
      const pending = this.#inFlight.shift();
      if (pending === undefined) {
        this.#onSocketGone(socket, 'an answer came for no call', undefined, true);
        return;
      }
      pending.resolve({ status: answer.status, body: answer.body });
      if (answer.close) {
        this.#onSocketGone(socket, 'the agent closed the call connection');
        return;
      }
    }
    // The room the answers made is filled at the end of the turn, with the calls their
    // callbacks make (the next update of each task) in the same write.
    if (answers.length > 0) this.#schedule();
  }

  /** `framing`: the answers stopped matching the calls (see {@link ConnectionError.framing}). */
  #onSocketGone(socket: Socket | undefined, reason: string, cause?: unknown, framing = false): void {
    if (socket === undefined || socket !== this.#socket) return;
    this.#socket = undefined;
    this.#connected = false;
    socket.destroy();
    // Calls written on the lost socket may or may not have reached the agent, and the ones not
    // written yet would only meet the same fate now: fail them all. The driver retries UPDATEs
    // on its own schedule (the agent deduplicates them by uuid); the next call reconnects. No
    // reconnection here, so an agent that is down costs no busy loop.
    const lost = [...this.#inFlight, ...this.#waiting.slice(this.#waitingHead)];
    this.#inFlight = [];
    this.#waiting = [];
    this.#waitingHead = 0;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    const error = new ConnectionError(`call failed: ${reason}`, { cause, framing });
    for (const pending of lost) pending.reject(error);
  }

  #fail(error: ConnectionError): void {
    const all = [...this.#inFlight, ...this.#waiting.slice(this.#waitingHead)];
    this.#inFlight = [];
    this.#waiting = [];
    this.#waitingHead = 0;
    const socket = this.#socket;
    this.#socket = undefined;
    socket?.destroy();
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    for (const pending of all) pending.reject(error);
  }
}
