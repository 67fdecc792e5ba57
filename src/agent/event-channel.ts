// The executor's current event stream as the agent holds it (upstream `Executor::http`): at most
// one at a time, the HEARTBEAT timer that goes with it, and the accounting of every event sent
// or lost (an event for an executor with no live stream is lost, as upstream's are).
import type { ServerResponse } from 'node:http';
import type { EventEmitter } from 'eventemitter3';
import type { Codec } from '../protocol/codec.js';
import type { Event } from '../proto/types.js';
import type { AgentCounters, LocalAgentEvents } from './events.js';
import { AgentEventStream, type StreamCloseReason } from './agent-event-stream.js';

/** What sendGarbage writes on the stream. */
export type GarbageKind = 'bad-length' | 'bad-record';

type Counters = { -readonly [K in 'eventsSent' | 'eventsLost' | 'heartbeatsSent']: AgentCounters[K] };

export class EventChannel {
  #stream: AgentEventStream | undefined;
  #heartbeat: NodeJS.Timeout | undefined;
  readonly #heartbeatIntervalMs: number;
  readonly #counters: Counters;
  readonly #events: EventEmitter<LocalAgentEvents>;

  constructor(heartbeatIntervalMs: number, counters: Counters, events: EventEmitter<LocalAgentEvents>) {
    this.#heartbeatIntervalMs = heartbeatIntervalMs;
    this.#counters = counters;
    this.#events = events;
  }

  get open(): boolean {
    return this.#stream?.open === true;
  }

  /**
   * A new subscription's stream: the previous one ends (its body finished), the 200 head goes
   * out at once. Events go on it only once {@link attach}ed.
   */
  open200(res: ServerResponse, codec: Codec): AgentEventStream {
    this.close('resubscribed', 'end');
    const stream: AgentEventStream = new AgentEventStream(res, codec, (reason) => this.#closed(stream, reason));
    return stream;
  }

  /** The stream becomes the current one; the first HEARTBEAT comes one interval later, as upstream's heartbeater starts. */
  attach(stream: AgentEventStream): void {
    this.#stream = stream;
    this.#stopHeartbeat();
    this.#heartbeat = setInterval(() => {
      if (this.#stream !== stream) return;
      if (this.#sendOn(stream, { type: 'HEARTBEAT' })) this.#counters.heartbeatsSent++;
    }, this.#heartbeatIntervalMs);
    this.#heartbeat.unref();
  }

  /** Slave::subscribe for a terminating executor: a stream that carries only SHUTDOWN, then ends. */
  shutdownOnly(res: ServerResponse, codec: Codec): void {
    const stream = new AgentEventStream(res, codec, () => {});
    this.#sendOn(stream, { type: 'SHUTDOWN' });
    stream.end('shutdown-only');
  }

  /** Writes an event on the current stream; false when it was lost. */
  send(event: Event): boolean {
    const stream = this.#stream;
    if (stream !== undefined) return this.#sendOn(stream, event);
    this.#counters.eventsLost++;
    if (this.#events.listenerCount('event') > 0) this.#events.emit('event', { event, delivered: false });
    return false;
  }

  #sendOn(stream: AgentEventStream, event: Event): boolean {
    const delivered = stream.send(event);
    if (delivered) this.#counters.eventsSent++;
    else this.#counters.eventsLost++;
    if (this.#events.listenerCount('event') > 0) this.#events.emit('event', { event, delivered });
    return delivered;
  }

  /** `'end'` finishes the chunked body, `'destroy'` resets the connection. */
  close(reason: StreamCloseReason, mode: 'end' | 'destroy'): void {
    const stream = this.#stream;
    if (stream === undefined) return;
    if (mode === 'end') stream.end(reason);
    else stream.destroy(reason);
  }

  /** Stops writing but keeps the connection open. False without an open stream. */
  goSilent(): boolean {
    if (this.#stream?.open !== true) return false;
    this.#stream.goSilent();
    return true;
  }

  /** Garbage on the stream: a length prefix that is not a number, a record that does not decode, or the bytes given. */
  sendGarbage(garbage: GarbageKind | Uint8Array): boolean {
    const stream = this.#stream;
    if (stream?.open !== true) return false;
    let bytes: Uint8Array;
    if (garbage === 'bad-length') {
      bytes = Buffer.from('12x\n{}');
    } else if (garbage === 'bad-record') {
      // JSON: not JSON. Protobuf: field 1 with wire type 7, which does not exist.
      const payload = stream.codec.contentType === 'application/json' ? Buffer.from('{"type":') : Buffer.from([0x0f, 0xff, 0xff]);
      bytes = Buffer.concat([Buffer.from(`${payload.length}\n`), payload]);
    } else {
      bytes = garbage;
    }
    return stream.sendRaw(bytes);
  }

  #closed(stream: AgentEventStream, reason: StreamCloseReason): void {
    if (this.#stream !== stream) return;
    this.#stream = undefined;
    this.#stopHeartbeat();
    this.#events.emit('streamClosed', reason);
  }

  #stopHeartbeat(): void {
    if (this.#heartbeat !== undefined) clearInterval(this.#heartbeat);
    this.#heartbeat = undefined;
  }
}
