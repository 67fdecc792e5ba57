/**
 * The timer functions time-driven helpers depend on (reconnect backoff, the liveness
 * watchdog, progress rate limiting, kill escalation), so tests can drive them with a fake clock.
 */
export interface Clock {
  /** Monotonic milliseconds. */
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/**
 * Real time, monotonic (`performance.now()`, immune to wall-clock jumps). Timers are not
 * unref'd: while the driver waits to retry a SUBSCRIBE its timer may be all that keeps the
 * process alive. Whoever sets a timer clears it when it stops.
 */
export const systemClock: Clock = Object.freeze({
  now: () => performance.now(),
  setTimeout: (fn: () => void, ms: number): unknown => setTimeout(fn, ms),
  clearTimeout: (handle: unknown): void => clearTimeout(handle as ReturnType<typeof setTimeout>),
});

/**
 * Like {@link systemClock}, but a pending timer never keeps a finished process alive by itself
 * (a progress flush, a kill escalation: a running task's MessagePort keeps the process up while
 * it matters).
 */
export const backgroundClock: Clock = Object.freeze({
  now: () => performance.now(),
  setTimeout: (fn: () => void, ms: number): unknown => setTimeout(fn, ms).unref(),
  clearTimeout: (handle: unknown): void => clearTimeout(handle as ReturnType<typeof setTimeout>),
});

/** The longest delay Node's `setTimeout` honours; a longer one (or a non-number) fires after 1 ms. */
export const MAX_TIMER_DELAY_MS = 2 ** 31 - 1;

interface LongTimer {
  inner: unknown;
}

/**
 * `clock` with timers of any length: a delay past {@link MAX_TIMER_DELAY_MS} is waited out in
 * steps of at most that, re-armed from `clock.now()`, so it fires once, when due, and never
 * becomes Node's 1 ms timer (a kill grace of 30 days set straight on `setTimeout` fired at once,
 * was found not due, and was re-armed: a 1 ms loop for the whole grace). `Infinity` never fires
 * (it waits in 24.8-day steps); `NaN` and negative delays are 0. Every timer of the pool goes
 * through one of these; clear its handles with its own `clearTimeout`.
 */
export function withLongTimers(clock: Clock): Clock {
  return Object.freeze({
    now: () => clock.now(),
    setTimeout(fn: () => void, ms: number): unknown {
      const timer: LongTimer = { inner: undefined };
      const due = clock.now() + (ms > 0 ? ms : 0);
      const arm = (): void => {
        const remaining = due - clock.now();
        timer.inner = remaining > MAX_TIMER_DELAY_MS ? clock.setTimeout(arm, MAX_TIMER_DELAY_MS) : clock.setTimeout(fn, Math.max(0, remaining));
      };
      arm();
      return timer;
    },
    clearTimeout(handle: unknown): void {
      if (typeof handle === 'object' && handle !== null && 'inner' in handle) clock.clearTimeout((handle as LongTimer).inner);
    },
  });
}
