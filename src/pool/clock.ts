/**
 * The timer functions the pool's helpers need (the same shape as the driver's Clock, declared
 * here because the pool never imports the driver). Tests pass a fake.
 */
export interface Clock {
  /** Monotonic milliseconds. */
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** Real, monotonic time. Timers are unref'ed: a pending progress flush or escalation never keeps a finished process alive by itself (the task's MessagePort does while the task runs). */
export const systemClock: Clock = Object.freeze({
  now: () => performance.now(),
  setTimeout: (fn: () => void, ms: number): unknown => setTimeout(fn, ms).unref(),
  clearTimeout: (handle: unknown): void => clearTimeout(handle as ReturnType<typeof setTimeout>),
});
