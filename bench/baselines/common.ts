// Shared by the two baseline executors: payload parsing and the command-line entry that runs
// an Executor under the same MesosExecutorDriver as ours (same wire, same reliability).
import { parseArgs } from 'node:util';
import { MesosExecutorDriver } from '../../src/driver/driver.js';
import { readExecutorEnvironment } from '../../src/driver/executor-environment.js';
import { Status, type Executor, type ExecutorDriver } from '../../src/executor.js';
import { createLogger, type LogLevel } from '../../src/log.js';
import type { TaskInfo } from '../../src/proto/types.js';

export interface Payload {
  readonly job: string;
  readonly input: unknown;
}

/** `{"job", "input"}` from TaskInfo.data, or a message saying what is wrong. */
export function readPayload(task: TaskInfo): Payload | string {
  if (task.data === undefined) return 'task has no data';
  try {
    const value = JSON.parse(Buffer.from(task.data.buffer, task.data.byteOffset, task.data.byteLength).toString('utf8')) as Partial<Payload>;
    if (typeof value !== 'object' || value === null || typeof value.job !== 'string') return 'payload has no string "job"';
    return { job: value.job, input: value.input };
  } catch (error) {
    return `payload is not JSON: ${(error as Error).message}`;
  }
}

export function refuse(driver: ExecutorDriver, task: TaskInfo, message: string): void {
  driver.sendStatusUpdate({ task_id: task.task_id, state: 'TASK_ERROR', message });
}

export interface BaselineArgs {
  readonly threads: number;
  readonly logLevel: LogLevel;
}

export function parseBaselineArgs(): BaselineArgs {
  const { values } = parseArgs({ options: { threads: { type: 'string' }, 'log-level': { type: 'string' } } });
  return { threads: Number(values.threads ?? 1), logLevel: (values['log-level'] ?? 'info') as LogLevel };
}

/** Runs `executor` under the driver from the agent's environment, as the real command does; exits. */
export async function runExecutor(executor: Executor, args: BaselineArgs): Promise<never> {
  const logger = createLogger(args.logLevel);
  const environment = readExecutorEnvironment(process.env);
  const driver = new MesosExecutorDriver(executor, { environment, logger });
  const status = await driver.run();
  process.exit(status === Status.DRIVER_STOPPED ? 0 : 1);
}
