// Delivery of recorded status updates: the UPDATE call, what each answer means, the retry
// timer, and the replacement of an update the agent refused. The outbox decides WHEN an update
// may go (one per task in flight, only while subscribed); this decides what follows its answer.
import type { EventEmitter } from 'eventemitter3';
import { ConnectionError } from '../errors.js';
import type { Clock } from '../clock.js';
import type { Logger } from '../log.js';
import type { ContentType } from '../protocol/codec.js';
import type { TaskStatus } from '../proto/types.js';
import type { DriverEvents } from './events.js';
import { quoteAnswer } from './quote.js';
import type { Outbox, OutboxEntry } from './outbox.js';
import type { AgentTransport, EventStream } from './transport.js';

type Emit = EventEmitter<DriverEvents>['emit'];

export interface UpdateDeliveryOptions {
  readonly outbox: Outbox;
  readonly transport: AgentTransport;
  readonly contentType: ContentType;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly retryIntervalMs: number;
  readonly emit: Emit;
  /** The stream calls are made under now; a late answer must not act on a newer one. */
  readonly currentStream: () => EventStream | undefined;
  /** The agent said 403 "Executor is not subscribed" to a call made under `stream`. */
  readonly notSubscribed: (stream: EventStream | undefined, message: string) => void;
  /** Reports a refusal (log, event) and returns the message describing it. */
  readonly refused: (status: number, body: string, taskId: string) => string;
  /** A minimal update standing in for `refused`, stamped and encoded; throws if it cannot be. */
  readonly replacement: (refused: TaskStatus, message: string) => { status: TaskStatus & { uuid: Uint8Array }; body: Uint8Array };
}

export class UpdateDelivery {
  readonly #options: UpdateDeliveryOptions;
  #retryTimer: unknown;
  #closed = false;

  constructor(options: UpdateDeliveryOptions) {
    this.#options = options;
  }

  /** Sends one UPDATE (the outbox calls this when the entry may go). */
  send(entry: OutboxEntry): void {
    const { transport, contentType } = this.#options;
    const stream = this.#options.currentStream();
    transport.call(entry.body, contentType).then(
      (result) => this.#answered(entry, result.status, result.body, stream),
      (error: unknown) => {
        if (this.#closed) return;
        if (error instanceof ConnectionError && error.framing) {
          // Answers stopped matching calls: an earlier 202 may have been another call's (or
          // nobody's), so any update not yet acknowledged may not have reached the agent. Send
          // them all again; the agent deduplicates by uuid.
          this.#options.logger.warn({ err: error }, 'call answers out of step with calls; resending every unacknowledged update');
          this.#options.outbox.requeueUnacknowledged();
        } else {
          this.#options.logger.warn({ taskId: entry.taskId, err: error }, 'UPDATE failed to send; will retry');
        }
        this.#retry(entry, undefined);
      },
    );
  }

  /** Stops retrying (the driver is done). */
  close(): void {
    this.#closed = true;
    if (this.#retryTimer !== undefined) this.#options.clock.clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
  }

  #answered(entry: OutboxEntry, status: number, body: string, stream: EventStream | undefined): void {
    if (this.#closed) return;
    const { outbox } = this.#options;
    if (status === 202) {
      const wasAccepted = entry.phase === 'accepted';
      outbox.markAccepted(entry);
      if (!wasAccepted) this.#options.emit('updateSent', { taskId: entry.taskId, state: entry.update.status.state, uuid: entry.uuidKey });
      return;
    }
    if (status === 503 || status === 404) {
      // Recovering, or routes not installed yet: the same bytes will be taken later.
      return this.#retry(entry, status);
    }
    if (status === 403 && body.includes('not subscribed')) {
      // The agent no longer counts us as subscribed (it restarted and our stream has not ended
      // yet): the update rides on the resubscribe.
      outbox.markUnsent(entry);
      this.#options.notSubscribed(stream, `agent answered 403 (${quoteAnswer(body)}) to UPDATE`);
      return;
    }
    this.#refusedForGood(entry, status, body);
  }

  /**
   * The agent will never take these bytes (400, 401, 413, 415, 500, …). Upstream's library
   * reports the refusal and its executors log it and go on; so do we, and nothing else is
   * affected. So that the task still reaches its state (exactly one terminal update), the
   * refused update is replaced once by a minimal one (state, reason, a message saying why;
   * none of the job's data, labels or message), unless a later update of the task is already
   * recorded. A refused replacement is dropped.
   */
  #refusedForGood(entry: OutboxEntry, status: number, body: string): void {
    const { outbox, emit } = this.#options;
    const message = this.#options.refused(status, body, entry.taskId);
    outbox.remove(entry);
    const refused = entry.update.status;
    const replace = !entry.replacement && !outbox.hasLaterUnsent(entry);
    emit('updateRefused', { taskId: entry.taskId, state: refused.state, uuid: entry.uuidKey, status, replaced: replace });
    if (!replace) return;
    try {
      const { status: stand, body: encoded } = this.#options.replacement(refused, message);
      const recorded = outbox.record(stand, encoded, true);
      emit('updateRecorded', { taskId: recorded.taskId, state: stand.state, uuid: recorded.uuidKey });
    } catch (error) {
      this.#options.logger.error({ taskId: entry.taskId, err: error }, 'could not record a replacement for a refused update');
    }
  }

  #retry(entry: OutboxEntry, status: number | undefined): void {
    this.#options.outbox.markUnsent(entry);
    if (this.#closed) return;
    this.#options.emit('updateRetry', { taskId: entry.taskId, uuid: entry.uuidKey, status });
    // One timer for all retries: after it, every task's oldest unsent update goes again.
    if (this.#retryTimer !== undefined) return;
    this.#retryTimer = this.#options.clock.setTimeout(() => {
      this.#retryTimer = undefined;
      this.#options.outbox.flush();
    }, this.#options.retryIntervalMs);
  }
}
