// A small Executor for driver tests: records every callback in order and, for each launched
// task, runs a scripted behaviour chosen by the task's data (plain text):
//   "finish"        -> TASK_RUNNING then TASK_FINISHED
//   "run"           -> TASK_RUNNING only (the task stays running)
//   anything else   -> nothing (the test drives updates itself)
// On killTask it sends TASK_KILLED; on shutdown it kills every running task, waits for the
// acknowledgements (bounded) and stops the driver, like a well-behaved executor.
import type { Executor, ExecutorDriver } from '../../src/executor.js';
import type { AgentInfo, ExecutorInfo, FrameworkInfo, KillPolicy, TaskID, TaskInfo } from '../../src/proto/types.js';

export type Recorded =
  | { callback: 'registered'; executorInfo: ExecutorInfo; frameworkInfo: FrameworkInfo; agentInfo: AgentInfo }
  | { callback: 'reregistered'; agentInfo: AgentInfo; frameworkInfo: FrameworkInfo | undefined }
  | { callback: 'disconnected' }
  | { callback: 'launchTask'; task: TaskInfo }
  | { callback: 'killTask'; taskId: TaskID; killPolicy: KillPolicy | undefined }
  | { callback: 'frameworkMessage'; data: Uint8Array }
  | { callback: 'shutdown' }
  | { callback: 'error'; message: string };

export interface RecordingExecutorOptions {
  /** Milliseconds each launchTask callback takes (an async callback) — for ordering tests. */
  launchDelayMs?: number;
  /** Called for each callback after it is recorded. */
  onCallback?: (record: Recorded) => void;
  /** How long shutdown waits for acknowledgements (default 2000 ms). */
  ackWaitMs?: number;
}

export class RecordingExecutor implements Executor {
  readonly records: Recorded[] = [];
  readonly running = new Set<string>();
  readonly #options: RecordingExecutorOptions;

  constructor(options: RecordingExecutorOptions = {}) {
    this.#options = options;
  }

  names(): string[] {
    return this.records.map((r) => r.callback);
  }

  #record(r: Recorded): void {
    this.records.push(r);
    this.#options.onCallback?.(r);
  }

  registered(_d: ExecutorDriver, executorInfo: ExecutorInfo, frameworkInfo: FrameworkInfo, agentInfo: AgentInfo): void {
    this.#record({ callback: 'registered', executorInfo, frameworkInfo, agentInfo });
  }

  reregistered(_d: ExecutorDriver, agentInfo: AgentInfo, frameworkInfo?: FrameworkInfo): void {
    this.#record({ callback: 'reregistered', agentInfo, frameworkInfo });
  }

  disconnected(): void {
    this.#record({ callback: 'disconnected' });
  }

  async launchTask(driver: ExecutorDriver, task: TaskInfo): Promise<void> {
    this.#record({ callback: 'launchTask', task });
    if (this.#options.launchDelayMs !== undefined) {
      await new Promise((resolve) => setTimeout(resolve, this.#options.launchDelayMs));
    }
    const script = task.data === undefined ? '' : Buffer.from(task.data).toString('utf8');
    if (script === 'finish' || script === 'run') {
      driver.sendStatusUpdate({ task_id: task.task_id, state: 'TASK_RUNNING' });
      this.running.add(task.task_id.value);
    }
    if (script === 'finish') {
      driver.sendStatusUpdate({ task_id: task.task_id, state: 'TASK_FINISHED', data: Buffer.from(`done ${task.task_id.value}`) });
      this.running.delete(task.task_id.value);
    }
  }

  killTask(driver: ExecutorDriver, taskId: TaskID, killPolicy?: KillPolicy): void {
    this.#record({ callback: 'killTask', taskId, killPolicy });
    if (this.running.delete(taskId.value)) {
      driver.sendStatusUpdate({ task_id: taskId, state: 'TASK_KILLED', message: 'killed on request' });
    }
  }

  frameworkMessage(driver: ExecutorDriver, data: Uint8Array): void {
    this.#record({ callback: 'frameworkMessage', data });
    // Echo it back, so tests see both directions.
    driver.sendFrameworkMessage(Buffer.concat([Buffer.from('echo:'), data]));
  }

  async shutdown(driver: ExecutorDriver): Promise<void> {
    this.#record({ callback: 'shutdown' });
    for (const id of this.running) {
      driver.sendStatusUpdate({ task_id: { value: id }, state: 'TASK_KILLED', message: 'executor shutting down' });
    }
    this.running.clear();
    await driver.awaitAcknowledgements(this.#options.ackWaitMs ?? 2000);
    await driver.stop();
  }

  error(_d: ExecutorDriver, message: string): void {
    this.#record({ callback: 'error', message });
  }
}
