// Layer (b) of the dispatch benchmark: an in-process ExecutorDriver with no network (adapted
// from test/helpers/stub-driver.ts), counting instead of recording so that it costs nothing.
import { Status, type ExecutorDriver, type StatusUpdateInput } from '../../src/executor.js';
import { isTerminalState } from '../../src/proto/types.js';

export class CountingDriver implements ExecutorDriver {
  updates = 0;
  terminals = 0;
  failed = 0;
  status: Status = Status.DRIVER_RUNNING;
  readonly shutdownGracePeriodMs = 5_000;
  #waiters: Array<{ count: number; resolve: () => void }> = [];

  start(): Promise<Status> {
    return Promise.resolve(this.status);
  }
  stop(): Promise<Status> {
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
    this.updates++;
    if (isTerminalState(status.state)) {
      this.terminals++;
      if (status.state !== 'TASK_FINISHED') this.failed++;
      if (this.#waiters.length > 0 && this.#waiters[0]!.count <= this.terminals) this.#waiters.shift()!.resolve();
    }
    return this.status;
  }
  sendFrameworkMessage(): Status {
    return this.status;
  }
  awaitAcknowledgements(): Promise<boolean> {
    return Promise.resolve(true);
  }
  /** Resolves once `count` terminal updates have been sent in total. */
  untilTerminals(count: number): Promise<void> {
    if (this.terminals >= count) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push({ count, resolve }));
  }
}
