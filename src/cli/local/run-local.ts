import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LocalAgent, type ExecutorExit, type LocalAgentOptions } from '../../agent/index.js';
import type { ContentType } from '../../protocol/codec.js';
import type { Resource, TaskState } from '../../proto/types.js';
import { TERMINAL_TASK_STATES } from '../../proto/types.js';
import { readMetricsAddress, type MetricsAddress } from '../../metrics/address-file.js';
import { parseExposition, sampleSum } from '../../metrics/exposition.js';
import { STATUS_UPDATE_STATES } from '../../metrics/labels.js';
import { STATUS_UPDATES_TOTAL, TASKS_LAUNCHED_TOTAL, UNACKNOWLEDGED_UPDATES } from '../../metrics/names.js';
import { Allocator, neverFits, type LaunchPlan, type Resources } from './allocator.js';
import { InvalidOptionError } from '../../errors.js';
import type { WorkItem } from './workload.js';
import { createProgressView, type ProgressView } from './progress.js';

/** Our own executor command: this package's CLI, as an agent would launch it from a URI. */
export const OWN_EXECUTOR_MAIN = fileURLToPath(new URL('../main.js', import.meta.url));

/** Where our executor writes its metrics endpoint's address, in its sandbox. */
export const METRICS_ADDRESS_FILE = 'metrics-address.json';
/** Where it writes its last metrics, once stopped. */
export const METRICS_FINAL_FILE = 'metrics-final.prom';

export interface LocalRunOptions {
  readonly workload: readonly WorkItem[];
  /** Offers (tasks launched as the agent's resources allow) or all at once. */
  readonly launch: LaunchPlan;
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
  /**
   * Copy the executor's output to ours: `true` stdout to stdout and stderr to stderr, `'stderr'`
   * both to our stderr (when our stdout carries the JSON summary). Either way it is also in the
   * sandbox's `stdout` and `stderr` files while the run lasts, as on a Mesos agent.
   */
  readonly pipeExecutorOutput: boolean | 'stderr';
  /** Extra environment for the executor process (e.g. what a framework puts in CommandInfo.environment). */
  readonly executorEnv?: Readonly<Record<string, string>>;
  /** Called once the agent listens, e.g. to print where. */
  readonly onAgentStarted?: (agent: LocalAgent) => void;
  /** Stops the run early (Ctrl-C). */
  readonly signal?: AbortSignal;
  readonly agentOptions?: LocalAgentOptions;
  /**
   * Our executor serves metrics (`executorArgs` hold `--metrics-port`): it is asked to write its
   * address into its sandbox, which is read back once it subscribed (see `onMetricsListening`),
   * and its last metrics there once it stopped, read after it exited (`LocalRunResult.metrics`).
   */
  readonly metrics?: boolean;
  /** Called once the executor subscribed, with its metrics endpoint's address. */
  readonly onMetricsListening?: (address: MetricsAddress) => void;
  /**
   * Called when the workload is done, before the executor is shut down; the run waits for it
   * (or for the executor to exit). `local --keep-metrics` waits for Ctrl-C here.
   */
  readonly hold?: () => Promise<void>;
}

/** What the executor's own metrics said once it stopped (its final file). */
export interface FinalScrape {
  readonly url: string;
  /** `mesos_executor_tasks_launched_total`. */
  readonly launched: number;
  /** `mesos_executor_status_updates_total` by state (states with a count only). */
  readonly updates: ReadonlyMap<string, number>;
  readonly unacknowledged: number;
}

export interface TaskTiming {
  launchedAt: number;
  runningAt: number | undefined;
  endedAt: number | undefined;
  state: TaskState | number | undefined;
  message: string | undefined;
  /** The terminal status's `data` as text (a job's result is its JSON), bounded; undefined when none. */
  data: string | undefined;
}

/** The most characters of a task's result kept for `--results` and `--json`. */
export const RESULT_TEXT_LIMIT = 4096;

function resultText(data: Uint8Array | undefined): string | undefined {
  if (data === undefined || data.length === 0) return undefined;
  // Only the start is decoded: a 1 MiB result must not be kept 10 000 times.
  const text = new TextDecoder().decode(data.subarray(0, RESULT_TEXT_LIMIT * 4));
  return text.length > RESULT_TEXT_LIMIT ? `${text.slice(0, RESULT_TEXT_LIMIT)}…` : text;
}

/** One task of the run, in launch order (`--results`, `--json`). */
export interface TaskOutcome {
  readonly taskId: string;
  /** Undefined: it did not end. */
  readonly state: string | undefined;
  readonly message: string | undefined;
  readonly data: string | undefined;
}

export interface LocalRunResult {
  readonly tasks: number;
  /** From the first LAUNCH to the last terminal update. */
  readonly wallMs: number;
  /** From launching the executor process to its SUBSCRIBE. */
  readonly startupMs: number;
  /** The executor subscribed (false: it exited or the run timed out first). */
  readonly subscribed: boolean;
  readonly byState: ReadonlyMap<string, number>;
  /** Tasks that did not end in the expected state, with their state and message (the first 20). */
  readonly unexpected: ReadonlyArray<{ taskId: string; state: string; message: string | undefined }>;
  /** How many tasks ended in another state than the expected one (`unexpected` holds the first 20). */
  readonly unexpectedCount: number;
  /** Every submitted task, in launch order. */
  readonly outcomes: readonly TaskOutcome[];
  /** The executor process (undefined: it was never launched). */
  readonly executorPid: number | undefined;
  /** The agent's sandbox directory (removed when the run ends). */
  readonly sandboxDir: string;
  readonly unfinished: number;
  readonly launchToRunningMs: number[];
  readonly launchToEndMs: number[];
  readonly executorExit: ExecutorExit | undefined;
  /** The last lines the executor wrote on stderr, kept when it did not exit 0 (its logs say why). */
  readonly executorStderrTail: readonly string[];
  readonly timedOut: boolean;
  readonly interrupted: boolean;
  readonly counters: LocalAgent['counters'];
  /** The executor's metrics endpoint, when it served one. */
  readonly metricsUrl: string | undefined;
  /** The executor's metrics once it stopped (undefined: no endpoint, or it wrote none: it was killed). */
  readonly metrics: FinalScrape | undefined;
  /** The encodings of the subscription: what the SUBSCRIBE was sent in, what the stream carried. */
  readonly wire: { readonly calls: string | undefined; readonly events: string | undefined };
  /** Calls the agent refused (status 400 and up), by call type, status and reason, in first-seen order. */
  readonly refused: ReadonlyArray<{ readonly type: string; readonly status: number; readonly reason: string; readonly count: number }>;
  /** How the tasks were launched, with the resources accounted. */
  readonly launch: LaunchPlan;
  /** True when every task ended in the expected state and the executor exited cleanly. */
  readonly ok: boolean;
}

/**
 * The embedded default: a LocalAgent, the executor launched from it exactly as an agent
 * launches one (environment only), a workload submitted as LAUNCH events, then SHUTDOWN.
 */
export async function runLocal(options: LocalRunOptions): Promise<LocalRunResult> {
  const plan = options.launch;
  const never = plan.kind === 'offers' ? neverFits(plan.agent, plan.executor, plan.task) : undefined;
  // The workload would wait for an offer forever.
  if (never !== undefined) throw new InvalidOptionError('task-cpus', never);
  const executorResources = mesosResources(plan.executor);
  const agent = new LocalAgent({
    recordCalls: false,
    recordStatuses: false,
    frameworkInfo: { checkpoint: options.checkpoint, name: 'mesos-pool-executor local' },
    ...(options.contentTypes !== undefined ? { contentTypes: options.contentTypes } : {}),
    ...options.agentOptions,
    ...(executorResources.length > 0 ? { executorInfo: { ...options.agentOptions?.executorInfo, resources: executorResources } } : {}),
  });
  // Offers: the executor's resources are taken while it lives, a task's until its terminal update.
  const allocator = plan.kind === 'offers' ? new Allocator(plan.agent) : undefined;
  allocator?.take(plan.executor);
  const taskResources = mesosResources(plan.task);
  /** Launches the next tasks while they fit (set once the workload starts). */
  let pump: () => void = () => {};
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
      timing.data = resultText(info.status.data);
      done++;
      allocator?.give(plan.task);
      if (done < options.workload.length) pump();
      // After the launches its resources allowed: "in flight" counts them.
      view?.update(done, timings.size - done);
      if (done === options.workload.length) finishRun();
    }
  });

  const wire: { calls: string | undefined; events: string | undefined } = { calls: undefined, events: undefined };
  const refused = new Map<string, { type: string; status: number; reason: string; count: number }>();
  agent.on('call', (record) => {
    if (record.type === 'SUBSCRIBE' && record.status === 200) wire.calls = record.contentType;
    if (record.status < 400) return;
    const type = String(record.type ?? 'undecoded');
    const key = `${type} ${record.status} ${record.body}`;
    const seen = refused.get(key);
    if (seen !== undefined) seen.count++;
    // Bounded: a storm of distinct texts must not grow the summary without end.
    else if (refused.size < 20) refused.set(key, { type, status: record.status, reason: record.body, count: 1 });
  });
  agent.on('subscribed', (info) => (wire.events = info.contentType));

  let executorExit: ExecutorExit | undefined;
  let stderrOf: (() => string) | undefined;
  let timedOut = false;
  let interrupted = false;
  const started = performance.now();
  let submittedAt = started;
  let subscribedAt = started;
  let everSubscribed = false;
  let metricsAddress: MetricsAddress | undefined;
  let executorPid: number | undefined;
  const sandboxDir = agent.sandboxDir;
  let finalScrape: FinalScrape | undefined;
  const metricsFile = options.metrics === true && options.executorCommand === undefined ? join(agent.sandboxDir, METRICS_ADDRESS_FILE) : undefined;
  const finalFile = metricsFile === undefined ? undefined : join(agent.sandboxDir, METRICS_FINAL_FILE);
  try {
    const handle = await agent.launchExecutor(
      options.executorCommand !== undefined
        ? { command: options.executorCommand, shell: true, pipeOutput: options.pipeExecutorOutput, sandboxLogs: true, ...(options.executorEnv ? { env: options.executorEnv } : {}) }
        : {
            command: process.execPath,
            args: [
              OWN_EXECUTOR_MAIN,
              ...options.executorArgs,
              ...(metricsFile !== undefined && finalFile !== undefined ? ['--metrics-address-file', metricsFile, '--metrics-final-file', finalFile] : []),
            ],
            pipeOutput: options.pipeExecutorOutput,
            sandboxLogs: true,
            ...(options.executorEnv ? { env: options.executorEnv } : {}),
          },
    );
    stderrOf = () => handle.stderr;
    executorPid = handle.pid;
    const exitedEarly = handle.exited.then((exit) => {
      executorExit = exit;
      finishRun();
    });
    await waitUntilSubscribed(agent, handle.exited, options.timeoutMs, options.signal);
    subscribedAt = performance.now();
    everSubscribed = agent.subscribed;
    // The executor writes the file before it subscribes: it is there now, or it never will be.
    if (metricsFile !== undefined && executorExit === undefined) {
      metricsAddress = await readMetricsAddress(metricsFile);
      if (metricsAddress !== undefined) options.onMetricsListening?.(metricsAddress);
    }
    // A signal before the workload (while the executor started): no task is launched at all.
    if (options.signal?.aborted === true) interrupted = true;
    if (executorExit === undefined && !interrupted) {
      if (options.progress !== undefined) view = createProgressView(options.workload.length, options.progress);
      let seq = 0;
      submittedAt = performance.now();
      pump = () => {
        // Not after the run stopped: a task launched then would never be waited for.
        while (seq < options.workload.length && executorExit === undefined && !timedOut && !interrupted && (allocator === undefined || allocator.fits(plan.task))) {
          allocator?.take(plan.task);
          const item = options.workload[seq]!;
          const taskId = `task-${++seq}`;
          timings.set(taskId, { launchedAt: performance.now(), runningAt: undefined, endedAt: undefined, state: undefined, message: undefined, data: undefined });
          agent.launchTask({
            task_id: taskId,
            name: `${item.job} ${seq}`,
            data: item.data,
            ...(taskResources.length > 0 ? { resources: taskResources } : {}),
            ...(item.healthCheck !== undefined ? { health_check: item.healthCheck } : {}),
            ...(item.check !== undefined ? { check: item.check } : {}),
          });
        }
      };
      pump();
      const timer = setTimeout(() => {
        timedOut = true;
        finishRun();
      }, options.timeoutMs);
      const onAbort = (): void => {
        interrupted = true;
        finishRun();
      };
      options.signal?.addEventListener('abort', onAbort, { once: true });
      // Aborted while the tasks were being submitted: 'abort' has fired already.
      if (options.signal?.aborted === true) onAbort();
      await allDone;
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      view?.update(done, timings.size - done);
      view?.stop();
      if (options.hold !== undefined && !timedOut && !interrupted && executorExit === undefined) {
        await Promise.race([options.hold(), handle.exited]);
      }
    }
    if (executorExit === undefined) executorExit = await agent.shutdownExecutor();
    await exitedEarly;
    // Written by the executor once it stopped, so the counts include what its shutdown sent (the
    // kills of an interrupted run) and agree with the states the agent saw; read before the
    // agent's stop removes the sandbox.
    if (metricsAddress !== undefined && finalFile !== undefined) finalScrape = await readFinalMetrics(metricsAddress.url, finalFile);
  } finally {
    await agent.stop();
  }
  let lastEnd = submittedAt;
  for (const t of timings.values()) if (t.endedAt !== undefined && t.endedAt > lastEnd) lastEnd = t.endedAt;
  const wallMs = lastEnd - submittedAt;

  const byState = new Map<string, number>();
  const unexpected: Array<{ taskId: string; state: string; message: string | undefined }> = [];
  let unexpectedCount = 0;
  const outcomes: TaskOutcome[] = [];
  const launchToRunningMs: number[] = [];
  const launchToEndMs: number[] = [];
  let unfinished = 0;
  for (const [taskId, t] of timings) {
    outcomes.push({ taskId, state: t.state === undefined ? undefined : String(t.state), message: t.message, data: t.data });
    if (t.runningAt !== undefined) launchToRunningMs.push(t.runningAt - t.launchedAt);
    if (t.endedAt === undefined) {
      unfinished++;
      continue;
    }
    launchToEndMs.push(t.endedAt - t.launchedAt);
    const state = String(t.state);
    byState.set(state, (byState.get(state) ?? 0) + 1);
    if (state !== options.expect) {
      unexpectedCount++;
      if (unexpected.length < 20) unexpected.push({ taskId, state, message: t.message });
    }
  }
  const expectedCount = byState.get(options.expect) ?? 0;
  // Tasks never submitted (the executor did not subscribe) count as not ended.
  unfinished += options.workload.length - timings.size;
  return {
    tasks: options.workload.length,
    wallMs,
    startupMs: subscribedAt - started,
    subscribed: everSubscribed,
    byState,
    unexpected,
    unexpectedCount,
    outcomes,
    executorPid,
    sandboxDir,
    unfinished,
    launchToRunningMs,
    launchToEndMs,
    executorExit,
    executorStderrTail: executorExit?.code === 0 || stderrOf === undefined ? [] : stderrOf().trimEnd().split('\n').slice(-10),
    timedOut,
    interrupted,
    counters: agent.counters,
    metricsUrl: metricsAddress?.url,
    metrics: finalScrape,
    wire,
    refused: [...refused.values()],
    launch: plan,
    ok:
      timings.size === options.workload.length &&
      expectedCount === timings.size &&
      !timedOut &&
      !interrupted &&
      executorExit?.code === 0,
  };
}

async function waitUntilSubscribed(agent: LocalAgent, exited: Promise<unknown>, timeoutMs: number, signal: AbortSignal | undefined): Promise<void> {
  if (agent.subscribed || signal?.aborted === true) return;
  await new Promise<void>((resolve, reject) => {
    const done = (): void => {
      clearTimeout(timer);
      agent.off('subscribed', done);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(() => {
      agent.off('subscribed', done);
      signal?.removeEventListener('abort', done);
      reject(new Error(`the executor did not subscribe within ${timeoutMs} ms`));
    }, timeoutMs);
    agent.once('subscribed', done);
    // A signal while the executor starts: stop waiting, so it is shut down (and its group stopped) at once.
    signal?.addEventListener('abort', done, { once: true });
    void exited.then(done);
  });
}

/** `cpus` and `mem` as Mesos scalar resources; a 0 is left out (no such resource). */
export function mesosResources(r: Resources): Resource[] {
  const out: Resource[] = [];
  if (r.cpus > 0) out.push({ name: 'cpus', type: 'SCALAR', scalar: { value: r.cpus } });
  if (r.mem > 0) out.push({ name: 'mem', type: 'SCALAR', scalar: { value: r.mem } });
  return out;
}

/** The executor's last metrics (its final file), digested for the summary; undefined when it wrote none. */
async function readFinalMetrics(url: string, file: string): Promise<FinalScrape | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return undefined;
  }
  const samples = parseExposition(text);
  const updates = new Map<string, number>();
  for (const state of STATUS_UPDATE_STATES) {
    const count = sampleSum(samples, STATUS_UPDATES_TOTAL, { state });
    if (count > 0) updates.set(state, count);
  }
  return {
    url,
    launched: sampleSum(samples, TASKS_LAUNCHED_TOTAL),
    updates,
    unacknowledged: sampleSum(samples, UNACKNOWLEDGED_UPDATES),
  };
}
