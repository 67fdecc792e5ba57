// An in-process ExecutorDriver for executor tests and benchmarks: records every status update and
// framework message, acknowledges on demand (at once by default), and counts stop() calls and
// terminal updates. No network. With `record: false` it only counts (the dispatch benchmark's
// layer (b), where recording would be part of what is measured).
import { Status, type ExecutorDriver, type StatusUpdateInput } from '../../src/executor.js';
import { isTerminalState, type TaskState } from '../../src/proto/types.js';

export interface RecordedUpdate extends StatusUpdateInput {
  /** Milliseconds (performance.now()) when it was sent. */
  readonly at: number;
}

export interface StubDriverOptions {
  /** awaitAcknowledgements resolves with this (default true) after `ackDelayMs`. */
  readonly acknowledge?: boolean;
  readonly ackDelayMs?: number;
  /** What the agent would have given as MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD (default 5000 ms, Mesos' default). */
  readonly shutdownGracePeriodMs?: number;
  /** Keep every update and message (default true); false: count terminal updates only, call no onUpdate listener. */
  readonly record?: boolean;
}

export class StubDriver implements ExecutorDriver {
  readonly updates: RecordedUpdate[] = [];
  readonly frameworkMessages: Uint8Array[] = [];
  readonly ackWaits: number[] = [];
  stopCalls = 0;
  /** How many updates had been sent when stop() was first called. */
  updatesAtStop: number | undefined;
  /** Terminal updates sent so far, recorded or not. */
  terminals = 0;
  status: Status = Status.DRIVER_RUNNING;
  readonly #options: StubDriverOptions;
  #onUpdate: Array<(update: RecordedUpdate) => void> = [];
  #terminalWaiters: Array<{ readonly count: number; readonly resolve: () => void }> = [];

  constructor(options: StubDriverOptions = {}) {
    this.#options = options;
  }

  get shutdownGracePeriodMs(): number {
    return this.#options.shutdownGracePeriodMs ?? 5_000;
  }

  start(): Promise<Status> {
    this.status = Status.DRIVER_RUNNING;
    return Promise.resolve(this.status);
  }

  stop(): Promise<Status> {
    this.stopCalls++;
    this.updatesAtStop ??= this.updates.length;
    this.status = Status.DRIVER_STOPPED;
    return Promise.resolve(this.status);
  }

  abort(): Promise<Status> {
    this.status = Status.DRIVER_ABORTED;
    return Promise.resolve(this.status);
  }

  join(): Promise<Status> {
    return Promise.resolve(this.status);
  }

  run(): Promise<Status> {
    return this.start();
  }

  sendStatusUpdate(status: StatusUpdateInput): Status {
    if (isTerminalState(status.state)) {
      this.terminals++;
      while (this.#terminalWaiters.length > 0 && this.#terminalWaiters[0]!.count <= this.terminals) this.#terminalWaiters.shift()!.resolve();
    }
    if (this.#options.record === false) return this.status;
    const update: RecordedUpdate = { ...status, at: performance.now() };
    this.updates.push(update);
    for (const listener of this.#onUpdate) listener(update);
    return this.status;
  }

  sendFrameworkMessage(data: Uint8Array): Status {
    if (this.#options.record !== false) this.frameworkMessages.push(data);
    return this.status;
  }

  async awaitAcknowledgements(timeoutMs: number): Promise<boolean> {
    this.ackWaits.push(timeoutMs);
    const delay = this.#options.ackDelayMs ?? 0;
    if (delay > 0) await new Promise((resolve) => setTimeout(resolve, Math.min(delay, timeoutMs)));
    return this.#options.acknowledge ?? true;
  }

  /** Resolves once `count` terminal updates have been sent in all (waiters in increasing order). */
  untilTerminals(count: number): Promise<void> {
    if (this.terminals >= count) return Promise.resolve();
    return new Promise((resolve) => this.#terminalWaiters.push({ count, resolve }));
  }

  onUpdate(listener: (update: RecordedUpdate) => void): void {
    this.#onUpdate.push(listener);
  }

  /** The updates of one task, in order. */
  of(taskId: string): RecordedUpdate[] {
    return this.updates.filter((u) => u.task_id.value === taskId);
  }

  /** The states of one task's updates, in order. */
  states(taskId: string): Array<TaskState | number> {
    return this.of(taskId).map((u) => u.state);
  }

  /** The task's terminal update, when it has one. */
  terminal(taskId: string): RecordedUpdate | undefined {
    return this.of(taskId).find((u) => isTerminalState(u.state));
  }

  /** Every task id with at least one update. */
  taskIds(): string[] {
    return [...new Set(this.updates.map((u) => u.task_id.value))];
  }
}
