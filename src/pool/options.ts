// PoolExecutor options: validated once, defaulted, frozen. Inside, only ResolvedPoolOptions.
import { availableParallelism } from 'node:os';
import { resolveChecksOptions, type ChecksOptions, type TaskChecksRuntime } from '../checks/index.js';
import type { Clock } from '../clock.js';
import { InvalidOptionError } from '../errors.js';
import { silentLogger, type Logger } from '../log.js';
import * as is from '../validate.js';
import { mergeJobModules, resolveJobModule } from './job-modules.js';
import { DEFAULT_KILL_GRACE_MS } from './kill-policy.js';
import { isAbsolute, resolve } from 'node:path';
import { DEFAULT_MAX_BATCH_RESULT_BYTES } from './batch-results.js';
import { DEFAULT_MAX_BATCH_ITEM_BYTES, DEFAULT_MAX_BATCH_ITEMS, DEFAULT_MAX_PAYLOAD_BYTES } from './payload.js';
import { DEFAULT_PROGRESS_INTERVAL_MS } from './progress.js';
import { MIN_WORKER_MEMORY_MB } from './worker-pool.js';

export interface PoolExecutorOptions {
  /**
   * Job modules to load in every worker, besides the built-in jobs: file paths (relative to the
   * current directory), `file:` URLs, or package specifiers (`@acme/jobs`, resolved from the
   * current directory). `module#a,b` registers only the exports `a` and `b`. Only this
   * configuration names modules; a task can only name a job these modules export.
   */
  readonly jobs?: readonly (string | URL)[];
  /** Register the built-in jobs (noop, spin, sleep, primes, sha256, fail, progress). Default true. */
  readonly builtinJobs?: boolean;
  /**
   * A fixed number of worker threads, and the most tasks running at once. When not given, the
   * concurrency follows the Mesos resources: at least `os.availableParallelism()` tasks run at
   * once, and more when the allocation says so (the executor's `cpus` plus the `cpus` of every
   * live task, rounded up), up to `maxThreads`. Mesos has done admission control already: a task
   * whose cpus were allocated never waits in the queue.
   */
  readonly threads?: number;
  /** The most tasks running at once when the concurrency follows the resources. Default 256. */
  readonly maxThreads?: number;
  /** Largest `TaskInfo.data` accepted, in bytes; larger → TASK_ERROR. Default 1 MiB. */
  readonly maxPayloadBytes?: number;
  /**
   * Largest result (and progress data) JSON, in bytes; larger → TASK_FAILED. Default 1 MiB. Also
   * bounds each batch item's result, and a batch's results carried in its terminal update's data
   * (more go to a file in the sandbox).
   */
  readonly maxResultBytes?: number;
  /** Most items of a batch task (`{"job", "batch": [...]}`); more → TASK_ERROR. Default 100 000. */
  readonly maxBatchItems?: number;
  /** Largest JSON of one batch item, in bytes; larger → TASK_ERROR. Default 1 MiB. */
  readonly maxBatchItemBytes?: number;
  /**
   * Most bytes of results and error messages a batch task keeps (in memory, then in its results
   * file). An item whose result would pass it gets an error saying so instead; the results file
   * is at most this plus about 100 bytes per item. Default 64 MiB.
   */
  readonly maxBatchResultBytes?: number;
  /**
   * The sandbox (the agent starts the executor in it): batch results too large for a status
   * update are written under it, in `batch-results/`. Default: the current directory; the CLI
   * passes MESOS_SANDBOX.
   */
  readonly sandboxDirectory?: string;
  /**
   * Most tasks waiting for a thread (beyond the `threads` running). A task launched past it is
   * refused with TASK_DROPPED (TASK_LOST for a framework without PARTITION_AWARE): it never
   * started, and may succeed elsewhere or later. Default 10 000.
   */
  readonly maxQueuedTasks?: number;
  /** Most bytes of task data (`TaskInfo.data`) waiting for a thread; past it, as `maxQueuedTasks`. Default 64 MiB. */
  readonly maxQueuedBytes?: number;
  /**
   * Largest `ctx.sendFrameworkMessage` data, in bytes; larger is dropped with a warning (messages
   * are best effort). Default and most 1 MiB (the driver's own limit).
   */
  readonly maxFrameworkMessageBytes?: number;
  /** Least time between two progress updates of one task. Default 250 ms. */
  readonly progressIntervalMs?: number;
  /** Kill grace period when neither the KILL nor the task has a kill policy. Default 3000 ms (upstream). */
  readonly defaultKillGracePeriodMs?: number;
  /**
   * Of the shutdown grace period (the driver's `ExecutorDriver.shutdownGracePeriodMs`), how much is kept back from the tasks' kill grace to send the
   * terminal updates and get them acknowledged. Default 1000 ms.
   */
  readonly shutdownMarginMs?: number;
  /** Heap limit (`maxOldGenerationSizeMb`) of the shared worker threads. Default: Node's default. */
  readonly workerMemoryMb?: number;
  /**
   * Run a task with a `mem` resource on a worker whose heap limit is that many MB (at least
   * 16), on a thread of its own limit: see the README. Default true.
   */
  readonly taskMemoryLimits?: boolean;
  /** Idle threads of the per-memory-limit pools retire after this long. Default 30 000 ms. */
  readonly idleTimeoutMs?: number;
  /**
   * Per-memory-limit pools kept while none of their tasks runs (each holds up to `threads` idle
   * threads until `idleTimeoutMs`); past it the least recently used is closed at once. Default 2.
   */
  readonly maxIdleMemoryPools?: number;
  /** After terminating a worker (kill escalation), how long to wait for its exit before reporting. Default 1000 ms. */
  readonly terminateWaitMs?: number;
  /** Called with the data of each framework message (MESSAGE event); also emitted as `frameworkMessage`. */
  readonly onFrameworkMessage?: (data: Uint8Array) => void;
  /** Health checks and checks of the tasks: their sandbox, environment and clock. */
  readonly checks?: ChecksOptions;
  readonly logger?: Logger;
  /** The compiled worker entry. Default: dist/workers/entry.cjs next to this module (it imports worker.js). */
  readonly workerFile?: URL;
  /** The time source of every pool timer (kill escalation, deadlines, progress). Default: real time; tests pass a fake. */
  readonly clock?: Clock;
}

export interface ResolvedPoolOptions {
  readonly jobModules: readonly string[];
  readonly builtinJobs: boolean;
  /** Warm threads, and the least concurrency (the fixed one in `fixed` mode). */
  readonly threads: number;
  /** `fixed`: `threads` at once; `resources`: from `threads` up to `maxThreads` as the cpus allocated say. */
  readonly concurrency: 'fixed' | 'resources';
  readonly maxThreads: number;
  readonly maxPayloadBytes: number;
  readonly maxResultBytes: number;
  readonly maxBatchItems: number;
  readonly maxBatchItemBytes: number;
  readonly maxBatchResultBytes: number;
  /** Absolute. */
  readonly sandboxDirectory: string;
  readonly maxQueuedTasks: number;
  readonly maxQueuedBytes: number;
  readonly maxFrameworkMessageBytes: number;
  readonly progressIntervalMs: number;
  readonly defaultKillGracePeriodMs: number;
  readonly shutdownMarginMs: number;
  readonly workerMemoryMb: number | undefined;
  readonly taskMemoryLimits: boolean;
  readonly idleTimeoutMs: number;
  readonly maxIdleMemoryPools: number;
  readonly terminateWaitMs: number;
  readonly onFrameworkMessage: ((data: Uint8Array) => void) | undefined;
  readonly checks: TaskChecksRuntime;
  readonly logger: Logger;
  readonly workerFile: URL;
  readonly clock: Clock | undefined;
}

/** Fixed `threads`, or from the host's cores up to `maxThreads` (which caps both). */
function concurrency(options: PoolExecutorOptions, cores: number): Pick<ResolvedPoolOptions, 'threads' | 'concurrency' | 'maxThreads'> {
  if (options.threads !== undefined) {
    if (options.maxThreads !== undefined) throw new InvalidOptionError('maxThreads', 'maxThreads: applies when the concurrency follows the resources; with a fixed threads leave it out');
    const threads = integer('threads', options.threads, 1, 1024, cores);
    return { threads, concurrency: 'fixed', maxThreads: threads };
  }
  const maxThreads = integer('maxThreads', options.maxThreads, 1, 1024, DEFAULT_MAX_THREADS);
  return { threads: Math.min(cores, maxThreads), concurrency: 'resources', maxThreads };
}

/** The cap of the concurrency that follows the resources, unless `maxThreads` says otherwise. */
export const DEFAULT_MAX_THREADS = 256;

function defaults(): Omit<ResolvedPoolOptions, 'jobModules' | 'logger' | 'onFrameworkMessage' | 'workerMemoryMb' | 'clock' | 'checks' | 'concurrency' | 'maxThreads' | 'sandboxDirectory'> {
  return {
    builtinJobs: true,
    threads: availableParallelism(),
    maxPayloadBytes: DEFAULT_MAX_PAYLOAD_BYTES,
    maxResultBytes: 1024 * 1024,
    maxBatchItems: DEFAULT_MAX_BATCH_ITEMS,
    maxBatchItemBytes: DEFAULT_MAX_BATCH_ITEM_BYTES,
    maxBatchResultBytes: DEFAULT_MAX_BATCH_RESULT_BYTES,
    maxQueuedTasks: 10_000,
    maxQueuedBytes: 64 * 1024 * 1024,
    maxFrameworkMessageBytes: 1024 * 1024,
    progressIntervalMs: DEFAULT_PROGRESS_INTERVAL_MS,
    defaultKillGracePeriodMs: DEFAULT_KILL_GRACE_MS,
    shutdownMarginMs: 1_000,
    taskMemoryLimits: true,
    idleTimeoutMs: 30_000,
    maxIdleMemoryPools: 2,
    terminateWaitMs: 1_000,
    // src/pool/options.js → ../../workers/entry.cjs (which imports worker.js), in the build output as in the sources' layout.
    workerFile: new URL('../../workers/entry.cjs', import.meta.url),
  };
}

function integer(name: keyof PoolExecutorOptions, value: unknown, min: number, max: number, fallback: number): number {
  return is.optional(value, name, is.integer(min, max)) ?? fallback;
}

const clockCheck: is.Check<Clock> = {
  expected: 'an object with now, setTimeout and clearTimeout functions',
  test: (value): value is Clock => {
    const clock = value as Partial<Clock> | null;
    return typeof clock === 'object' && clock !== null && typeof clock.now === 'function' && typeof clock.setTimeout === 'function' && typeof clock.clearTimeout === 'function';
  },
};

const PATH: is.Check<string> = { expected: 'a non-empty path', test: is.nonEmptyString.test };

function directory(name: string, value: unknown): string {
  const path = is.optional(value, name, PATH);
  if (path === undefined) return process.cwd();
  return isAbsolute(path) ? path : resolve(path);
}

export function resolvePoolOptions(options: PoolExecutorOptions = {}): ResolvedPoolOptions {
  const base = defaults();
  const jobs = is.optional(options.jobs, 'jobs', is.array) ?? [];
  const cwd = process.cwd();
  const jobModules = mergeJobModules(jobs.map((entry: unknown, index) => resolveJobModule(entry as string | URL, cwd, `jobs[${index}]`)));
  const builtinJobs = is.optional(options.builtinJobs, 'builtinJobs', is.boolean) ?? base.builtinJobs;
  if (!builtinJobs && jobModules.length === 0) {
    throw new InvalidOptionError('jobs', 'jobs: empty while builtinJobs is false: no job could ever run');
  }
  if ((options as { shutdownGracePeriodMs?: unknown }).shutdownGracePeriodMs !== undefined) {
    // One owner: the agent gives it to the driver, and the pool reads it from there on SHUTDOWN.
    throw new InvalidOptionError('shutdownGracePeriodMs', "shutdownGracePeriodMs: not a pool option: the shutdown grace period is the driver's (ExecutorDriver.shutdownGracePeriodMs, from MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD)");
  }
  const onFrameworkMessage = is.optional(options.onFrameworkMessage, 'onFrameworkMessage', is.func) as PoolExecutorOptions['onFrameworkMessage'];
  const workerFile = is.optional(options.workerFile, 'workerFile', is.url) ?? base.workerFile;
  const clock = is.optional(options.clock, 'clock', clockCheck);
  return Object.freeze({
    jobModules: Object.freeze(jobModules),
    builtinJobs,
    ...concurrency(options, base.threads),
    maxPayloadBytes: integer('maxPayloadBytes', options.maxPayloadBytes, 16, 256 * 1024 * 1024, base.maxPayloadBytes),
    maxResultBytes: integer('maxResultBytes', options.maxResultBytes, 16, 256 * 1024 * 1024, base.maxResultBytes),
    maxBatchItems: integer('maxBatchItems', options.maxBatchItems, 1, 10_000_000, base.maxBatchItems),
    maxBatchItemBytes: integer('maxBatchItemBytes', options.maxBatchItemBytes, 16, 256 * 1024 * 1024, base.maxBatchItemBytes),
    maxBatchResultBytes: integer('maxBatchResultBytes', options.maxBatchResultBytes, 16, 16 * 1024 * 1024 * 1024, base.maxBatchResultBytes),
    sandboxDirectory: directory('sandboxDirectory', options.sandboxDirectory),
    maxQueuedTasks: integer('maxQueuedTasks', options.maxQueuedTasks, 0, 10_000_000, base.maxQueuedTasks),
    maxQueuedBytes: integer('maxQueuedBytes', options.maxQueuedBytes, 0, 16 * 1024 * 1024 * 1024, base.maxQueuedBytes),
    maxFrameworkMessageBytes: integer('maxFrameworkMessageBytes', options.maxFrameworkMessageBytes, 0, 1024 * 1024, base.maxFrameworkMessageBytes),
    progressIntervalMs: integer('progressIntervalMs', options.progressIntervalMs, 0, 3_600_000, base.progressIntervalMs),
    defaultKillGracePeriodMs: integer('defaultKillGracePeriodMs', options.defaultKillGracePeriodMs, 0, 24 * 3_600_000, base.defaultKillGracePeriodMs),
    shutdownMarginMs: integer('shutdownMarginMs', options.shutdownMarginMs, 0, 24 * 3_600_000, base.shutdownMarginMs),
    workerMemoryMb: options.workerMemoryMb === undefined ? undefined : integer('workerMemoryMb', options.workerMemoryMb, MIN_WORKER_MEMORY_MB, 1024 * 1024, 0),
    taskMemoryLimits: is.optional(options.taskMemoryLimits, 'taskMemoryLimits', is.boolean) ?? base.taskMemoryLimits,
    idleTimeoutMs: integer('idleTimeoutMs', options.idleTimeoutMs, 0, 24 * 3_600_000, base.idleTimeoutMs),
    maxIdleMemoryPools: integer('maxIdleMemoryPools', options.maxIdleMemoryPools, 0, 1024, base.maxIdleMemoryPools),
    terminateWaitMs: integer('terminateWaitMs', options.terminateWaitMs, 0, 60_000, base.terminateWaitMs),
    onFrameworkMessage,
    checks: resolveChecksOptions(options.checks, clock),
    logger: options.logger ?? silentLogger,
    workerFile,
    clock,
  });
}
