// The subscriber's event stream: the 200 response to SUBSCRIBE, kept open, carrying one RecordIO
// record per Event, each written as its own HTTP chunk as libprocess does (PROTOCOL.md §2.3, §3.1,
// §4). Knows HTTP and framing, nothing of the agent's state.
import type { ServerResponse } from 'node:http';
import type { Codec } from '../protocol/codec.js';
import { encodeRecord } from '../protocol/recordio.js';
import type { Event } from '../proto/types.js';

/** Why a stream stopped carrying events. */
export type StreamCloseReason =
  | 'resubscribed'
  | 'dropped'
  | 'restart'
  | 'executor-exited'
  | 'shutdown-only'
  | 'client-closed'
  | 'stopped';

/** The agent writing one subscriber's stream (the executor reads it through the driver's `EventStream`, src/driver/transport.ts). */
export class AgentEventStream {
  readonly codec: Codec;
  readonly #res: ServerResponse;
  #open = true;
  #silent = false;
  #closeReason: StreamCloseReason | undefined;
  readonly #onClosed: (reason: StreamCloseReason) => void;

  /** Sends the 200 head at once, so the executor knows it subscribed before the first event. */
  constructor(res: ServerResponse, codec: Codec, onClosed: (reason: StreamCloseReason) => void) {
    this.codec = codec;
    this.#res = res;
    this.#onClosed = onClosed;
    // No Content-Length: Node uses chunked transfer encoding, as libprocess does for a PIPE.
    res.writeHead(200, { 'Content-Type': codec.contentType });
    res.flushHeaders();
    // The executor went away (or the socket was destroyed by a fault): later writes are lost.
    res.on('close', () => this.#closed('client-closed'));
    // Already gone (a SUBSCRIBE processed late): closed once the owner has taken the stream.
    if (res.destroyed || res.socket === null || res.socket.destroyed) queueMicrotask(() => this.#closed('client-closed'));
  }

  /** Still connected and writing (not silent). */
  get writable(): boolean {
    return this.#open && !this.#silent;
  }

  get open(): boolean {
    return this.#open;
  }

  get closeReason(): StreamCloseReason | undefined {
    return this.#closeReason;
  }

  /** Writes one event as one record in one chunk; false when it was lost (closed or silent). */
  send(event: Event): boolean {
    if (!this.writable) return false;
    // encodeRecord makes the only copy: header and payload in one buffer, so one chunk.
    this.#res.write(encodeRecord(this.codec.encodeEvent(event)));
    return true;
  }

  /** Writes raw bytes as one chunk (fault injection). */
  sendRaw(bytes: Uint8Array): boolean {
    if (!this.#open) return false;
    this.#res.write(bytes);
    return true;
  }

  /** Stops writing but keeps the connection open: a half-open stream. */
  goSilent(): void {
    this.#silent = true;
  }

  /** Ends the body with the terminating chunk, as the agent closing its pipe does. */
  end(reason: StreamCloseReason): void {
    if (!this.#open) return;
    this.#closed(reason);
    this.#res.end();
  }

  /** Resets the connection without a terminating chunk, as a crash or network failure does. */
  destroy(reason: StreamCloseReason): void {
    if (!this.#open) return;
    this.#closed(reason);
    this.#res.socket?.destroy();
    this.#res.destroy();
  }

  #closed(reason: StreamCloseReason): void {
    if (!this.#open) return;
    this.#open = false;
    this.#closeReason = reason;
    this.#onClosed(reason);
  }
}
