// The executor's connection to the agent as one state machine: the only place that decides what
// a refused SUBSCRIBE, a lost stream, a slow answer or an undecodable event means, with and
// without checkpointing. It follows upstream's library (`src/executor/executor.cpp`:
// `connect`, `connected`, `disconnected`, `backoff`, `_recoveryTimeout`, `_send`) and the
// command executor's reliable registration (`src/launcher/executor.cpp`):
//
// - Exactly one SUBSCRIBE is outstanding. One whose connection is up is never abandoned because
//   the agent is slow (it is busiest right after a restart, and a second SUBSCRIBE would make it
//   replay everything again and close the first stream, losing the LAUNCHes written on it). Only a
//   connection known dead is replaced: an error, a close, the liveness watchdog.
// - A SUBSCRIBE answered without a stream (503 while the agent recovers, 404 before its routes
//   exist, or any refusal) is sent again after 1 s; the agent is reachable, so this is not a
//   disconnection.
// - A connection lost after the agent was reached means: with checkpointing, one recovery
//   deadline and reconnection attempts; without, shutdown. A connection that never reached the
//   agent (the very first one) means shutdown either way.
import type { Clock } from '../clock.js';
import type { Logger } from '../log.js';
import { codecFor, type Codec, type ContentType } from '../protocol/codec.js';
import { RecordIODecoder } from '../protocol/recordio.js';
import type { Event } from '../proto/types.js';
import { ReconnectBackoff } from './backoff.js';
import type { DisconnectReason } from './events.js';
import type { OutboxEntry } from './outbox.js';
import type { AgentTransport, EventStream } from './transport.js';
import { LivenessWatchdog } from './watchdog.js';

/** An attached SUBSCRIBE response: the stream, its framing decoder and the codec it speaks. */
interface OpenStream {
  readonly stream: EventStream;
  readonly decoder: RecordIODecoder;
  readonly codec: Codec;
}

/**
 * - `idle`: not started.
 * - `subscribing`: a SUBSCRIBE is outstanding. `reached` once its connection is up (or the agent
 *   answered the previous one): from then on it is never superseded.
 * - `refused`: the agent answered the last SUBSCRIBE without a stream; another goes after a delay.
 * - `streaming`: 200 and a stream; waiting for SUBSCRIBED (bounded by a deadline).
 * - `subscribed`: SUBSCRIBED arrived on the current stream.
 * - `disconnected`: lost after reaching the agent, with checkpointing: the backoff is trying.
 * - `closed`: no more connections (stopped, or given up: the executor is shutting down).
 */
export type ConnectionState =
  | { readonly kind: 'idle' }
  | {
      readonly kind: 'subscribing';
      readonly attempt: number;
      readonly abort: AbortController;
      readonly carried: readonly OutboxEntry[];
      reached: boolean;
    }
  | { readonly kind: 'refused'; readonly timer: unknown }
  | { readonly kind: 'streaming'; readonly open: OpenStream; readonly carried: readonly OutboxEntry[]; readonly deadline: unknown }
  | { readonly kind: 'subscribed'; readonly open: OpenStream }
  | { readonly kind: 'disconnected' }
  | { readonly kind: 'closed' };

export type ConnectionStateKind = ConnectionState['kind'];

/** A SUBSCRIBE call ready to send, and the outbox entries it carries. */
export interface SubscribeCall {
  readonly body: Uint8Array;
  readonly carried: readonly OutboxEntry[];
  readonly tasks: number;
}

/** What the connection needs from the driver: narrow, so it can be tested alone. */
export interface ConnectionHost {
  /** Builds a SUBSCRIBE of everything unacknowledged now. */
  subscribeCall(): SubscribeCall;
  /** SUBSCRIBE sent (first, retry, or reconnection). */
  onSubscribing(info: { attempt: number; carriedUpdates: number; carriedTasks: number }): void;
  /** The agent answered a SUBSCRIBE without a stream, or the attempt failed to connect. */
  onSubscribeFailed(info: { status: number | undefined; body: string; message: string; willRetry: boolean }): void;
  /**
   * SUBSCRIBED arrived on the current stream: the agent took the updates the SUBSCRIBE carried.
   * `reconnected` is true after an earlier subscription.
   */
  onSubscribed(event: Event, carried: readonly OutboxEntry[], reconnected: boolean): void;
  /** Every event of the current stream after SUBSCRIBED (and before it, should an agent send any). */
  onEvent(event: Event): void;
  /** The current connection is lost. `wasSubscribed`: SUBSCRIBED had arrived on it. */
  onLost(info: { reason: DisconnectReason; message: string; wasSubscribed: boolean }): void;
  /** No connection will be tried again: the executor must shut down (upstream injects SHUTDOWN). */
  onGiveUp(reason: string): void;
}

export interface ConnectionOptions {
  readonly transport: AgentTransport;
  readonly host: ConnectionHost;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly contentType: ContentType;
  /** MESOS_CHECKPOINT: reconnect after a loss (with these bounds) instead of shutting down. */
  readonly checkpoint: { readonly backoffMaxMs: number; readonly recoveryTimeoutMs: number } | null;
  readonly random: () => number;
  readonly subscribeRetryIntervalMs: number;
  readonly subscribedTimeoutMs: number;
  /** Silence on the stream, once the agent has sent a HEARTBEAT, that means a dead connection. */
  readonly livenessTimeoutMs: number;
  readonly maxEventBytes: number;
}

/**
 * The least time between two reconnection attempts. Upstream waits uniformly in [0,
 * MESOS_SUBSCRIPTION_BACKOFF_MAX]; with a maximum of 0 that is a connect storm (1 813 attempts
 * in 3 s were measured here against a closed port), so the gap has a floor.
 */
export const MIN_RECONNECT_GAP_MS = 50;

export class AgentConnection {
  readonly #options: ConnectionOptions;
  readonly #host: ConnectionHost;
  readonly #codec: Codec;
  readonly #backoff: ReconnectBackoff | undefined;
  readonly #watchdog: LivenessWatchdog;
  #state: ConnectionState = { kind: 'idle' };
  #attempts = 0;
  #everSubscribed = false;
  #agentSendsHeartbeats = false;
  /** False once reconnecting would be pointless (an injected shutdown): a loss then closes. */
  #reconnect = true;

  constructor(options: ConnectionOptions) {
    this.#options = options;
    this.#host = options.host;
    this.#codec = codecFor(options.contentType);
    this.#backoff =
      options.checkpoint === null
        ? undefined
        : new ReconnectBackoff({
            clock: options.clock,
            random: options.random,
            backoffMaxMs: options.checkpoint.backoffMaxMs,
            minDelayMs: MIN_RECONNECT_GAP_MS,
            recoveryTimeoutMs: options.checkpoint.recoveryTimeoutMs,
            attempt: () => this.#backoffAttempt(),
            onRecoveryTimeout: () =>
              this.#giveUp(`could not reach the agent again within the recovery timeout (${options.checkpoint!.recoveryTimeoutMs} ms)`),
          });
    this.#watchdog = new LivenessWatchdog(options.clock, options.livenessTimeoutMs, () =>
      this.#lose('heartbeat-timeout', 'no bytes on the event stream for longer than the liveness timeout'),
    );
  }

  get state(): ConnectionStateKind {
    return this.#state.kind;
  }

  get subscribed(): boolean {
    return this.#state.kind === 'subscribed';
  }

  /** Sends the first SUBSCRIBE. */
  start(): void {
    if (this.#state.kind === 'idle') this.#subscribe(false);
  }

  /**
   * The agent told us, on a call, that it does not count us as subscribed (403 "Executor is not
   * subscribed": it restarted and our stream has not ended yet). `stream` is the stream that was
   * current when the call was sent; a later one is left alone.
   */
  notSubscribed(stream: EventStream | undefined, message: string): void {
    if (stream !== undefined && stream === this.currentStream) this.#lose('not-subscribed', message);
  }

  /** The stream calls are made under now (to tell a late answer from a current one). */
  get currentStream(): EventStream | undefined {
    const state = this.#state;
    return state.kind === 'streaming' || state.kind === 'subscribed' ? state.open.stream : undefined;
  }

  /**
   * The executor is shutting down because the agent is gone (injected shutdown): no more
   * reconnection attempts. A live connection is kept (terminal updates may still go out on it).
   */
  stopReconnecting(): void {
    this.#reconnect = false;
    this.#backoff?.cancel();
    if (this.#state.kind === 'disconnected' || this.#state.kind === 'refused') this.#enterClosed();
  }

  /** Closes everything for good. */
  close(): void {
    this.#reconnect = false;
    this.#backoff?.cancel();
    this.#enterClosed();
  }

  // ---- transitions ----

  #subscribe(reached: boolean): void {
    let call: SubscribeCall;
    try {
      call = this.#host.subscribeCall();
    } catch (error) {
      // Every update and task it carries was checked when recorded, so this is a bug; a
      // SUBSCRIBE that cannot be built would fail the same way every time: give up cleanly.
      this.#options.logger.error({ err: error }, 'cannot build a SUBSCRIBE');
      return this.#giveUp(`cannot build a SUBSCRIBE: ${errorMessage(error)}`);
    }
    const attempt = ++this.#attempts;
    const abort = new AbortController();
    const state: ConnectionState & { kind: 'subscribing' } = { kind: 'subscribing', attempt, abort, carried: call.carried, reached };
    this.#state = state;
    this.#host.onSubscribing({ attempt, carriedUpdates: call.carried.length, carriedTasks: call.tasks });
    const current = (): boolean => this.#state === state;
    this.#options.transport
      .subscribe(call.body, this.#options.contentType, abort.signal, () => {
        if (current()) this.#reached(state);
      })
      .then(
        (result) => {
          if (!current()) {
            if (result.ok) result.stream.close();
            return;
          }
          this.#reached(state);
          if (result.ok) this.#attach(result.stream, state.carried);
          else this.#refused(result.status, result.body);
        },
        (error: unknown) => {
          if (!current()) return;
          const message = errorMessage(error);
          // Reached: its connection was up, or the agent answered the SUBSCRIBE before it
          // (upstream would still hold that connection, and now have lost it).
          this.#host.onSubscribeFailed({ status: undefined, body: '', message, willRetry: this.#wouldReconnect(state.reached) });
          this.#lose('subscribe-failed', `SUBSCRIBE failed: ${message}`, state.reached);
        },
      );
  }

  /** The connection under a SUBSCRIBE is up: upstream's CONNECTED, which ends a recovery period. */
  #reached(state: ConnectionState & { kind: 'subscribing' }): void {
    state.reached = true;
    this.#backoff?.onConnected();
  }

  #refused(status: number, body: string): void {
    const transient = status === 503 || status === 404;
    const message = `agent answered ${status}${body === '' ? '' : ` (${body})`} to SUBSCRIBE`;
    if (transient) this.#options.logger.warn({ status, body }, 'SUBSCRIBE not served yet; retrying');
    else this.#options.logger.error({ status, body }, 'SUBSCRIBE refused; retrying, as upstream executors do');
    this.#host.onSubscribeFailed({ status, body, message, willRetry: this.#reconnect });
    if (!this.#reconnect) return this.#enterClosed();
    const timer = this.#options.clock.setTimeout(() => {
      if (this.#state.kind === 'refused' && this.#state.timer === timer) this.#subscribe(true);
    }, this.#options.subscribeRetryIntervalMs);
    this.#state = { kind: 'refused', timer };
  }

  #attach(stream: EventStream, carried: readonly OutboxEntry[]): void {
    const contentType = stream.contentType?.split(';')[0]?.trim();
    let codec = this.#codec;
    try {
      if (contentType !== undefined) codec = codecFor(contentType);
    } catch {
      // An agent answers in the encoding we accept; anything else will fail to decode below.
    }
    const open: OpenStream = { stream, decoder: new RecordIODecoder({ maxRecordBytes: this.#options.maxEventBytes }), codec };
    const deadline = this.#options.clock.setTimeout(() => {
      if (this.#state.kind === 'streaming' && this.#state.open === open) {
        this.#lose('subscribed-timeout', `no SUBSCRIBED within ${this.#options.subscribedTimeoutMs} ms of the SUBSCRIBE's 200`);
      }
    }, this.#options.subscribedTimeoutMs);
    this.#state = { kind: 'streaming', open, carried, deadline };
    stream.start({
      onData: (chunk) => this.#onData(open, chunk),
      onEnd: () => this.#loseStream(open, 'stream-ended', 'the agent closed the event stream'),
      onError: (error) => this.#loseStream(open, 'stream-error', error.message),
    });
    if (this.#agentSendsHeartbeats) this.#watchdog.arm();
  }

  #isCurrent(open: OpenStream): boolean {
    const state = this.#state;
    return (state.kind === 'streaming' || state.kind === 'subscribed') && state.open === open;
  }

  #onData(open: OpenStream, chunk: Uint8Array): void {
    if (!this.#isCurrent(open)) return;
    this.#watchdog.activity();
    let records: Uint8Array[];
    try {
      records = open.decoder.push(chunk);
    } catch (error) {
      return this.#lose('framing-error', errorMessage(error));
    }
    for (const record of records) {
      let event: Event;
      try {
        event = open.codec.decodeEvent(record);
      } catch (error) {
        // Upstream's library injects ERROR and stops reading the stream, which leaves it deaf
        // until the agent kills it; a lost connection (resubscribe, or shutdown) is better.
        return this.#lose('decode-error', errorMessage(error));
      }
      this.#onEvent(open, event);
      // An event may have ended this stream (ERROR, SHUTDOWN handling, a listener's stop).
      if (!this.#isCurrent(open)) return;
    }
  }

  #onEvent(open: OpenStream, event: Event): void {
    const state = this.#state;
    if (event.type === 'SUBSCRIBED' && state.kind === 'streaming') {
      const subscribed = event.subscribed;
      if (subscribed?.executor_info === undefined || subscribed.framework_info === undefined || subscribed.agent_info === undefined) {
        this.#options.logger.warn({ type: 'SUBSCRIBED' }, 'ignoring a SUBSCRIBED without executor_info, framework_info or agent_info');
        return;
      }
      this.#options.clock.clearTimeout(state.deadline);
      this.#state = { kind: 'subscribed', open };
      const reconnected = this.#everSubscribed;
      this.#everSubscribed = true;
      this.#host.onSubscribed(event, state.carried, reconnected);
      return;
    }
    if (event.type === 'HEARTBEAT' && !this.#agentSendsHeartbeats) {
      // Agents before 1.8 send none; once one has, silence means a dead connection.
      this.#agentSendsHeartbeats = true;
      this.#watchdog.arm();
    }
    this.#host.onEvent(event);
  }

  #loseStream(open: OpenStream, reason: DisconnectReason, message: string): void {
    if (this.#isCurrent(open)) this.#lose(reason, message);
  }

  /**
   * The current connection is gone. `connected`: it had reached the agent (upstream's
   * `disconnected` with state CONNECTED, SUBSCRIBING or SUBSCRIBED).
   */
  #lose(reason: DisconnectReason, message: string, connected = true): void {
    const state = this.#state;
    if (state.kind === 'closed' || state.kind === 'idle') return;
    const wasSubscribed = state.kind === 'subscribed';
    this.#leave(state);
    this.#state = { kind: 'disconnected' };
    if (state.kind !== 'subscribing') {
      // A failed SUBSCRIBE was reported as such (onSubscribeFailed); a stream is a connection lost.
      this.#options.logger.warn({ reason, message }, 'disconnected from the agent');
      this.#host.onLost({ reason, message, wasSubscribed });
      if (this.#state.kind !== 'disconnected') return; // the host closed us
    }
    if (this.#backoff?.state === 'recovering') return; // a reconnection attempt failed: keep trying
    if (this.#wouldReconnect(connected)) {
      this.#backoff!.onDisconnected();
      return;
    }
    this.#giveUp(
      this.#backoff === undefined
        ? `lost the agent (${message}) and the framework does not checkpoint`
        : `could not connect to the agent: ${message}`,
    );
  }

  #wouldReconnect(connected: boolean): boolean {
    if (this.#backoff?.state === 'recovering') return true;
    return this.#backoff !== undefined && this.#reconnect && connected;
  }

  #backoffAttempt(): void {
    const state = this.#state;
    // Upstream's backoff() does nothing while a connection is up; a connection attempt still
    // pending is replaced by a new one.
    if (state.kind === 'subscribing' && !state.reached) {
      state.abort.abort();
      this.#subscribe(false);
    } else if (state.kind === 'disconnected') {
      this.#subscribe(false);
    }
  }

  #giveUp(reason: string): void {
    this.#reconnect = false;
    this.#backoff?.cancel();
    this.#enterClosed();
    this.#host.onGiveUp(reason);
  }

  #enterClosed(): void {
    this.#leave(this.#state);
    this.#state = { kind: 'closed' };
  }

  /** Releases what a state holds. */
  #leave(state: ConnectionState): void {
    switch (state.kind) {
      case 'subscribing':
        state.abort.abort();
        break;
      case 'refused':
        this.#options.clock.clearTimeout(state.timer);
        break;
      case 'streaming':
        this.#options.clock.clearTimeout(state.deadline);
        state.open.stream.close();
        this.#watchdog.disarm();
        break;
      case 'subscribed':
        state.open.stream.close();
        this.#watchdog.disarm();
        break;
      default:
        break;
    }
  }
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

