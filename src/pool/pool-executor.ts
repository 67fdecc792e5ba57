/**
 * PoolExecutor: a Mesos executor whose tasks are jobs run on a piscina worker-thread pool.
 *
 * Callbacks never wait for a job: `launchTask` validates the payload, sends TASK_STARTING and
 * queues the task, all synchronously. This class is the Mesos-facing side (the callbacks, what
 * metrics and the CLI read, the shutdown); the tasks themselves are the {@link TaskScheduler}'s:
 * their queue, their runs on the pool ({@link TaskRun}) and their lifecycle's effects.
 *
 * A kill of a started task aborts its `ctx.signal`; when the grace period ends with the job
 * still running, the run's piscina AbortSignal is aborted, which makes piscina TERMINATE the
 * thread (and start a replacement); TASK_KILLED follows the thread's exit.
 */
import type { EventEmitter } from 'eventemitter3';
import type { CallbackResult, Executor, ExecutorDriver } from '../executor.js';
import type { Logger } from '../log.js';
import type { AgentInfo, ExecutorInfo, FrameworkInfo, KillPolicy, TaskID, TaskInfo } from '../proto/types.js';
import { backgroundClock, withLongTimers, type Clock } from '../clock.js';
import { GuardedEmitter } from '../guarded-emitter.js';
import type { PoolExecutorEvents } from './events.js';
import { resolvePoolOptions, type PoolExecutorOptions, type ResolvedPoolOptions } from './options.js';
import { resourceCpus } from './payload.js';
import { TaskScheduler, type EmitEvent } from './scheduler.js';
import { runShutdown } from './shutdown.js';
import { WorkerPool } from './worker-pool.js';

export class PoolExecutor extends GuardedEmitter<PoolExecutorEvents> implements Executor {
  readonly #options: ResolvedPoolOptions;
  readonly #logger: Logger;
  readonly #pool: WorkerPool;
  readonly #jobs: ReadonlySet<string>;
  /** Every timer of the pool: any delay is honoured (a 30-day grace is not a 1 ms loop). */
  readonly #clock: Clock;
  readonly #tasks: TaskScheduler;
  #shutdown: Promise<void> | undefined;
  #shutdownAcknowledged: boolean | undefined;

  /**
   * Creates the worker pool and waits for the ready handshake: a worker loads the job modules
   * and lists their jobs. Rejects with MPE_JOB_MODULE when a module cannot be loaded, exports
   * no job, or exports a name already taken; with MPE_INVALID_OPTION for a bad option.
   */
  static async create(options: PoolExecutorOptions = {}): Promise<PoolExecutor> {
    const resolved = resolvePoolOptions(options);
    let onIdleError: (error: unknown) => void = () => {};
    const { pool, jobs } = await WorkerPool.start({
      threads: resolved.threads,
      maxThreads: resolved.maxThreads,
      workerFile: resolved.workerFile,
      startup: { builtinJobs: resolved.builtinJobs, jobModules: resolved.jobModules },
      workerMemoryMb: resolved.workerMemoryMb,
      idleTimeoutMs: resolved.idleTimeoutMs,
      maxIdleLanes: resolved.maxIdleMemoryPools,
      onIdleWorkerError: (error) => onIdleError(error),
    });
    const executor = new PoolExecutor(resolved, pool, new Set(jobs));
    onIdleError = (error) => executor.#onIdleWorkerError(error);
    return executor;
  }

  private constructor(options: ResolvedPoolOptions, pool: WorkerPool, jobs: ReadonlySet<string>) {
    super();
    this.#options = options;
    this.#logger = options.logger;
    this.#pool = pool;
    this.#jobs = jobs;
    this.#clock = withLongTimers(options.clock ?? backgroundClock);
    // Every event has one argument: the scheduler calls emit as (event, info), no array per call.
    const emit = this.emit.bind(this) as unknown as EmitEvent;
    this.#tasks = new TaskScheduler(options, this.#clock, pool, jobs, emit);
  }

  /**
   * Listeners run synchronously inside the executor's bookkeeping; one that throws must not
   * leave a task half-ended (or crash the process from a worker-message or timer path), so
   * the error is logged and the executor goes on (GuardedEmitter).
   */
  protected override listenerFailed(event: EventEmitter.EventNames<PoolExecutorEvents>, error: unknown): void {
    this.#logger.error({ event, err: error }, 'a PoolExecutor event listener threw');
  }

  // ---- what metrics and the CLI read ----

  /** The registered job names, sorted. */
  get jobs(): readonly string[] {
    return [...this.#jobs].sort();
  }

  /** Tasks accepted and not yet handed to a worker. */
  get queued(): number {
    return this.#tasks.queued;
  }

  /** Tasks handed to a worker and not yet ended (including ones being killed). */
  get running(): number {
    return this.#tasks.running;
  }

  /** Worker threads running a job now: one per single task, one per chunk of a batch in flight. */
  get busyThreads(): number {
    return this.#tasks.busyThreads;
  }

  /** Threads terminated by kill escalation and not exited yet (counted against `threads`). */
  get lingeringThreads(): number {
    return this.#tasks.lingering;
  }

  /**
   * The most tasks running at once now: fixed `threads`, or (following the resources) the
   * host's cores, or the executor's cpus plus those of every live task, rounded up, if more;
   * at most `maxThreads`.
   */
  get threads(): number {
    return this.#tasks.threads;
  }

  /** The shared threads' utilization, 0..1 (piscina's measure). */
  get utilization(): number {
    return this.#pool.utilization;
  }

  /** Worker threads alive now, in all lanes (0 once the pool is destroyed). */
  get liveThreads(): number {
    return this.#pool.threadCount;
  }

  /** Per-memory-limit pools alive (besides the shared one). */
  get memoryPools(): number {
    return this.#pool.laneCount;
  }

  /** Live tasks (queued, running or being killed). */
  get tasks(): number {
    return this.#tasks.size;
  }

  // ---- Executor callbacks ----

  registered(driver: ExecutorDriver, executorInfo: ExecutorInfo, frameworkInfo: FrameworkInfo, _agentInfo: AgentInfo): void {
    // The one place the driver is bound (every later callback comes from the same driver).
    this.#tasks.subscribed(driver, resourceCpus(executorInfo.resources), frameworkInfo);
    this.#logger.info(
      { executorId: executorInfo.executor_id.value, threads: this.threads, jobs: this.jobs, taskKillingState: this.#tasks.taskKillingState },
      'registered',
    );
  }

  reregistered(_driver: ExecutorDriver, agentInfo: AgentInfo, frameworkInfo?: FrameworkInfo): void {
    this.#tasks.resubscribed(frameworkInfo);
    this.#logger.info({ agent: agentInfo.hostname, taskKillingState: this.#tasks.taskKillingState }, 'reregistered');
  }

  disconnected(_driver: ExecutorDriver): void {
    this.#tasks.disconnected();
    this.#logger.warn({ tasks: this.#tasks.size }, 'disconnected from the agent');
  }

  launchTask(_driver: ExecutorDriver, task: TaskInfo): void {
    this.#tasks.launch([task], false);
  }

  launchTaskGroup(_driver: ExecutorDriver, tasks: TaskInfo[]): void {
    this.#tasks.launch(tasks, true);
  }

  killTask(_driver: ExecutorDriver, taskId: TaskID, killPolicy?: KillPolicy): void {
    this.#tasks.killRequested(taskId.value, killPolicy);
  }

  frameworkMessage(_driver: ExecutorDriver, data: Uint8Array): void {
    try {
      this.#options.onFrameworkMessage?.(data);
    } catch (error) {
      this.#logger.error({ err: error }, 'onFrameworkMessage threw');
    }
    this.emit('frameworkMessage', { data });
  }

  /**
   * Kills every task within the driver's shutdown grace period (less the margin kept for the
   * updates), sends their terminal updates, waits (bounded) for their acknowledgements,
   * destroys the pool and stops the driver. Launches from now on are refused (TASK_FAILED).
   *
   * Returns at once: the shutdown runs beside the driver's callback loop, so events that come
   * during it (a KILL, a late LAUNCH, a MESSAGE) are still delivered and answered.
   */
  shutdown(driver: ExecutorDriver): CallbackResult {
    this.#shutdown ??= this.#runShutdown(driver).catch((error: unknown) => {
      this.#logger.error({ err: error }, 'shutdown failed');
    });
  }

  /** Resolves when a shutdown that began has finished (the driver stopped); at once when none began. */
  whenShutDown(): Promise<void> {
    return this.#shutdown ?? Promise.resolve();
  }

  /** After a shutdown: whether every status update was acknowledged before the driver stopped. */
  get shutdownAcknowledged(): boolean | undefined {
    return this.#shutdownAcknowledged;
  }

  error(_driver: ExecutorDriver, message: string): CallbackResult {
    // The driver is already aborted: nothing can be reported any more.
    this.#logger.error({ message }, 'fatal driver error; destroying the pool');
    return this.destroy();
  }

  /**
   * Terminates every worker now, without status updates (the driver is gone, or this is a
   * test's cleanup). Prefer letting `shutdown` run.
   */
  destroy(): Promise<void> {
    return this.#tasks.destroy();
  }

  async #runShutdown(driver: ExecutorDriver): Promise<void> {
    const { shutdownMarginMs: marginMs, terminateWaitMs } = this.#options;
    const completed = await runShutdown({ clock: this.#clock, logger: this.#logger, marginMs, terminateWaitMs }, this.#tasks, driver);
    this.#shutdownAcknowledged = completed.acknowledged;
    this.emit('shutdownCompleted', completed);
  }

  #onIdleWorkerError(error: unknown): void {
    // A worker died with no task in hand: a job left a timer or promise that threw after it
    // returned. piscina replaces the thread; no task is affected.
    this.#logger.error({ err: error }, 'a worker thread crashed between tasks');
    this.emit('workerReplaced', { reason: 'crash' });
  }
}
