import type { Clock } from '../clock.js';

/**
 * Notices a half-open event stream: a socket that stays open while the agent is gone sends
 * nothing, and TCP may not tell us for hours. Once armed, if no byte arrives for `timeoutMs`,
 * `onTimeout` fires once.
 *
 * Activity is a timestamp, not a timer reset: the stream may carry thousands of events a
 * second and re-arming a timer per chunk would cost more than the check.
 */
export class LivenessWatchdog {
  readonly #timers: Clock;
  readonly #timeoutMs: number;
  readonly #onTimeout: () => void;
  #lastActivity = 0;
  #handle: unknown;
  #armed = false;

  constructor(timers: Clock, timeoutMs: number, onTimeout: () => void) {
    this.#timers = timers;
    this.#timeoutMs = timeoutMs;
    this.#onTimeout = onTimeout;
  }

  get isArmed(): boolean {
    return this.#armed;
  }

  /** Starts watching (again), counting from now. */
  arm(): void {
    this.disarm();
    this.#armed = true;
    this.#lastActivity = this.#timers.now();
    this.#schedule(this.#timeoutMs);
  }

  /** Records that bytes arrived. */
  activity(): void {
    this.#lastActivity = this.#timers.now();
  }

  disarm(): void {
    this.#armed = false;
    if (this.#handle !== undefined) this.#timers.clearTimeout(this.#handle);
    this.#handle = undefined;
  }

  #schedule(ms: number): void {
    this.#handle = this.#timers.setTimeout(() => this.#check(), ms);
  }

  #check(): void {
    this.#handle = undefined;
    if (!this.#armed) return;
    const silentFor = this.#timers.now() - this.#lastActivity;
    if (silentFor >= this.#timeoutMs) {
      this.#armed = false;
      this.#onTimeout();
    } else {
      this.#schedule(this.#timeoutMs - silentFor);
    }
  }
}
