import { fileURLToPath } from 'node:url';
import { LocalAgent, type ExecutorExit, type LocalAgentOptions } from '../../agent/index.js';
import type { ContentType } from '../../protocol/codec.js';
import type { TaskState } from '../../proto/types.js';
import { TERMINAL_TASK_STATES } from '../../proto/types.js';
import type { WorkItem } from './workload.js';
import { createProgressView, type ProgressView } from './progress.js';

/** Our own executor command: this package's CLI, as an agent would launch it from a URI. */
export const OWN_EXECUTOR_MAIN = fileURLToPath(new URL('../main.js', import.meta.url));

export interface LocalRunOptions {
  readonly workload: readonly WorkItem[];
  /** A shell command line to run instead of our own executor (`local --executor`). */
  readonly executorCommand?: string;
  /** Arguments for our own executor (ignored with `executorCommand`). */
  readonly executorArgs: readonly string[];
  /** The state every task should end in (default TASK_FINISHED). */
  readonly expect: TaskState;
  /** The framework checkpoints (the executor reconnects after agent restarts). Default true. */
  readonly checkpoint: boolean;
  readonly contentTypes?: readonly ContentType[];
  /** Give up on the run after this long (the executor is shut down, the run fails). */
  readonly timeoutMs: number;
  /** Where progress goes (stderr). Undefined: no progress. */
  readonly progress: NodeJS.WriteStream | undefined;
  /** Copy the executor's stderr (its logs) to ours. */
  readonly pipeExecutorOutput: boolean;
  /** Extra environment for the executor process (e.g. what a framework puts in CommandInfo.environment). */
  readonly executorEnv?: Readonly<Record<string, string>>;
  /** Called once the agent listens, e.g. to print where. */
  readonly onAgentStarted?: (agent: LocalAgent) => void;
  /** Stops the run early (Ctrl-C). */
  readonly signal?: AbortSignal;
  readonly agentOptions?: LocalAgentOptions;
}

export interface TaskTiming {
  launchedAt: number;
  runningAt: number | undefined;
  endedAt: number | undefined;
  state: TaskState | number | undefined;
  message: string | undefined;
}

export interface LocalRunResult {
  readonly tasks: number;
  /** From the first LAUNCH to the last terminal update. */
  readonly wallMs: number;
  /** From launching the executor process to its SUBSCRIBE. */
  readonly startupMs: number;
  readonly byState: ReadonlyMap<string, number>;
  /** Tasks that did not end in the expected state, with their state and message (the first 20). */
  readonly unexpected: ReadonlyArray<{ taskId: string; state: string; message: string | undefined }>;
  readonly unfinished: number;
  readonly launchToRunningMs: number[];
  readonly launchToEndMs: number[];
  readonly executorExit: ExecutorExit | undefined;
  readonly timedOut: boolean;
  readonly interrupted: boolean;
  readonly counters: LocalAgent['counters'];
  /** True when every task ended in the expected state and the executor exited cleanly. */
  readonly ok: boolean;
}

/**
 * The embedded default: a LocalAgent, the executor launched from it exactly as an agent
 * launches one (environment only), a workload submitted as LAUNCH events, then SHUTDOWN.
 */
export async function runLocal(options: LocalRunOptions): Promise<LocalRunResult> {
  const agent = new LocalAgent({
    recordCalls: false,
    recordStatuses: false,
    frameworkInfo: { checkpoint: options.checkpoint, name: 'mesos-pool-executor local' },
    ...(options.contentTypes !== undefined ? { contentTypes: options.contentTypes } : {}),
    ...options.agentOptions,
  });
  await agent.start();
  options.onAgentStarted?.(agent);
  const timings = new Map<string, TaskTiming>();
  let done = 0;
  let view: ProgressView | undefined;
  let finishRun!: () => void;
  const allDone = new Promise<void>((resolve) => {
    finishRun = resolve;
  });

  agent.on('statusUpdate', (info) => {
    if (info.outcome !== 'accepted') return;
    const timing = timings.get(info.taskId);
    if (timing === undefined) return;
    const state = info.status.state;
    if (state === 'TASK_RUNNING' && timing.runningAt === undefined) timing.runningAt = performance.now();
    if (typeof state === 'string' && TERMINAL_TASK_STATES.has(state) && timing.endedAt === undefined) {
      timing.endedAt = performance.now();
      timing.state = state;
      timing.message = info.status.message;
      done++;
      view?.update(done, timings.size - done);
      if (done === timings.size) finishRun();
    }
  });

  let executorExit: ExecutorExit | undefined;
  let timedOut = false;
  let interrupted = false;
  const started = performance.now();
  let submittedAt = started;
  let subscribedAt = started;
  try {
    const handle = await agent.launchExecutor(
      options.executorCommand !== undefined
        ? { command: options.executorCommand, shell: true, pipeOutput: options.pipeExecutorOutput, ...(options.executorEnv ? { env: options.executorEnv } : {}) }
        : {
            command: process.execPath,
            args: [OWN_EXECUTOR_MAIN, ...options.executorArgs],
            pipeOutput: options.pipeExecutorOutput,
            ...(options.executorEnv ? { env: options.executorEnv } : {}),
          },
    );
    const exitedEarly = handle.exited.then((exit) => {
      executorExit = exit;
      finishRun();
    });
    await waitUntilSubscribed(agent, handle.exited, options.timeoutMs);
    subscribedAt = performance.now();
    if (executorExit === undefined) {
      if (options.progress !== undefined) view = createProgressView(options.workload.length, options.progress);
      let seq = 0;
      submittedAt = performance.now();
      for (const item of options.workload) {
        const taskId = `task-${++seq}`;
        timings.set(taskId, { launchedAt: performance.now(), runningAt: undefined, endedAt: undefined, state: undefined, message: undefined });
        agent.launchTask({ task_id: taskId, name: `${item.job} ${seq}`, data: item.data });
      }
      const timer = setTimeout(() => {
        timedOut = true;
        finishRun();
      }, options.timeoutMs);
      const onAbort = (): void => {
        interrupted = true;
        finishRun();
      };
      options.signal?.addEventListener('abort', onAbort, { once: true });
      await allDone;
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      view?.update(done, timings.size - done);
      view?.stop();
    }
    if (executorExit === undefined) executorExit = await agent.shutdownExecutor();
    await exitedEarly;
  } finally {
    await agent.stop();
  }
  let lastEnd = submittedAt;
  for (const t of timings.values()) if (t.endedAt !== undefined && t.endedAt > lastEnd) lastEnd = t.endedAt;
  const wallMs = lastEnd - submittedAt;

  const byState = new Map<string, number>();
  const unexpected: Array<{ taskId: string; state: string; message: string | undefined }> = [];
  const launchToRunningMs: number[] = [];
  const launchToEndMs: number[] = [];
  let unfinished = 0;
  for (const [taskId, t] of timings) {
    if (t.runningAt !== undefined) launchToRunningMs.push(t.runningAt - t.launchedAt);
    if (t.endedAt === undefined) {
      unfinished++;
      continue;
    }
    launchToEndMs.push(t.endedAt - t.launchedAt);
    const state = String(t.state);
    byState.set(state, (byState.get(state) ?? 0) + 1);
    if (state !== options.expect && unexpected.length < 20) unexpected.push({ taskId, state, message: t.message });
  }
  const expectedCount = byState.get(options.expect) ?? 0;
  return {
    tasks: timings.size,
    wallMs,
    startupMs: subscribedAt - started,
    byState,
    unexpected,
    unfinished,
    launchToRunningMs,
    launchToEndMs,
    executorExit,
    timedOut,
    interrupted,
    counters: agent.counters,
    ok:
      timings.size === options.workload.length &&
      expectedCount === timings.size &&
      !timedOut &&
      !interrupted &&
      executorExit?.code === 0,
  };
}

async function waitUntilSubscribed(agent: LocalAgent, exited: Promise<unknown>, timeoutMs: number): Promise<void> {
  if (agent.subscribed) return;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      agent.off('subscribed', onSubscribed);
      reject(new Error(`the executor did not subscribe within ${timeoutMs} ms`));
    }, timeoutMs);
    const onSubscribed = (): void => {
      clearTimeout(timer);
      resolve();
    };
    agent.once('subscribed', onSubscribed);
    void exited.then(() => {
      clearTimeout(timer);
      agent.off('subscribed', onSubscribed);
      resolve();
    });
  });
}
