#!/usr/bin/env node
// Baseline 2: one process per task, as Mesos' command executor runs a task's command. Each task
// spawns `node run-job.js '<payload>'` (the same built-in job code as ours), at most `--threads`
// at once (the CPUs the tasks were given), the rest queued. Same driver, same wire, same updates
// (STARTING on launch, RUNNING once the process is spawned, FINISHED with its stdout as data).
// Charitable to the baseline: node is spawned directly, not through `sh -c`, and the executor
// itself is launched once, not once per task.
import { spawn, type ChildProcess } from 'node:child_process';
import type { Executor, ExecutorDriver } from '../../src/executor.js';
import type { KillPolicy, TaskID, TaskInfo } from '../../src/proto/types.js';
import { Probe } from '../executors/probe.js';
import { RUN_JOB } from '../lib/paths.js';
import { parseBaselineArgs, readPayload, refuse, runExecutor, type Payload } from './common.js';

const args = parseBaselineArgs();
const probe = new Probe(() => ({}));

interface Queued {
  readonly task: TaskInfo;
  readonly payload: Payload;
}

class ProcessPerTaskExecutor implements Executor {
  readonly #queue: Queued[] = [];
  readonly #running = new Map<string, { child: ChildProcess; killed: boolean }>();
  #driver: ExecutorDriver | undefined;
  #shuttingDown = false;

  registered(): void {
    probe.reset();
  }
  reregistered(): void {}
  disconnected(): void {}

  launchTask(driver: ExecutorDriver, task: TaskInfo): void {
    this.#driver = driver;
    const payload = readPayload(task);
    if (typeof payload === 'string') return refuse(driver, task, payload);
    driver.sendStatusUpdate({ task_id: task.task_id, state: 'TASK_STARTING' });
    this.#queue.push({ task, payload });
    this.#pump();
  }

  killTask(driver: ExecutorDriver, taskId: TaskID, killPolicy?: KillPolicy): void {
    const queued = this.#queue.findIndex((q) => q.task.task_id.value === taskId.value);
    if (queued !== -1) {
      this.#queue.splice(queued, 1);
      driver.sendStatusUpdate({ task_id: taskId, state: 'TASK_KILLED', message: 'killed before it started' });
      return;
    }
    const run = this.#running.get(taskId.value);
    if (run === undefined) return;
    run.killed = true;
    const graceNs = Number(killPolicy?.grace_period?.nanoseconds ?? 3e9);
    run.child.kill(graceNs <= 0 ? 'SIGKILL' : 'SIGTERM');
    if (graceNs > 0) setTimeout(() => run.child.kill('SIGKILL'), graceNs / 1e6).unref();
  }

  frameworkMessage(driver: ExecutorDriver, data: Uint8Array): void {
    probe.handle(data, (reply) => driver.sendFrameworkMessage(reply));
  }

  async shutdown(driver: ExecutorDriver): Promise<void> {
    this.#shuttingDown = true;
    for (const q of this.#queue.splice(0)) driver.sendStatusUpdate({ task_id: q.task.task_id, state: 'TASK_KILLED', message: 'shutdown' });
    const exits = [...this.#running.values()].map(
      (run) =>
        new Promise<void>((resolve) => {
          run.killed = true;
          run.child.once('close', () => resolve());
          run.child.kill('SIGKILL');
        }),
    );
    await Promise.all(exits);
    await driver.awaitAcknowledgements(3_000);
    await driver.stop();
  }

  error(): void {}

  #pump(): void {
    while (!this.#shuttingDown && this.#running.size < args.threads && this.#queue.length > 0) this.#start(this.#queue.shift()!);
  }

  #start({ task, payload }: Queued): void {
    const driver = this.#driver!;
    const taskId = task.task_id;
    const child = spawn(process.execPath, [RUN_JOB, JSON.stringify({ job: payload.job, input: payload.input, taskId: taskId.value })], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const run = { child, killed: false };
    this.#running.set(taskId.value, run);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    child.once('spawn', () => driver.sendStatusUpdate({ task_id: taskId, state: 'TASK_RUNNING' }));
    child.once('error', () => {});
    child.once('close', (code) => {
      this.#running.delete(taskId.value);
      if (run.killed) {
        driver.sendStatusUpdate({ task_id: taskId, state: 'TASK_KILLED' });
      } else if (code === 0) {
        driver.sendStatusUpdate({ task_id: taskId, state: 'TASK_FINISHED', data: Buffer.concat(out) });
      } else {
        driver.sendStatusUpdate({ task_id: taskId, state: 'TASK_FAILED', message: Buffer.concat(err).toString('utf8').slice(-500) || `exit code ${String(code)}` });
      }
      this.#pump();
    });
  }
}

await runExecutor(new ProcessPerTaskExecutor(), args);
