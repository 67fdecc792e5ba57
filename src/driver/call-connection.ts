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
  readonly head: Buffer;
  readonly body: Uint8Array;
  readonly resolve: (answer: CallAnswer) => void;
  readonly reject: (error: Error) => void;
  sentAt: number;
}


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
    if (this.closed) return Promise.reject(new ConnectionError('the call connection is closed'));
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
    this.fail(new ConnectionError('the call connection was closed'));
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
    let answers: HttpAnswer[];
    try {
      answers = this.parser.push(chunk);
    } catch (error) {
      this.onSocketGone(socket, (error as Error).message, error, true);
      return;
    }
    for (const answer of answers) {
      const pending = this.inFlight.shift();
      if (pending === undefined) {
        this.onSocketGone(socket, 'an answer came for no call', undefined, true);
        return;
      }
      if (this.timer !== undefined) {
        clearTimeout(this.timer);
        this.timer = undefined;
      }
      this.armTimer();
      pending.resolve({ status: answer.status, body: answer.body });
      if (answer.close) {
        this.onSocketGone(socket, 'the agent closed the call connection');
        return;
      }
    }
    if (answers.length > 0) this.pump();
  }

  /** `framing`: the answers stopped matching the calls (see {@link ConnectionError.framing}). */
  private onSocketGone(socket: Socket | undefined, reason: string, cause?: unknown, framing = false): void {
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
    const error = new ConnectionError(`call failed: ${reason}`, { cause, framing });
    for (const pending of lost) pending.reject(error);
  }

  private fail(error: ConnectionError): void {
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
