// The full wire path: a LocalAgent in this (the bench) process, an executor process it launches
// exactly as an agent would (environment only), real loopback HTTP, RecordIO, protobuf, ACKs.
// Figures about the executor process come from /proc (proc.ts), so the shipped command needs
// no hook; the probed executors also answer probe requests (executors/probe.ts).
import { availableParallelism } from 'node:os';
import { LocalAgent, type ExecutorHandle, type LocalAgentOptions } from '../../src/agent/index.js';
import type { KillPolicy, TaskState } from '../../src/proto/types.js';
import { TERMINAL_TASK_STATES } from '../../src/proto/types.js';
import { EXECUTOR_CLI, INLINE_EXECUTOR, PROBED_EXECUTOR, PROCESS_PER_TASK_EXECUTOR, WIRE_FLOOR_EXECUTOR } from './paths.js';
import { readCpu, readSystemCpu, selfCpuMs } from './proc.js';
import { sleep } from './timing.js';

/** ours: the shipped command; ours-probed: the same assembly plus the probe; the two baselines. */
export type ExecutorKind = 'ours' | 'ours-probed' | 'inline' | 'process-per-task' | 'wire-floor';

export const EXECUTOR_LABEL: Record<ExecutorKind, string> = {
  ours: 'pool executor (ours)',
  'ours-probed': 'pool executor (ours, probed)',
  inline: 'inline baseline',
  'process-per-task': 'process-per-task baseline',
  'wire-floor': 'wire floor (protocol only)',
};

/**
 * Tasks in flight at most when a batch names no window: our executor refuses launches past
 * 10 000 queued tasks (its `maxQueuedTasks` bound) as TASK_LOST, so "all at once" means this
 * many at once, refilled as tasks end — far more than the threads, so dispatch never starves.
 */
const DEFAULT_WINDOW = 5_000;

const ENTRY: Record<ExecutorKind, string> = {
  ours: EXECUTOR_CLI,
  'ours-probed': PROBED_EXECUTOR,
  inline: INLINE_EXECUTOR,
  'process-per-task': PROCESS_PER_TASK_EXECUTOR,
  'wire-floor': WIRE_FLOOR_EXECUTOR,
};

export interface RigOptions {
  readonly kind: ExecutorKind;
  readonly threads: number;
  /**
   * `fixed` (default): the executor gets `--threads <threads>`. `follow-cpus`: no `--threads`, its
   * concurrency follows the allocated cpus (`threads` is then only the bench's label).
   */
  readonly concurrency?: 'fixed' | 'follow-cpus';
  /** Node flags for the executor process (--expose-gc, --cpu-prof, …). */
  readonly nodeFlags?: readonly string[];
  /** More arguments for the executor command (e.g. --content-type json). */
  readonly args?: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
  readonly agent?: LocalAgentOptions;
}

export interface TaskTiming {
  readonly launchedAt: number;
  runningAt: number | undefined;
  endedAt: number | undefined;
  state: TaskState | number | undefined;
  /** The terminal update's data. */
  data?: Uint8Array;
}

export interface BatchResult {
  readonly tasks: number;
  readonly wallMs: number;
  readonly tasksPerSec: number;
  /** Executor process CPU (all its threads) per task, µs. */
  readonly execCpuUsPerTask: number;
  /** Of which its main thread. */
  readonly execMainCpuUsPerTask: number;
  /** CPU of the processes it spawned (process-per-task), per task, µs. */
  readonly execChildrenCpuUsPerTask: number;
  /** The bench process (the LocalAgent) per task, µs. */
  readonly agentCpuUsPerTask: number;
  /** Share of the machine's CPU capacity used by other processes during the batch (noise). */
  readonly foreignCpuShare: number;
  /** Resolution of the executor CPU figures (one clock tick over the batch), µs per task. */
  readonly cpuResolutionUsPerTask: number;
  readonly failed: number;
}

let probeSeq = 0;

export class WireRig {
  readonly agent: LocalAgent;
  readonly executor: ExecutorHandle;
  readonly kind: ExecutorKind;
  readonly threads: number;
  #seq = 0;
  #terminals = 0;
  #failed = 0;
  readonly #watched = new Map<string, TaskTiming & { resolve?: () => void; onRunning?: () => void }>();
  #terminalWaiters: Array<{ count: number; resolve: () => void }> = [];
  #onTerminal: ((taskId: string) => void) | undefined;

  private constructor(agent: LocalAgent, executor: ExecutorHandle, kind: ExecutorKind, threads: number) {
    this.agent = agent;
    this.executor = executor;
    this.kind = kind;
    this.threads = threads;
    agent.on('statusUpdate', (info) => {
      if (info.outcome !== 'accepted') return;
      const state = info.status.state;
      const watch = this.#watched.get(info.taskId);
      if (state === 'TASK_RUNNING' && watch !== undefined && watch.runningAt === undefined) {
        watch.runningAt = performance.now();
        watch.onRunning?.();
      }
      if (typeof state !== 'string' || !TERMINAL_TASK_STATES.has(state)) return;
      this.#terminals++;
      if (state !== 'TASK_FINISHED' && state !== 'TASK_KILLED') this.#failed++;
      if (watch !== undefined) {
        watch.endedAt = performance.now();
        watch.state = state;
        if (info.status.data !== undefined) watch.data = info.status.data;
        watch.resolve?.();
        this.#watched.delete(info.taskId);
      }
      this.#onTerminal?.(info.taskId);
      if (this.#terminalWaiters.length > 0) {
        const due = this.#terminalWaiters.filter((w) => w.count <= this.#terminals);
        this.#terminalWaiters = this.#terminalWaiters.filter((w) => w.count > this.#terminals);
        for (const w of due) w.resolve();
      }
    });
  }

  /** Starts an agent and the executor, resolves once the executor has SUBSCRIBED. */
  static async start(options: RigOptions): Promise<WireRig> {
    const agent = new LocalAgent({ recordCalls: false, recordStatuses: false, ...options.agent });
    await agent.start();
    const subscribed = agent.nextEvent('subscribed', { timeoutMs: 30_000 });
    const executor = await agent.launchExecutor({
      command: process.execPath,
      args: [
        ...(options.nodeFlags ?? []),
        ENTRY[options.kind],
        ...(options.concurrency === 'follow-cpus' ? [] : ['--threads', String(options.threads)]),
        ...(options.args ?? []),
      ],
      ...(options.env !== undefined ? { env: options.env } : {}),
    });
    try {
      await Promise.race([
        subscribed,
        executor.exited.then((exit) => {
          throw new Error(`${options.kind} executor exited before subscribing (${JSON.stringify(exit)}): ${executor.stderr.slice(-2000)}`);
        }),
      ]);
    } catch (error) {
      await agent.stop();
      throw error;
    }
    return new WireRig(agent, executor, options.kind, options.threads);
  }

  get terminals(): number {
    return this.#terminals;
  }

  get failed(): number {
    return this.#failed;
  }

  /** Launches one task; with `watch`, its LAUNCH/RUNNING/terminal times are kept and returned. */
  launch(data: Buffer, options: { watch?: boolean; killPolicy?: KillPolicy; cpus?: number } = {}): { taskId: string; timing?: Promise<TaskTiming> } {
    const taskId = `t${++this.#seq}`;
    const resources = options.cpus === undefined ? {} : { resources: [{ name: 'cpus', type: 'SCALAR' as const, scalar: { value: options.cpus } }] };
    if (options.watch === true) {
      const timing: TaskTiming & { resolve?: () => void } = { launchedAt: performance.now(), runningAt: undefined, endedAt: undefined, state: undefined };
      const done = new Promise<TaskTiming>((resolve) => {
        timing.resolve = () => resolve(timing);
      });
      this.#watched.set(taskId, timing);
      this.agent.launchTask({ task_id: taskId, data, ...resources, ...(options.killPolicy !== undefined ? { kill_policy: options.killPolicy } : {}) });
      return { taskId, timing: done };
    }
    this.agent.launchTask({ task_id: taskId, data, ...resources });
    return { taskId };
  }

  /** Resolves once `count` tasks in total have ended (counting from the rig's start). */
  untilTerminals(count: number, timeoutMs = 600_000): Promise<void> {
    if (this.#terminals >= count) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.kind}: only ${this.#terminals} of ${count} tasks ended within ${timeoutMs} ms`)), timeoutMs);
      this.#terminalWaiters.push({
        count,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      });
    });
  }

  /** Resolves when the watched task `taskId` is TASK_RUNNING (or has ended). */
  untilRunning(taskId: string, timeoutMs = 30_000): Promise<void> {
    const watch = this.#watched.get(taskId);
    if (watch === undefined || watch.runningAt !== undefined) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.kind}: ${taskId} not running within ${timeoutMs} ms`)), timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        resolve();
      };
      watch.onRunning = done;
      const previous = watch.resolve;
      watch.resolve = () => {
        previous?.();
        done();
      };
    });
  }

  /**
   * Runs `count` tasks of `data` and measures them. At most `window` (default
   * {@link DEFAULT_WINDOW}) are in flight, refilled as tasks end. CPU is read before the first LAUNCH and after the executor
   * has had `settleMs` to take in the last ACKs.
   */
  async batch(count: number, data: Buffer, options: { window?: number; settleMs?: number; onProgress?: (done: number) => void; cpus?: number } = {}): Promise<BatchResult> {
    const pid = this.executor.pid;
    const settleMs = options.settleMs ?? 250;
    await sleep(50);
    const exec0 = readCpu(pid);
    const main0 = readCpu(pid, pid);
    const agent0 = selfCpuMs();
    const sys0 = readSystemCpu();
    const failed0 = this.#failed;
    const target = this.#terminals + count;
    const t0 = performance.now();
    const window = options.window ?? Math.min(count, DEFAULT_WINDOW);
    let launched = 0;
    const launchOptions = options.cpus === undefined ? {} : { cpus: options.cpus };
    while (launched < Math.min(window, count)) {
      this.launch(data, launchOptions);
      launched++;
    }
    if (launched < count) {
      this.#onTerminal = () => {
        if (launched < count) {
          this.launch(data, launchOptions);
          launched++;
        }
      };
    }
    await this.untilTerminals(target);
    const t1 = performance.now();
    this.#onTerminal = undefined;
    await sleep(settleMs);
    const t2 = performance.now();
    const exec1 = readCpu(pid);
    const main1 = readCpu(pid, pid);
    const agent1 = selfCpuMs();
    const sys1 = readSystemCpu();
    const ours = exec1.cpuMs - exec0.cpuMs + (exec1.childrenCpuMs - exec0.childrenCpuMs) + (agent1 - agent0);
    const capacityMs = (t2 - t0) * availableParallelism();
    const perTask = (ms: number): number => (ms * 1000) / count;
    return {
      tasks: count,
      wallMs: t1 - t0,
      tasksPerSec: (count * 1000) / (t1 - t0),
      execCpuUsPerTask: perTask(exec1.cpuMs - exec0.cpuMs),
      execMainCpuUsPerTask: perTask(main1.cpuMs - main0.cpuMs),
      execChildrenCpuUsPerTask: perTask(exec1.childrenCpuMs - exec0.childrenCpuMs),
      agentCpuUsPerTask: perTask(agent1 - agent0),
      foreignCpuShare: Math.max(0, (sys1.busyMs - sys0.busyMs - ours) / capacityMs),
      cpuResolutionUsPerTask: perTask(10),
      failed: this.#failed - failed0,
    };
  }

  /** Sends a probe request (probed executors only) and resolves with the answer. */
  async probe<T = Record<string, unknown>>(command: string, timeoutMs = 60_000): Promise<T & { rttMs: number }> {
    const id = ++probeSeq;
    const sentAt = performance.now();
    const answer = this.agent.nextEvent('frameworkMessage', {
      timeoutMs,
      filter: (data) => {
        try {
          return (JSON.parse(Buffer.from(data).toString('utf8')) as { id?: number }).id === id;
        } catch {
          return false;
        }
      },
    });
    this.agent.sendFrameworkMessage(Buffer.from(JSON.stringify({ bench: command, id })));
    const data = await answer;
    const value = JSON.parse(Buffer.from(data).toString('utf8')) as T & { error?: string };
    if (value.error !== undefined) throw new Error(`probe ${command}: ${value.error}`);
    return { ...value, rttMs: performance.now() - sentAt };
  }

  /** SHUTDOWN, wait for the executor to exit, stop the agent. */
  async stop(): Promise<void> {
    try {
      await Promise.race([this.agent.shutdownExecutor(), sleep(15_000)]);
    } finally {
      await this.agent.stop();
    }
  }
}

/** `{"job": job, "batch": items}` as TaskInfo.data. */
export function batchPayload(job: string, items: readonly unknown[]): Buffer {
  return Buffer.from(JSON.stringify({ job, batch: items }));
}

/** `{"job": job, "input": input}` as TaskInfo.data. */
export function payload(job: string, input?: unknown): Buffer {
  return Buffer.from(JSON.stringify(input === undefined ? { job } : { job, input }));
}
