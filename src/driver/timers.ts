/** The timer functions helpers depend on, so tests can drive them with a fake clock. */
export interface Timers {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/**
 * Real timers. They are not unref'd: while the driver waits to retry a SUBSCRIBE its timer may
 * be all that keeps the process alive. The driver clears every timer when it terminates.
 */
export const realTimers: Timers = {
  now: () => performance.now(),
  setTimeout(fn, ms) {
    return setTimeout(fn, ms);
  },
  clearTimeout(handle) {
    clearTimeout(handle as NodeJS.Timeout);
  },
};
