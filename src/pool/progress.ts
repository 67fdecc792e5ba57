// Per-task progress rate limiting: a chatty job must not flood the agent (each update is an
// HTTP call, stored until acknowledged), yet the scheduler should see the latest state.
import type { Clock } from '../clock.js';

export const DEFAULT_PROGRESS_INTERVAL_MS = 250;

/**
 * Sends at most one value per `intervalMs`. A value offered too soon is held; a newer one
 * replaces it (latest wins) and is sent when the interval has passed. `close()` drops whatever
 * is held: nothing is sent after the task's terminal update.
 */
export class ProgressLimiter<T> {
  readonly #intervalMs: number;
  readonly #clock: Clock;
  readonly #send: (value: T) => void;
  #lastSentAt = Number.NEGATIVE_INFINITY;
  #held: { value: T } | undefined;
  #timer: unknown;
  #closed = false;

  constructor(intervalMs: number, clock: Clock, send: (value: T) => void) {
    this.#intervalMs = intervalMs;
    this.#clock = clock;
    this.#send = send;
  }

  /** True while a value waits for its turn. */
  get holding(): boolean {
    return this.#held !== undefined;
  }

  /** Counts an update sent by someone else (the first TASK_RUNNING), now or at clock time `at`, against the interval. */
  markSent(at: number = this.#clock.now()): void {
    this.#lastSentAt = at;
  }

  offer(value: T): void {
    if (this.#closed) return;
    const now = this.#clock.now();
    if (this.#timer === undefined && now - this.#lastSentAt >= this.#intervalMs) {
      this.#lastSentAt = now;
      this.#send(value);
      return;
    }
    this.#held = { value };
    if (this.#timer === undefined) {
      this.#timer = this.#clock.setTimeout(() => this.#flush(), this.#lastSentAt + this.#intervalMs - now);
    }
  }

  close(): void {
    this.#closed = true;
    this.#held = undefined;
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #flush(): void {
    this.#timer = undefined;
    if (this.#held === undefined || this.#closed) return;
    // Node's timers run on a millisecond loop clock and may fire a fraction of a millisecond
    // early by a finer clock: wait out the rest rather than send two updates too close.
    const now = this.#clock.now();
    const wait = this.#lastSentAt + this.#intervalMs - now;
    if (wait > 0) {
      this.#timer = this.#clock.setTimeout(() => this.#flush(), Math.ceil(wait));
      return;
    }
    const held = this.#held;
    this.#held = undefined;
    this.#lastSentAt = now;
    this.#send(held.value);
  }
}
