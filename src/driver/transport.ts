import { Client } from 'undici';
import type { Readable } from 'node:stream';
import { ConnectionError } from '../errors.js';
import type { ContentType } from '../protocol/codec.js';
import { truncateUtf8, wellFormed } from '../protocol/utf8.js';
import { connectTls, createTlsOptions, type TlsOptions } from './tls.js';
import { CallConnection } from './call-connection.js';

/** Receives the bytes of a SUBSCRIBE response body as they arrive. */
export interface StreamHandlers {
  onData(chunk: Uint8Array): void;
  /** The agent ended the stream (it closes the old stream when we resubscribe, or it went away). */
  onEnd(): void;
  onError(error: Error): void;
}

/** An open SUBSCRIBE response: 200 and a RecordIO body. */
export interface EventStream {
  readonly contentType: string | undefined;
  /** Starts delivering body bytes. Call once. */
  start(handlers: StreamHandlers): void;
  /** Closes the connection under the stream. Idempotent; no handler is called afterwards. */
  close(): void;
}

export type SubscribeResult =
  | { readonly ok: true; readonly stream: EventStream }
  | { readonly ok: false; readonly status: number; readonly body: string };

export interface CallResult {
  readonly status: number;
  readonly body: string;
}

/**
 * The driver's view of the agent: a SUBSCRIBE on a connection of its own, kept open, and
 * every other call on a second keep-alive connection (PROTOCOL.md §2.1: a streaming response
 * holds up every later response on its connection). Connection failures reject with
 * MPE_CONNECTION; HTTP statuses are returned, not thrown.
 */
export interface AgentTransport {
  /**
   * `signal` abandons the attempt (its promise then rejects). `onConnect`, if the transport can
   * tell, is called once the connection under the SUBSCRIBE is up: from then on the driver never
   * abandons the attempt for being slow.
   */
  subscribe(body: Uint8Array, contentType: ContentType, signal?: AbortSignal, onConnect?: () => void): Promise<SubscribeResult>;
  /**
   * Sends a non-SUBSCRIBE call. Calls may be pipelined behind one another on the call
   * connection: a repeated UPDATE is deduplicated by the agent (uuid), and a MESSAGE or a
   * HEARTBEAT is best effort anyway.
   */
  call(body: Uint8Array, contentType: ContentType): Promise<CallResult>;
  /** Closes both connections. */
  close(): Promise<void>;
}

export interface HttpTransportOptions {
  /** `http://host:port` or `https://host:port`; for a Unix socket, `http://localhost`. */
  readonly origin: string;
  /** The request path, e.g. `/slave(1)/api/v1/executor`. */
  readonly path: string;
  /** A Unix domain socket to connect through instead of TCP. */
  readonly socketPath?: string;
  /** TLS settings for https. */
  readonly tls?: TlsOptions;
  /** Returns the `Authorization` header value, if any. A function, so the token is never a plain property. */
  readonly authorization?: () => string | undefined;
  /** Calls pipelined on the call connection at most (1 = wait for each answer). */
  readonly pipelining: number;
  /** Milliseconds to wait for response headers before failing a call. */
  readonly headersTimeoutMs: number;
}

/**
 * The real transport: the SUBSCRIBE stream on an undici client of its own, and the calls on a
 * {@link CallConnection} (pipelined HTTP/1.1, see there for why not undici).
 */
export class HttpAgentTransport implements AgentTransport {
  readonly #options: HttpTransportOptions;
  readonly #calls: CallConnection;
  #subscribeClient: Client | undefined;
  /** For https only: given, or libprocess' default (no key, no verification). */
  readonly #tls: TlsOptions | undefined;
  readonly #host: string;
  readonly #port: number;

  constructor(options: HttpTransportOptions) {
    this.#options = options;
    const origin = new URL(options.origin);
    const defaultPort = origin.protocol === 'https:' ? 443 : 80;
    this.#host = origin.hostname.replace(/^\[|\]$/g, '');
    this.#port = origin.port === '' ? defaultPort : Number(origin.port);
    this.#tls = origin.protocol === 'https:' ? (options.tls ?? createTlsOptions({}, { scheme: 'off' })) : undefined;
    this.#calls = new CallConnection({
      host: this.#host,
      port: this.#port,
      ...(options.socketPath !== undefined ? { socketPath: options.socketPath } : {}),
      ...(this.#tls !== undefined ? { tls: this.#tls } : {}),
      path: options.path,
      responseTimeoutMs: options.headersTimeoutMs,
      pipelining: options.pipelining,
    });
  }

  #newStreamClient(): Client {
    const { socketPath, headersTimeoutMs } = this.#options;
    const tls = this.#tls;
    return new Client(this.#options.origin, {
      pipelining: 1,
      // The event stream may be silent for 30 minutes (the agent's heartbeat interval): the
      // driver's own watchdog decides when silence means a dead connection.
      bodyTimeout: 0,
      headersTimeout: headersTimeoutMs,
      keepAliveTimeout: 60_000,
      ...(socketPath !== undefined ? { socketPath } : {}),
      connect:
        tls !== undefined
          ? (_options, callback) => {
              // The agent's certificate is judged before undici gets the socket (tls.ts).
              const { socket, ready } = connectTls(tls, this.#host, this.#port);
              socket.setKeepAlive(true, 10_000);
              ready.then(
                () => callback(null, socket),
                (error: Error) => callback(error, null),
              );
            }
          : { keepAlive: true, keepAliveInitialDelay: 10_000 },
    });
  }

  #headers(contentType: ContentType): Record<string, string> {
    // The reference library sends Accept equal to its Content-Type on every call.
    const headers: Record<string, string> = { 'content-type': contentType, accept: contentType };
    const authorization = this.#options.authorization?.();
    if (authorization !== undefined) headers.authorization = authorization;
    return headers;
  }

  async subscribe(body: Uint8Array, contentType: ContentType, signal?: AbortSignal, onConnect?: () => void): Promise<SubscribeResult> {
    // A fresh connection per SUBSCRIBE: the previous stream's connection is dead or about to be
    // closed by the agent.
    const previous = this.#subscribeClient;
    this.#subscribeClient = undefined;
    if (previous !== undefined) void previous.destroy().catch(() => {});
    const client = this.#newStreamClient();
    this.#subscribeClient = client;
    if (onConnect !== undefined) client.once('connect', () => onConnect());
    let response;
    try {
      response = await client.request({
        path: this.#options.path,
        method: 'POST',
        headers: this.#headers(contentType),
        body: Buffer.from(body.buffer, body.byteOffset, body.byteLength),
        ...(signal !== undefined ? { signal } : {}),
      });
    } catch (error) {
      void client.destroy().catch(() => {});
      throw connectionError('SUBSCRIBE', error);
    }
    if (response.statusCode !== 200) {
      const text = await readErrorBody(response.body, this.#options.headersTimeoutMs);
      void client.destroy().catch(() => {});
      return { ok: false, status: response.statusCode, body: text };
    }
    const header = response.headers['content-type'];
    return {
      ok: true,
      stream: new UndiciEventStream(client, response.body, Array.isArray(header) ? header[0] : header),
    };
  }

  call(body: Uint8Array, contentType: ContentType): Promise<CallResult> {
    // The reference library sends Accept equal to its Content-Type on every call.
    const authorization = this.#options.authorization?.();
    const headers = `Content-Type: ${contentType}\r\nAccept: ${contentType}\r\n${authorization !== undefined ? `Authorization: ${authorization}\r\n` : ''}`;
    return this.#calls.post(body, headers);
  }

  async close(): Promise<void> {
    this.#calls.close();
    const client = this.#subscribeClient;
    this.#subscribeClient = undefined;
    await client?.destroy().catch(() => {});
  }
}

class UndiciEventStream implements EventStream {
  readonly contentType: string | undefined;
  readonly #client: Client;
  readonly #body: Readable;
  #closed = false;

  constructor(client: Client, body: Readable, contentType: string | undefined) {
    this.#client = client;
    this.#body = body;
    this.contentType = contentType;
  }

  start(handlers: StreamHandlers): void {
    this.#body.on('data', (chunk: Buffer) => {
      if (!this.#closed) handlers.onData(chunk);
    });
    this.#body.once('end', () => {
      if (!this.#closed) {
        this.#closed = true;
        handlers.onEnd();
      }
    });
    this.#body.once('error', (error: Error) => {
      if (!this.#closed) {
        this.#closed = true;
        handlers.onError(error);
      }
    });
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#body.destroy();
    void this.#client.destroy().catch(() => {});
  }
}

/** Bytes of a refused SUBSCRIBE's body kept: an agent's are a line of text. */
export const MAX_ERROR_BODY_BYTES = 4096;

/**
 * The first {@link MAX_ERROR_BODY_BYTES} of an error body, within `timeoutMs` (the stream's
 * client has no body timeout); the rest is never read, so a hostile 64 MiB body costs nothing.
 */
async function readErrorBody(body: Readable, timeoutMs: number): Promise<string> {
  const kept: Buffer[] = [];
  let bytes = 0;
  const timer = setTimeout(() => body.destroy(), timeoutMs);
  try {
    for await (const chunk of body as AsyncIterable<Buffer>) {
      const room = MAX_ERROR_BODY_BYTES - bytes;
      kept.push(chunk.length > room ? chunk.subarray(0, room) : chunk);
      bytes += Math.min(chunk.length, room);
      if (bytes >= MAX_ERROR_BODY_BYTES) break;
    }
  } catch {
    // A body cut short: keep what came.
  } finally {
    clearTimeout(timer);
    body.destroy();
  }
  return wellFormed(truncateUtf8(Buffer.concat(kept).toString('utf8'), MAX_ERROR_BODY_BYTES));
}

function connectionError(what: string, cause: unknown): ConnectionError {
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new ConnectionError(`${what} failed: ${reason}`, { cause });
}
