// Waiting for conditions in tests without fixed sleeps: poll a predicate until it holds, or wait
// for an event, each bounded by a timeout whose error says what was awaited.

export interface WaitOptions {
  /** Give up after this long. Default 5000 ms. */
  timeoutMs?: number;
  /** What is awaited, for the timeout message (e.g. "the executor to subscribe"). */
  what?: string;
  /** Poll interval for {@link waitFor}. Default 5 ms. */
  intervalMs?: number;
}

/** A value that counts as "the condition holds": anything but undefined, null and false. */
type Truthy<T> = Exclude<T, undefined | null | false>;

/**
 * Polls `predicate` until it returns a value other than `undefined`, `null` or `false`, and
 * resolves with that value. A predicate that throws is retried (the condition is not met yet);
 * on timeout the last error is reported as the cause.
 */
export async function waitFor<T>(predicate: () => T | Promise<T>, options: WaitOptions = {}): Promise<Truthy<T>> {
  const timeoutMs = options.timeoutMs ?? 5000;
  const intervalMs = options.intervalMs ?? 5;
  const deadline = performance.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await predicate();
      if (value !== undefined && value !== null && value !== false) return value as Truthy<T>;
      lastError = undefined;
    } catch (error) {
      lastError = error;
    }
    if (performance.now() >= deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${options.what ?? 'a condition'}`, { cause: lastError });
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** Anything with on/off listener methods (node:events, eventemitter3). */
export interface Listenable<A extends unknown[]> {
  on(event: string, listener: (...args: A) => void): unknown;
  off(event: string, listener: (...args: A) => void): unknown;
}

/**
 * Resolves with the arguments of the next `event` for which `filter` holds (default: any);
 * rejects on timeout. Register it before triggering what emits the event.
 */
export function waitForEvent<A extends unknown[]>(
  emitter: Listenable<A>,
  event: string,
  options: WaitOptions & { filter?: (...args: A) => boolean } = {},
): Promise<A> {
  const timeoutMs = options.timeoutMs ?? 5000;
  return new Promise((resolve, reject) => {
    const listener = (...args: A): void => {
      if (options.filter !== undefined && !options.filter(...args)) return;
      clearTimeout(timer);
      emitter.off(event, listener);
      resolve(args);
    };
    const timer = setTimeout(() => {
      emitter.off(event, listener);
      reject(new Error(`timed out after ${timeoutMs} ms waiting for ${options.what ?? `the '${event}' event`}`));
    }, timeoutMs);
    emitter.on(event, listener);
  });
}

/** Rejects when `promise` has not settled within `timeoutMs`. */
export async function withTimeout<T>(promise: Promise<T>, options: WaitOptions = {}): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 5000;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${options.what ?? 'a promise'}`)), timeoutMs);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
