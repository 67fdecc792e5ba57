import type { CallbackResult } from '../executor.js';

/** A unit of work for the loop: a named callback invocation. */
export interface LoopTask {
  /** The Executor callback's name, for timing and error reports. */
  readonly name: string;
  readonly run: () => CallbackResult;
}

export interface SerialLoopHooks {
  /** Called after each task settles, with its duration (including any awaited promise). */
  onDone?(name: string, durationMs: number): void;
  /** Called when a task throws or its promise rejects. The loop goes on with the next task. */
  onError?(name: string, error: unknown): void;
}

/**
 * Runs tasks one at a time, in the order they were queued. A task that returns a promise is
 * awaited before the next one starts; a synchronous task runs inline, so a burst of events
 * costs no extra microtask per callback. Errors never escape: they go to `onError`.
 */
export class SerialLoop {
  readonly #hooks: SerialLoopHooks;
  #queue: LoopTask[] = [];
  #head = 0;
  #running = false;
  #closed = false;
  #idleWaiters: Array<() => void> = [];

  constructor(hooks: SerialLoopHooks = {}) {
    this.#hooks = hooks;
  }

  /** Tasks queued and not yet started. */
  get pending(): number {
    return this.#queue.length - this.#head;
  }

  /** True while a task is running (including one awaiting its promise). */
  get busy(): boolean {
    return this.#running;
  }

  enqueue(task: LoopTask): void {
    if (this.#closed) return;
    this.#queue.push(task);
    if (!this.#running) this.#drain();
  }

  /**
   * Drops every queued task and refuses new ones. A task already running finishes; no other
   * starts after it. Used when the driver stops or aborts: no more callbacks.
   */
  close(): void {
    this.#closed = true;
    this.#queue = [];
    this.#head = 0;
    if (!this.#running) this.#notifyIdle();
  }

  /**
   * Drops every queued task, queues `last`, and refuses new ones: `last` is the final
   * callback (the `error` callback after an abort).
   */
  closeWith(last: LoopTask): void {
    this.#queue = [last];
    this.#head = 0;
    this.#closed = true;
    if (!this.#running) this.#drain();
  }

  /** Resolves once nothing is running or queued. */
  idle(): Promise<void> {
    if (!this.#running && this.pending === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  #drain(): void {
    this.#running = true;
    while (this.#head < this.#queue.length) {
      const task = this.#queue[this.#head]!;
      this.#head++;
      if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
        this.#queue = this.#queue.slice(this.#head);
        this.#head = 0;
      }
      const started = performance.now();
      let result: CallbackResult;
      try {
        result = task.run();
      } catch (error) {
        this.#report(task.name, error);
        this.#done(task.name, started);
        continue;
      }
      if (result !== undefined && typeof (result as Promise<void>).then === 'function') {
        (result as Promise<void>).then(
          () => this.#resume(task.name, started),
          (error: unknown) => {
            this.#report(task.name, error);
            this.#resume(task.name, started);
          },
        );
        return;
      }
      this.#done(task.name, started);
    }
    this.#running = false;
    this.#notifyIdle();
  }

  #resume(name: string, started: number): void {
    this.#done(name, started);
    this.#drain();
  }

  #done(name: string, started: number): void {
    try {
      this.#hooks.onDone?.(name, performance.now() - started);
    } catch {
      // A failing timing hook must not stop the loop.
    }
  }

  #report(name: string, error: unknown): void {
    try {
      this.#hooks.onError?.(name, error);
    } catch {
      // A failing error hook must not stop the loop.
    }
  }

  #notifyIdle(): void {
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const resolve of waiters) resolve();
  }
}
