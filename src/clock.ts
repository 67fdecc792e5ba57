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
