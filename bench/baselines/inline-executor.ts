#!/usr/bin/env node
// Baseline 1: the job runs inside launchTask, on the executor's main thread — the design of
// pymesos' and mesos-go's example executors and of the old Node executor. Same driver, same
// wire, same updates (STARTING, RUNNING, FINISHED) and the same built-in job code as ours; the
// only difference is where the job runs. While a job runs, the callback loop (and with it every
// KILL, MESSAGE and ACKNOWLEDGED) waits.
import type { Executor, ExecutorDriver } from '../../src/executor.js';
import type { TaskID, TaskInfo } from '../../src/proto/types.js';
import * as jobs from '../../workers/jobs/index.js';
import { Probe } from '../executors/probe.js';
import { plainJobContext } from '../fixtures/job-context.js';
import { parseBaselineArgs, readPayload, refuse, runExecutor } from './common.js';

type JobFn = (input: unknown, ctx: ReturnType<typeof plainJobContext>) => unknown;
const registry = jobs as unknown as Record<string, JobFn | undefined>;
const probe = new Probe(() => ({}));

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';
}

class InlineExecutor implements Executor {
  registered(): void {
    probe.reset();
  }
  reregistered(): void {}
  disconnected(): void {}

  launchTask(driver: ExecutorDriver, task: TaskInfo): void | Promise<void> {
    const payload = readPayload(task);
    if (typeof payload === 'string') return refuse(driver, task, payload);
    const job = registry[payload.job];
    if (typeof job !== 'function') return refuse(driver, task, `unknown job "${payload.job}"`);
    driver.sendStatusUpdate({ task_id: task.task_id, state: 'TASK_STARTING' });
    driver.sendStatusUpdate({ task_id: task.task_id, state: 'TASK_RUNNING' });
    let value: unknown;
    try {
      value = job(payload.input, plainJobContext(task.task_id.value));
    } catch (error) {
      return this.#failed(driver, task.task_id, error);
    }
    if (!isThenable(value)) return this.#finished(driver, task.task_id, value);
    // An asynchronous job (sleep, progress) is awaited by the callback loop: one task at a time.
    return Promise.resolve(value).then(
      (result) => this.#finished(driver, task.task_id, result),
      (error: unknown) => this.#failed(driver, task.task_id, error),
    );
  }

  killTask(): void {
    // A task runs to its end inside launchTask: by the time a KILL is read, it has ended.
  }

  frameworkMessage(driver: ExecutorDriver, data: Uint8Array): void {
    probe.handle(data, (reply) => driver.sendFrameworkMessage(reply));
  }

  async shutdown(driver: ExecutorDriver): Promise<void> {
    await driver.awaitAcknowledgements(3_000);
    await driver.stop();
  }

  error(): void {}

  #finished(driver: ExecutorDriver, taskId: TaskID, value: unknown): void {
    driver.sendStatusUpdate({ task_id: taskId, state: 'TASK_FINISHED', data: Buffer.from(JSON.stringify(value ?? null)) });
  }

  #failed(driver: ExecutorDriver, taskId: TaskID, error: unknown): void {
    driver.sendStatusUpdate({ task_id: taskId, state: 'TASK_FAILED', message: error instanceof Error ? error.message : String(error) });
  }
}

await runExecutor(new InlineExecutor(), parseBaselineArgs());
