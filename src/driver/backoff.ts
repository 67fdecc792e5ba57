// The reconnect policy of a checkpointing executor (PROTOCOL.md §7.4; upstream
// `src/executor/executor.cpp` `disconnected`, `backoff`, `_recoveryTimeout`): on the first
// disconnect start ONE recovery deadline, try at once, then keep trying after uniformly random
// delays in [0, backoffMax] until connected; if the deadline passes first, give up.
// It knows nothing of HTTP or the driver: time, randomness and the two outcomes are injected.
import { systemClock, withLongTimers, type Clock } from '../clock.js';
import * as is from '../validate.js';

export type { Clock };

/** One reconnection attempt, as handed to {@link ReconnectBackoffOptions.attempt}. */
export interface ReconnectAttempt {
  /** 1 for the immediate first attempt after a disconnect, then 2, 3, … */
  readonly number: number;
  /**
   * Aborted when this attempt is superseded by the next one (as upstream abandons a stale
   * connection attempt), when the recovery deadline passes, or on `cancel()`. Not aborted by
   * `onConnected()`: the attempt that connected stays valid.
   */
  readonly signal: AbortSignal;
}

export interface ReconnectBackoffOptions {
  /** MESOS_SUBSCRIPTION_BACKOFF_MAX in ms: the upper bound of the random delay between attempts. */
  readonly backoffMaxMs: number;
  /**
   * The least delay between two attempts after the first (default 0). The driver sets a floor so
   * that `MESOS_SUBSCRIPTION_BACKOFF_MAX=0secs` cannot turn into a connect storm.
   */
  readonly minDelayMs?: number;
  /** MESOS_RECOVERY_TIMEOUT in ms: how long after the first disconnect to keep trying. */
  readonly recoveryTimeoutMs: number;
  /**
   * Starts one connection attempt and returns at once; report success with `onConnected()`.
   * A failed attempt needs no report: the next one is already scheduled. Must not throw.
   */
  readonly attempt: (attempt: ReconnectAttempt) => void;
  /** The deadline passed without `onConnected()`: the executor should shut down (upstream injects SHUTDOWN). */
  readonly onRecoveryTimeout: () => void;
  /** Default {@link systemClock} (timers not unref'd: while reconnecting they may be all that keeps the process alive). */
  readonly clock?: Clock;
  /** Uniform in [0, 1); default `Math.random`. */
  readonly random?: () => number;
}

/**
 * - `idle`: connected, or never disconnected.
 * - `recovering`: disconnected; attempts are scheduled and the deadline is running.
 * - `expired`: the deadline passed; `onRecoveryTimeout` was called. Nothing is scheduled.
 * - `closed`: `cancel()` was called; every later call is ignored.
 */
export type ReconnectState = 'idle' | 'recovering' | 'expired' | 'closed';

/**
 * Drives reconnection for a checkpointing executor. The driver calls `onDisconnected()` only
 * when the policy applies: checkpointing is on and it had been connected (otherwise §7.4 says
 * shut down at once, which is the driver's business).
 */
export class ReconnectBackoff {
  readonly #backoffMaxMs: number;
  readonly #recoveryTimeoutMs: number;
  readonly #minDelayMs: number;
  readonly #attempt: (attempt: ReconnectAttempt) => void;
  readonly #onRecoveryTimeout: () => void;
  readonly #clock: Clock;
  readonly #random: () => number;

  #state: ReconnectState = 'idle';
  #deadline: number | null = null;
  #deadlineTimer: unknown = undefined;
  #attemptTimer: unknown = undefined;
  #attempts = 0;
  #current: AbortController | null = null;

  constructor(options: ReconnectBackoffOptions) {
    this.#backoffMaxMs = is.required(options.backoffMaxMs, 'backoffMaxMs', is.milliseconds());
    this.#recoveryTimeoutMs = is.required(options.recoveryTimeoutMs, 'recoveryTimeoutMs', is.milliseconds());
    this.#minDelayMs = is.optional(options.minDelayMs, 'minDelayMs', is.milliseconds()) ?? 0;
    is.required(options.attempt, 'attempt', is.func);
    is.required(options.onRecoveryTimeout, 'onRecoveryTimeout', is.func);
    this.#attempt = options.attempt;
    this.#onRecoveryTimeout = options.onRecoveryTimeout;
    // Waits of any length (a recovery timeout of days is one timer, see withLongTimers).
    this.#clock = withLongTimers(options.clock ?? systemClock);
    this.#random = options.random ?? Math.random;
  }

  get state(): ReconnectState {
    return this.#state;
  }

  /** Clock time at which recovery gives up, while recovering; else null. */
  get deadline(): number | null {
    return this.#deadline;
  }

  /** Attempts started since the current disconnect (kept after reconnecting, for logs). */
  get attempts(): number {
    return this.#attempts;
  }

  /**
   * The connection to the agent was lost. The first call starts the recovery deadline and an
   * immediate attempt (on a 0 ms timer, so the caller is never re-entered). Calls while already
   * recovering (an attempt failed) change nothing: the deadline is not restarted.
   * Returns true if this call started a recovery period.
   */
  onDisconnected(): boolean {
    if (this.#state !== 'idle') return false;
    this.#state = 'recovering';
    this.#attempts = 0;
    this.#deadline = this.#clock.now() + this.#recoveryTimeoutMs;
    // The immediate attempt is armed before the deadline so that, with a zero timeout, one
    // attempt still happens first (upstream calls connect() before its timer can fire).
    this.#scheduleAttempt(0);
    this.#armDeadline();
    return true;
  }

  /** Connected again: stops the attempts and the deadline. Also leaves `expired`. */
  onConnected(): void {
    if (this.#state === 'closed') return;
    this.#stopTimers();
    this.#current = null;
    this.#deadline = null;
    this.#state = 'idle';
  }

  /** Stops everything for good (the driver is stopping); later calls are ignored. */
  cancel(): void {
    if (this.#state === 'closed') return;
    this.#stopTimers();
    this.#abortCurrent();
    this.#deadline = null;
    this.#state = 'closed';
  }

  #scheduleAttempt(delayMs: number): void {
    this.#attemptTimer = this.#clock.setTimeout(() => this.#runAttempt(), delayMs);
  }

  #runAttempt(): void {
    this.#attemptTimer = undefined;
    if (this.#state !== 'recovering') return;
    this.#abortCurrent();
    const controller = new AbortController();
    this.#current = controller;
    this.#attempts += 1;
    // Scheduled before calling out, so the loop goes on whatever the attempt does.
    this.#scheduleAttempt(Math.max(this.#minDelayMs, this.#backoffMaxMs * this.#random()));
    this.#attempt({ number: this.#attempts, signal: controller.signal });
  }

  #armDeadline(): void {
    const remaining = (this.#deadline ?? 0) - this.#clock.now();
    this.#deadlineTimer = this.#clock.setTimeout(() => this.#deadlineReached(), Math.max(0, remaining));
  }

  #deadlineReached(): void {
    this.#deadlineTimer = undefined;
    if (this.#state !== 'recovering' || this.#deadline === null) return;
    if (this.#clock.now() < this.#deadline) {
      this.#armDeadline(); // a wait longer than one timer allows
      return;
    }
    this.#stopTimers();
    this.#abortCurrent();
    this.#deadline = null;
    this.#state = 'expired';
    this.#onRecoveryTimeout();
  }

  #stopTimers(): void {
    if (this.#attemptTimer !== undefined) this.#clock.clearTimeout(this.#attemptTimer);
    if (this.#deadlineTimer !== undefined) this.#clock.clearTimeout(this.#deadlineTimer);
    this.#attemptTimer = undefined;
    this.#deadlineTimer = undefined;
  }

  #abortCurrent(): void {
    this.#current?.abort();
    this.#current = null;
  }
}
