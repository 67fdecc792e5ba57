/**
 * PoolExecutor: a Mesos executor whose tasks are jobs run on a piscina worker-thread pool.
 *
 * Callbacks never wait for a job: `launchTask` validates the payload, sends TASK_STARTING and
 * queues the task, all synchronously. Workers report back on a per-task MessagePort (started,
 * progress, framework messages) and with their piscina response (result or error). Each task's
 * status sequence is decided by its {@link TaskLifecycle}; this class carries out the effects.
 *
 * At most `threads` runs are in the worker pool at once (across heap-limit lanes, see
 * worker-pool.ts); the rest wait in this class's FIFO queue, from where a kill removes them
 * at once. A kill of a started task aborts its `ctx.signal`; when the grace period ends with
 * the job still running, the run's piscina AbortSignal is aborted, which makes piscina
 * TERMINATE the thread (and start a replacement); TASK_KILLED follows the thread's exit.
 */
import { EventEmitter } from 'eventemitter3';
import type { CallbackResult, Executor, ExecutorDriver } from '../executor.js';
import type { Logger } from '../log.js';
import type { AgentInfo, ExecutorInfo, FrameworkInfo, KillPolicy, TaskID, TaskInfo } from '../proto/types.js';
import { TaskChecks, type TaskChecksHost } from '../checks/index.js';
import { backgroundClock, withLongTimers, type Clock } from '../clock.js';
import { admit } from './admission.js';
import { JobModuleError } from './errors.js';
import type { PoolExecutorEvents, RefusedState } from './events.js';
import { maxCompletionMs, resolveKillGraceMs } from './kill-policy.js';
import { resolvePoolOptions, type PoolExecutorOptions, type ResolvedPoolOptions } from './options.js';
import { resourceCpus, taskMemoryMb, type TaskPayload } from './payload.js';
import { runShutdown } from './shutdown.js';
import { StatusReporter } from './status.js';
import { TaskQueue } from './task-queue.js';
import { TaskRun, type RunHost } from './task-run.js';
import { TaskTable, type ProgressUpdate, type TaskGroup, type TaskRecord } from './task-table.js';
import { TaskLifecycle, type Effect, type KillCause, type Outcome, type StatusEffect, type TerminalState } from './task-state.js';
import { WorkerPool } from './worker-pool.js';

export class PoolExecutor extends EventEmitter<PoolExecutorEvents> implements Executor {
  readonly #options: ResolvedPoolOptions;
  readonly #logger: Logger;
  readonly #pool: WorkerPool;
  readonly #jobs: ReadonlySet<string>;
  /** Every timer of the pool: any delay is honoured (a 30-day grace is not a 1 ms loop). */
  readonly #clock: Clock;
  readonly #table = new TaskTable();
  /** Accepted tasks waiting for a free thread, in launch order. */
  readonly #queue = new TaskQueue();
  /** The checks of live tasks that have a check or a health check (src/checks). */
  readonly #checks = new Map<string, TaskChecks>();
  /** Subscribed to the agent: checks run only then (paused while disconnected). */
  #connected = false;
  /** Bound once, to the driver that delivered SUBSCRIBED (see {@link registered}). */
  readonly #reporter: StatusReporter;
  #inFlight = 0;
  /**
   * Threads terminated by kill escalation that have not exited yet (blocked in execSync, say):
   * they still hold a CPU, and piscina has started their replacement, so they count against
   * `threads` until they exit.
   */
  #lingering = 0;
  #killingStateCapable = false;
  #partitionAware = false;
  #shuttingDown = false;
  #destroyed = false;
  #shutdown: Promise<void> | undefined;
  #shutdownAcknowledged: boolean | undefined;
  #idleWaiters: Array<() => void> = [];
  /** `cpus` of the ExecutorInfo (SUBSCRIBED) and of the tasks in the table: what Mesos allocated. */
  #executorCpus = 0;
  #liveCpus = 0;
  readonly #taskCpus = new Map<string, number>();

  /**
   * Creates the worker pool and waits for the ready handshake: a worker loads the job modules
   * and lists their jobs. Rejects with MPE_JOB_MODULE when a module cannot be loaded, exports
   * no job, or exports a name already taken; with MPE_INVALID_OPTION for a bad option.
   */
  static async create(options: PoolExecutorOptions = {}): Promise<PoolExecutor> {
    const resolved = resolvePoolOptions(options);
    let onIdleError: (error: unknown) => void = () => {};
    const pool = new WorkerPool({
      threads: resolved.threads,
      maxThreads: resolved.maxThreads,
      workerFile: resolved.workerFile,
      startup: { builtinJobs: resolved.builtinJobs, jobModules: resolved.jobModules },
      workerMemoryMb: resolved.workerMemoryMb,
      idleTimeoutMs: resolved.idleTimeoutMs,
      maxIdleLanes: resolved.maxIdleMemoryPools,
      onIdleWorkerError: (error) => onIdleError(error),
    });
    let jobs: readonly string[];
    try {
      const described = await pool.describe();
      if (!described.ok) throw new JobModuleError(described.message);
      jobs = described.jobs;
    } catch (error) {
      await pool.destroy();
      if (error instanceof JobModuleError) throw error;
      const reason = error instanceof Error ? error.message : String(error);
      throw new JobModuleError(`the worker pool failed to start: ${reason}`, { cause: error });
    }
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
    this.#reporter = new StatusReporter(options.logger);
    this.#clock = withLongTimers(options.clock ?? backgroundClock);
  }

  /**
   * Listeners run synchronously inside the executor's bookkeeping; one that throws must not
   * leave a task half-ended (or crash the process from a worker-message or timer path), so
   * the error is logged and the executor goes on.
   */
  override emit<T extends EventEmitter.EventNames<PoolExecutorEvents>>(event: T, ...args: EventEmitter.EventArgs<PoolExecutorEvents, T>): boolean {
    try {
      return super.emit(event, ...args);
    } catch (error) {
      this.#logger.error({ event, err: error }, 'a PoolExecutor event listener threw');
      return true;
    }
  }

  // ---- what metrics and the CLI read ----

  /** The registered job names, sorted. */
  get jobs(): readonly string[] {
    return [...this.#jobs].sort();
  }

  /** Tasks accepted and not yet handed to a worker. */
  get queued(): number {
    return this.#queue.size + this.#pool.queueSize;
  }

  /** Tasks handed to a worker and not yet ended (including ones being killed). */
  get running(): number {
    return this.#inFlight;
  }

  /** Threads terminated by kill escalation and not exited yet (counted against `threads`). */
  get lingeringThreads(): number {
    return this.#lingering;
  }

  /** The configured pool size: the most tasks running at once. */
  /**
   * The most tasks running at once now: fixed `threads`, or (following the resources) the
   * host's cores, or the executor's cpus plus those of every live task, rounded up, if more;
   * at most `maxThreads`.
   */
  get threads(): number {
    const { concurrency, threads, maxThreads } = this.#options;
    if (concurrency === 'fixed') return threads;
    // A little slack so that 0.1 + 0.2 cpus rounds to 1, not 2.
    const allocated = Math.ceil(this.#executorCpus + this.#liveCpus - 1e-9);
    return Math.min(maxThreads, Math.max(threads, allocated));
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
    return this.#table.size;
  }

  // ---- Executor callbacks ----

  registered(driver: ExecutorDriver, executorInfo: ExecutorInfo, frameworkInfo: FrameworkInfo, _agentInfo: AgentInfo): void {
    // The driver passes itself to every callback, and SUBSCRIBED comes before any task: bound
    // here, once, it is the one every update and framework message goes through.
    this.#reporter.bind(driver);
    this.#executorCpus = resourceCpus(executorInfo.resources);
    this.#killingStateCapable = hasKillingState(frameworkInfo);
    this.#partitionAware = hasCapability(frameworkInfo, 'PARTITION_AWARE');
    this.#connected = true;
    this.#logger.info(
      { executorId: executorInfo.executor_id.value, threads: this.threads, jobs: this.jobs, taskKillingState: this.#killingStateCapable },
      'registered',
    );
  }

  reregistered(_driver: ExecutorDriver, agentInfo: AgentInfo, frameworkInfo?: FrameworkInfo): void {
    // As upstream's command executor: TASK_KILLING follows the framework's capabilities as of
    // the latest SUBSCRIBED (the framework may have re-registered with others meanwhile).
    if (frameworkInfo !== undefined) {
      this.#killingStateCapable = hasKillingState(frameworkInfo);
      this.#partitionAware = hasCapability(frameworkInfo, 'PARTITION_AWARE');
    }
    // Checks were paused while disconnected (as upstream's default executor): they resume now.
    this.#connected = true;
    for (const checks of this.#checks.values()) checks.resume();
    this.#logger.info({ agent: agentInfo.hostname, taskKillingState: this.#killingStateCapable }, 'reregistered');
  }

  disconnected(_driver: ExecutorDriver): void {
    // The driver keeps our updates and delivers them on resubscription. Checks pause: their
    // results could not reach the agent, and a health kill must not follow an agent outage.
    this.#connected = false;
    for (const checks of this.#checks.values()) checks.pause();
    this.#logger.warn({ tasks: this.#table.size }, 'disconnected from the agent');
  }

  launchTask(_driver: ExecutorDriver, task: TaskInfo): void {
    this.#launch([task], false);
  }

  launchTaskGroup(_driver: ExecutorDriver, tasks: TaskInfo[]): void {
    this.#launch(tasks, true);
  }

  killTask(_driver: ExecutorDriver, taskId: TaskID, killPolicy?: KillPolicy): void {
    const id = taskId.value;
    const record = this.#table.get(id);
    if (record === undefined) {
      const ended = this.#table.endedAs(id);
      this.#logger.info({ taskId: id, endedAs: ended }, ended === undefined ? 'kill ignored: unknown task' : 'kill ignored: task already ended');
      return;
    }
    if (this.#shuttingDown) {
      this.#logger.info({ taskId: id }, 'kill ignored: shutting down, every task is being killed');
      return;
    }
    this.#kill(record, { kind: 'request' }, resolveKillGraceMs(killPolicy, record.killPolicy, this.#options.defaultKillGracePeriodMs));
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
   * Kills every task within the shutdown grace period (less the margin kept for the updates),
   * sends their terminal updates, waits (bounded) for their acknowledgements, destroys the
   * pool and stops the driver. Launches from now on are refused (TASK_FAILED).
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
  async destroy(): Promise<void> {
    this.#shuttingDown = true;
    this.#destroyed = true;
    this.#queue.clear();
    for (const checks of this.#checks.values()) checks.stop();
    this.#checks.clear();
    for (const record of this.#table.list()) {
      record.run?.dispose();
    }
    await this.#pool.destroy();
    this.#wakeIdleWaiters();
  }

  // ---- launching ----

  #launch(tasks: readonly TaskInfo[], isGroup: boolean): void {
    const { decisions, group } = admit(tasks, isGroup, {
      logger: this.#logger,
      jobs: this.#jobs,
      maxPayloadBytes: this.#options.maxPayloadBytes,
      maxQueuedTasks: this.#options.maxQueuedTasks,
      maxQueuedBytes: this.#options.maxQueuedBytes,
      isLive: (id) => this.#table.has(id),
      queued: this.#queue.size,
      queuedBytes: this.#queue.bytes,
      // The queue is pumped after every launch: tasks wait only when no thread is free.
      freeThreads: this.#queue.size > 0 ? 0 : Math.max(0, this.#options.threads - this.#inFlight - this.#lingering),
      partitionAware: this.#partitionAware,
      shuttingDown: this.#shuttingDown,
    });
    const taskGroup: TaskGroup | undefined = group === undefined ? undefined : { taskIds: group };
    for (const decision of decisions) {
      if (decision.kind === 'refuse') this.#refuse(decision.taskId, decision.state, decision.message, decision.reason);
      else this.#accept(decision.task, decision.payload, taskGroup);
    }
    this.#pump();
  }

  #refuse(taskId: string, state: RefusedState, message: string, reason: StatusEffect['reason']): void {
    this.#send(taskId, { type: 'status', state, message, ...(reason !== undefined ? { reason } : {}) });
    this.#logger.info({ taskId, state, message }, 'task refused');
    this.emit('taskRejected', { taskId, state, message });
  }

  #accept(task: TaskInfo, payload: TaskPayload, group: TaskGroup | undefined): void {
    const lifecycle = new TaskLifecycle();
    const record = this.#table.add({
      task,
      job: payload.job,
      input: payload.input,
      memoryMb: this.#options.taskMemoryLimits ? taskMemoryMb(task) : undefined,
      group,
      lifecycle,
      acceptedAt: this.#clock.now(),
    });
    const cpus = resourceCpus(task.resources);
    if (cpus > 0) {
      this.#taskCpus.set(record.id, cpus);
      this.#liveCpus += cpus;
    }
    this.#queue.add(record);
    const checks = TaskChecks.for(task, this.#options.checks, this.#checksHost(record));
    if (checks !== undefined) this.#checks.set(record.id, checks);
    this.#apply(record, lifecycle.accept());
    this.emit('taskAccepted', { taskId: record.id, job: record.job });
    const limitMs = maxCompletionMs(task);
    // Counted from launch, as upstream's command executor does: time queued counts too.
    if (limitMs !== undefined) this.#armDeadline(record, limitMs, record.acceptedAt + limitMs);
  }

  // ---- runs ----

  /** Hands queued tasks' runs to the pool while fewer than `threads` runs are in flight. */
  #pump(): void {
    while (!this.#shuttingDown && this.#inFlight + this.#lingering < this.threads && this.#queue.size > 0) {
      const record = this.#queue.shift()!;
      if (this.#table.get(record.id) === record) this.#dispatch(record);
    }
  }

  #dispatch(record: TaskRecord): void {
    record.lifecycle.dispatch();
    this.#inFlight++;
    record.run = new TaskRun(record, this.#runHost);
  }

  /** What every run reports to: one object for the executor's life, not one per run. */
  readonly #runHost: RunHost = this.#makeRunHost();

  #makeRunHost(): RunHost {
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const executor = this;
    const options = (): ResolvedPoolOptions => executor.#options;
    return {
      get clock() {
        return executor.#clock;
      },
      get logger() {
        return executor.#logger;
      },
      get pool() {
        return executor.#pool;
      },
      get progressIntervalMs() {
        return options().progressIntervalMs;
      },
      get maxResultBytes() {
        return options().maxResultBytes;
      },
      get maxFrameworkMessageBytes() {
        return options().maxFrameworkMessageBytes;
      },
      get terminateWaitMs() {
        return options().terminateWaitMs;
      },
      get destroyed() {
        return executor.#destroyed;
      },
      started: (run) => this.#apply(run.task, run.task.lifecycle.started()),
      progress: (run, update) => this.#sendProgress(run.task, update),
      frameworkMessage: (run, data) => this.#reporter.sendFrameworkMessage(run.task.id, data),
      frameworkMessageDropped: (run, bytes) => {
        const record = run.task;
        // Once per task: a job looping on oversized messages must not flood the log.
        if (!record.messageDropped) {
          record.messageDropped = true;
          this.#logger.warn(
            { taskId: record.id, job: record.job, bytes, limit: this.#options.maxFrameworkMessageBytes },
            'framework message from a job dropped: over the size limit',
          );
        }
        this.emit('frameworkMessageDropped', { taskId: record.id, job: record.job, bytes });
      },
      workerReplaced: (run, loss) => this.emit('workerReplaced', { reason: loss, taskId: run.task.id }),
      lingering: (thread) => {
        this.#lingering++;
        thread.once('exit', () => {
          this.#lingering--;
          this.#pump();
        });
      },
      settled: (run, outcome) => this.#settle(run, outcome),
    };
  }

  #sendProgress(record: TaskRecord, update: ProgressUpdate): void {
    if (!record.lifecycle.acceptsProgress) return;
    this.#send(record.id, { type: 'status', state: 'TASK_RUNNING', message: update.message, ...(update.data !== undefined ? { data: update.data } : {}) });
    this.emit('progress', { taskId: record.id, job: record.job, message: update.message });
  }

  /** The run is over: free its slot and resources, then let the lifecycle decide the update. */
  #settle(run: TaskRun, outcome: Outcome): void {
    const record = run.task;
    this.#inFlight--;
    if (!this.#destroyed) run.drain();
    // Before the terminal update: nothing the task started outlives it.
    run.dispose();
    if (record.run === run) record.run = undefined;
    if (!this.#destroyed) this.#apply(record, record.lifecycle.end(outcome));
    this.#pump();
  }

  // ---- killing ----

  /** Kills the task at `at` (clock time). */
  #armDeadline(record: TaskRecord, limitMs: number, at: number): void {
    record.deadlineTimer = this.#clock.setTimeout(() => {
      record.deadlineTimer = undefined;
      this.#kill(record, { kind: 'deadline', limitMs }, 0);
    }, at - this.#clock.now());
  }

  #kill(record: TaskRecord, cause: KillCause, graceMs: number): void {
    // As upstream: checking stops at the first kill, so no health or check update follows it.
    this.#checks.get(record.id)?.stop();
    this.#apply(record, record.lifecycle.kill({ cause, graceMs, now: this.#clock.now(), sendKilling: this.#killingStateCapable }));
  }

  #apply(record: TaskRecord, effects: readonly Effect[]): void {
    for (const effect of effects) {
      switch (effect.type) {
        case 'status':
          this.#send(record.id, effect);
          if (effect.state === 'TASK_RUNNING' && record.startedAt === undefined) this.#started(record);
          break;
        case 'dequeue':
          this.#queue.remove(record.id);
          break;
        case 'abortJob':
          record.run?.stop(effect.reason);
          break;
        case 'armEscalation':
          record.run?.armEscalation(effect.at, () => this.#apply(record, record.lifecycle.escalate(this.#clock.now())));
          break;
        case 'terminateWorker':
          this.#logger.warn({ taskId: record.id, job: record.job }, 'kill grace period over: terminating the worker thread');
          this.emit('killEscalated', { taskId: record.id, job: record.job });
          record.run?.terminate();
          break;
        case 'ended':
          this.#ended(record, effect.state, effect.reason);
          break;
      }
    }
  }

  #started(record: TaskRecord): void {
    const now = this.#clock.now();
    record.startedAt = now;
    record.run?.progressSent();
    this.#checks.get(record.id)?.start(!this.#connected);
    this.emit('taskStarted', { taskId: record.id, job: record.job, queueWaitMs: now - record.acceptedAt });
  }

  #ended(record: TaskRecord, state: TerminalState, reason: StatusEffect['reason']): void {
    if (record.deadlineTimer !== undefined) this.#clock.clearTimeout(record.deadlineTimer);
    record.deadlineTimer = undefined;
    this.#checks.get(record.id)?.stop();
    this.#checks.delete(record.id);
    this.#table.end(record.id, state);
    const cpus = this.#taskCpus.get(record.id);
    if (cpus !== undefined) {
      this.#taskCpus.delete(record.id);
      this.#liveCpus = this.#taskCpus.size === 0 ? 0 : this.#liveCpus - cpus;
    }
    this.emit('taskEnded', {
      taskId: record.id,
      job: record.job,
      state,
      ...(reason !== undefined ? { reason } : {}),
      durationMs: this.#clock.now() - record.acceptedAt,
    });
    // The default executor's group rule: one task FAILED or KILLED takes the group down.
    if (record.group !== undefined && !this.#shuttingDown && (state === 'TASK_FAILED' || state === 'TASK_KILLED')) {
      for (const id of record.group.taskIds) {
        const other = this.#table.get(id);
        if (other === undefined) continue;
        this.#kill(other, { kind: 'group', taskId: record.id, state }, resolveKillGraceMs(undefined, other.killPolicy, this.#options.defaultKillGracePeriodMs));
      }
    }
    if (this.#table.size === 0) this.#wakeIdleWaiters();
  }

  #send(taskId: string, effect: StatusEffect): void {
    const checks = this.#checks.get(taskId);
    this.#sendAsIs(taskId, checks === undefined ? effect : checks.outgoing(effect));
  }

  #sendAsIs(taskId: string, effect: StatusEffect): void {
    this.#reporter.send(taskId, effect);
    this.emit('statusUpdate', { taskId, state: effect.state });
  }

  /** What a task's checks may do to it: send their updates, kill it, report their results. */
  #checksHost(record: TaskRecord): TaskChecksHost {
    const { id: taskId, job } = record;
    return {
      send: (status) => this.#sendAsIs(taskId, { type: 'status', ...status }),
      kill: ({ type, consecutiveFailures, reason }) => {
        const live = this.#table.get(taskId);
        if (live !== record || this.#shuttingDown) return;
        this.#logger.warn({ taskId, job, consecutiveFailures, reason }, 'health check failed too many times: killing the task');
        this.emit('healthCheckKill', { taskId, job, type, consecutiveFailures });
        // The same path as a KILL without a policy of its own: the task's kill policy, else the default grace.
        this.#kill(live, { kind: 'healthCheck', consecutiveFailures, reason }, resolveKillGraceMs(undefined, live.killPolicy, this.#options.defaultKillGracePeriodMs));
      },
      healthResult: (info) => {
        if (info.result !== 'passed') this.#logger.warn({ taskId, job, result: info.result, reason: info.reason }, `${info.type} health check failed`);
        this.emit('healthCheck', { taskId, job, type: info.type, result: info.result, durationMs: info.durationMs });
      },
      checkResult: (info) => this.emit('checkResult', { taskId, job, type: info.type, result: info.result, durationMs: info.durationMs }),
    };
  }

  // ---- shutdown ----

  async #runShutdown(driver: ExecutorDriver): Promise<void> {
    const startedAt = this.#clock.now();
    const acknowledged = await runShutdown(
      {
        clock: this.#clock,
        logger: this.#logger,
        marginMs: this.#options.shutdownMarginMs,
        terminateWaitMs: this.#options.terminateWaitMs,
        killAll: (killGraceMs) => {
          this.#shuttingDown = true;
          const live = this.#table.list();
          this.#logger.info({ tasks: live.length, killGraceMs }, 'shutting down');
          this.emit('shutdownStarted', { tasks: live.length, killGraceMs });
          // Queued tasks first (KILLED at once), so that nothing queued is started by a freed slot.
          for (const record of live) if (record.lifecycle.phase === 'queued') this.#kill(record, { kind: 'shutdown' }, killGraceMs);
          for (const record of live) this.#kill(record, { kind: 'shutdown' }, killGraceMs);
          return live.length;
        },
        whenIdle: (timeoutMs) => this.#whenIdle(timeoutMs),
        endRemaining: () => {
          for (const record of this.#table.list()) {
            this.#logger.error({ taskId: record.id }, 'task did not end during shutdown; reporting it killed');
            this.#apply(record, record.lifecycle.end({ kind: 'terminated' }));
          }
        },
        destroyPool: () => {
          this.#destroyed = true;
          return this.#pool.destroy();
        },
      },
      driver,
    );
    const durationMs = this.#clock.now() - startedAt;
    this.#shutdownAcknowledged = acknowledged;
    this.#logger.info({ acknowledged, durationMs }, 'shutdown complete');
    this.emit('shutdownCompleted', { acknowledged, durationMs });
  }

  /** Resolves true when no task is live, false after `timeoutMs`. */
  #whenIdle(timeoutMs: number): Promise<boolean> {
    if (this.#table.size === 0 || this.#destroyed) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = this.#clock.setTimeout(() => resolve(false), timeoutMs);
      this.#idleWaiters.push(() => {
        this.#clock.clearTimeout(timer);
        resolve(true);
      });
    });
  }

  #wakeIdleWaiters(): void {
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const wake of waiters) wake();
  }

  #onIdleWorkerError(error: unknown): void {
    // A worker died with no task in hand: a job left a timer or promise that threw after it
    // returned. piscina replaces the thread; no task is affected.
    this.#logger.error({ err: error }, 'a worker thread crashed between tasks');
    this.emit('workerReplaced', { reason: 'crash' });
  }
}

function hasKillingState(frameworkInfo: FrameworkInfo): boolean {
  return hasCapability(frameworkInfo, 'TASK_KILLING_STATE');
}

function hasCapability(frameworkInfo: FrameworkInfo, type: string): boolean {
  return (frameworkInfo.capabilities ?? []).some((c) => c.type === type);
}
