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
import { MessageChannel, receiveMessageOnPort, type Worker } from 'node:worker_threads';
import { EventEmitter } from 'eventemitter3';
import type { CallbackResult, Executor, ExecutorDriver } from '../executor.js';
import type { Logger } from '../log.js';
import type { AgentInfo, ExecutorInfo, FrameworkInfo, KillPolicy, TaskID, TaskInfo } from '../proto/types.js';
import type { RunRequest, RunResponse, WorkerToMain } from '../../workers/protocol.js';
import { killGroup } from '../../workers/process-group.js';
import { TaskChecks, taskChecksProblem, type TaskChecksHost } from '../checks/index.js';
import { backgroundClock, withLongTimers, type Clock } from '../clock.js';
import { JobModuleError } from './errors.js';
import type { PoolExecutorEvents, RefusedState } from './events.js';
import { classifyRunError } from './faults.js';
import { maxCompletionMs, maxCompletionProblem, resolveKillGraceMs } from './kill-policy.js';
import { resolvePoolOptions, type PoolExecutorOptions, type ResolvedPoolOptions } from './options.js';
import { parsePayload, resourceCpus, taskMemoryMb, type TaskPayload } from './payload.js';
import { ProgressLimiter } from './progress.js';
import { StatusReporter } from './status.js';
import { TaskTable, type ProgressUpdate, type TaskGroup, type TaskRecord } from './task-table.js';
import { TaskLifecycle, type Effect, type KillCause, type Outcome, type StatusEffect, type TerminalState } from './task-state.js';
import { WorkerPool } from './worker-pool.js';

/** Least time given to the acknowledgement wait on shutdown, even when the grace period is spent. */
const MIN_ACK_WAIT_MS = 100;
/** Of the shutdown grace period, kept for destroying the pool and stopping the driver. */
const SHUTDOWN_TAIL_MS = 250;

interface RunState {
  /** Escalation aborted the run: its rejection is ours. */
  terminating: boolean;
}

function waitForExit(worker: Worker, ms: number, clock: Clock): Promise<boolean> {
  if (worker.threadId === -1) return Promise.resolve(true);
  return new Promise((resolve) => {
    const onExit = (): void => {
      clock.clearTimeout(timer);
      resolve(true);
    };
    const timer = clock.setTimeout(() => {
      worker.off('exit', onExit);
      resolve(false);
    }, ms);
    worker.once('exit', onExit);
  });
}

function responseOutcome(response: RunResponse): Outcome {
  if (response.ok) return { kind: 'succeeded', data: response.json };
  // The worker always sends a string; a worker file of another version might not.
  const message = typeof response.message === 'string' ? response.message : 'the job failed (its worker gave no message)';
  if (response.failure === 'stopped') return { kind: 'stopped', message };
  return { kind: 'failed', message };
}

export class PoolExecutor extends EventEmitter<PoolExecutorEvents> implements Executor {
  readonly #options: ResolvedPoolOptions;
  readonly #logger: Logger;
  readonly #pool: WorkerPool;
  readonly #jobs: ReadonlySet<string>;
  /** Every timer of the pool: any delay is honoured (a 30-day grace is not a 1 ms loop). */
  readonly #clock: Clock;
  readonly #table = new TaskTable();
  /** Accepted tasks waiting for a free thread, in launch order (a Set keeps insertion order). */
  readonly #queue = new Set<string>();
  readonly #runs = new WeakMap<TaskRecord, RunState>();
  /** The checks of live tasks that have a check or a health check (src/checks). */
  readonly #checks = new Map<string, TaskChecks>();
  /** Subscribed to the agent: checks run only then (paused while disconnected). */
  #connected = false;
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
  /** Bytes of task data of the tasks in {@link #queue}. */
  #queuedBytes = 0;
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
    this.#reporter.driver = driver;
    this.#executorCpus = resourceCpus(executorInfo.resources);
    this.#killingStateCapable = hasKillingState(frameworkInfo);
    this.#partitionAware = hasCapability(frameworkInfo, 'PARTITION_AWARE');
    this.#connected = true;
    this.#logger.info(
      { executorId: executorInfo.executor_id.value, threads: this.threads, jobs: this.jobs, taskKillingState: this.#killingStateCapable },
      'registered',
    );
  }

  reregistered(driver: ExecutorDriver, agentInfo: AgentInfo, frameworkInfo?: FrameworkInfo): void {
    this.#reporter.driver = driver;
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

  launchTask(driver: ExecutorDriver, task: TaskInfo): void {
    this.#reporter.driver = driver;
    this.#launch([task], false);
  }

  launchTaskGroup(driver: ExecutorDriver, tasks: TaskInfo[]): void {
    this.#reporter.driver = driver;
    this.#launch(tasks, true);
  }

  killTask(driver: ExecutorDriver, taskId: TaskID, killPolicy?: KillPolicy): void {
    this.#reporter.driver = driver;
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

  frameworkMessage(driver: ExecutorDriver, data: Uint8Array): void {
    this.#reporter.driver = driver;
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
    this.#reporter.driver = driver;
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
    this.#queuedBytes = 0;
    for (const checks of this.#checks.values()) checks.stop();
    this.#checks.clear();
    for (const record of this.#table.list()) {
      this.#killProcessGroups(record, 'SIGKILL');
      this.#releaseRun(record);
    }
    await this.#pool.destroy();
    this.#wakeIdleWaiters();
  }

  // ---- launching ----

  #launch(tasks: readonly TaskInfo[], isGroup: boolean): void {
    if (this.#shuttingDown) {
      // The agent reports an exited executor's unfinished tasks as TASK_FAILED with
      // REASON_EXECUTOR_TERMINATED (PROTOCOL.md §7.5): a LAUNCH that races the SHUTDOWN gets the
      // same, so a scheduler sees one outcome either way. TASK_KILLED would claim a kill that
      // nobody asked for; FAILED tells it to run the task elsewhere.
      const refused = new Set<string>();
      for (const task of tasks) {
        const id = task.task_id.value;
        // A live id is a task being killed by the shutdown: its own terminal update is coming.
        if (this.#table.has(id) || refused.has(id)) continue;
        refused.add(id);
        this.#refuse(id, 'TASK_FAILED', 'the executor is shutting down; the task was not started', 'REASON_EXECUTOR_TERMINATED');
      }
      return;
    }
    const checked: Array<{ task: TaskInfo; payload?: TaskPayload; problem?: string }> = [];
    const seen = new Set<string>();
    for (const task of tasks) {
      const id = task.task_id.value;
      if (this.#table.has(id) || seen.has(id)) {
        // A status for this id would land on the live task of the same id: say nothing.
        this.#logger.warn({ taskId: id }, 'launch ignored: a task with this id is already live');
        if (isGroup) checked.push({ task, problem: `task id ${JSON.stringify(id)} is used twice` });
        continue;
      }
      seen.add(id);
      const invalid = maxCompletionProblem(task) ?? taskChecksProblem(task);
      if (invalid !== undefined) {
        checked.push({ task, problem: invalid });
        continue;
      }
      try {
        checked.push({ task, payload: parsePayload(task.data, this.#jobs, this.#options.maxPayloadBytes) });
      } catch (error) {
        checked.push({ task, problem: error instanceof Error ? error.message : String(error) });
      }
    }
    const firstProblem = checked.find((c) => c.problem !== undefined);
    if (isGroup && firstProblem !== undefined) {
      // Like the master, treat a group as one: one invalid task makes the whole group invalid.
      const culprit = `task group is invalid: task ${JSON.stringify(firstProblem.task.task_id.value)}: ${firstProblem.problem}`;
      const refused = new Set<string>();
      for (const c of checked) {
        const id = c.task.task_id.value;
        // One update per id: never one for a live task, never two for an id repeated in the group.
        if (this.#table.has(id) || refused.has(id)) continue;
        refused.add(id);
        this.#refuse(id, 'TASK_ERROR', c.problem ?? culprit, 'REASON_TASK_GROUP_INVALID');
      }
      return;
    }
    const full = this.#queueFull(checked.filter((c) => c.payload !== undefined).map((c) => c.task));
    if (full !== undefined) {
      // Never started, and may well succeed later or on another agent: what TASK_DROPPED means
      // (TASK_LOST for a framework that does not know it, as the master does). A group goes
      // as one, as it would have run as one.
      const state = this.#partitionAware ? 'TASK_DROPPED' : 'TASK_LOST';
      this.#logger.warn({ tasks: checked.length, queued: this.#queue.size, queuedBytes: this.#queuedBytes }, 'launch refused: the queue is full');
      for (const c of checked) this.#refuse(c.task.task_id.value, c.payload === undefined ? 'TASK_ERROR' : state, c.problem ?? full, c.payload === undefined ? 'REASON_TASK_INVALID' : undefined);
      return;
    }
    const group: TaskGroup | undefined = isGroup ? { taskIds: checked.map((c) => c.task.task_id.value) } : undefined;
    for (const c of checked) {
      if (c.payload === undefined) {
        this.#refuse(c.task.task_id.value, 'TASK_ERROR', c.problem ?? 'invalid task', 'REASON_TASK_INVALID');
        continue;
      }
      this.#accept(c.task, c.payload, group);
    }
    this.#pump();
  }

  /**
   * Why these tasks cannot be queued, when they cannot: the ones a free thread would not take at
   * once must fit within the queue's bounds (count and bytes of task data).
   */
  #queueFull(tasks: readonly TaskInfo[]): string | undefined {
    // The queue is pumped after every launch: tasks wait only when no thread is free.
    const free = this.#queue.size > 0 ? 0 : Math.max(0, this.#options.threads - this.#inFlight - this.#lingering);
    const waiting = tasks.slice(free);
    if (waiting.length === 0) return undefined;
    const { maxQueuedTasks, maxQueuedBytes } = this.#options;
    if (this.#queue.size + waiting.length > maxQueuedTasks) {
      return `the executor's queue is full: ${this.#queue.size} tasks wait for a thread, the most is ${maxQueuedTasks}; the task was not started`;
    }
    const bytes = waiting.reduce((sum, task) => sum + (task.data?.byteLength ?? 0), 0);
    if (this.#queuedBytes + bytes > maxQueuedBytes) {
      return `the executor's queue is full: ${this.#queuedBytes} bytes of task data wait for a thread, and ${bytes} more would pass the most, ${maxQueuedBytes}; the task was not started`;
    }
    return undefined;
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
    this.#queue.add(record.id);
    this.#queuedBytes += record.dataBytes;
    const checks = TaskChecks.for(task, this.#options.checks, this.#checksHost(record));
    if (checks !== undefined) this.#checks.set(record.id, checks);
    this.#apply(record, lifecycle.accept());
    this.emit('taskAccepted', { taskId: record.id, job: record.job });
    const limitMs = maxCompletionMs(task);
    // Counted from launch, as upstream's command executor does: time queued counts too.
    if (limitMs !== undefined) this.#armDeadline(record, limitMs, record.acceptedAt + limitMs);
  }

  /** Hands queued tasks to the pool while fewer than `threads` runs are in flight. */
  #pump(): void {
    while (!this.#shuttingDown && this.#inFlight + this.#lingering < this.threads && this.#queue.size > 0) {
      const id = this.#queue.values().next().value as string;
      this.#unqueue(id);
      const record = this.#table.get(id);
      if (record !== undefined) this.#dispatch(record);
    }
  }

  #unqueue(id: string): void {
    if (!this.#queue.delete(id)) return;
    this.#queuedBytes -= this.#table.get(id)?.dataBytes ?? 0;
  }

  #dispatch(record: TaskRecord): void {
    record.lifecycle.dispatch();
    this.#inFlight++;
    const run: RunState = { terminating: false };
    this.#runs.set(record, run);
    const { port1, port2 } = new MessageChannel();
    record.port = port1;
    record.runAbort = new AbortController();
    record.progress = new ProgressLimiter<ProgressUpdate>(this.#options.progressIntervalMs, this.#clock, (update) => this.#sendProgress(record, update));
    port1.on('message', (message: WorkerToMain) => this.#onWorkerMessage(record, message));
    const request: RunRequest = {
      kind: 'run',
      taskId: record.id,
      job: record.job,
      input: record.input,
      port: port2,
      maxResultBytes: this.#options.maxResultBytes,
      maxFrameworkMessageBytes: this.#options.maxFrameworkMessageBytes,
    };
    let pending: Promise<RunResponse>;
    try {
      pending = this.#pool.run(request, record.memoryMb, record.runAbort.signal);
    } catch (error) {
      pending = Promise.reject(error);
    }
    pending
      .then(
        (response) => this.#settle(record, responseOutcome(response)),
        (error: unknown) => this.#onRunRejected(record, run, error),
      )
      .catch((error: unknown) => this.#logger.error({ taskId: record.id, err: error }, 'internal error while ending a task'));
  }

  #onWorkerMessage(record: TaskRecord, message: WorkerToMain): void {
    if (record.lifecycle.phase === 'ended') return;
    switch (message.type) {
      case 'started':
        record.thread = this.#pool.thread(message.threadId);
        this.#apply(record, record.lifecycle.started());
        break;
      case 'progress':
        if (record.lifecycle.acceptsProgress) {
          record.progress?.offer(message.data === undefined ? { message: message.message } : { message: message.message, data: message.data });
        }
        break;
      case 'frameworkMessage':
        try {
          this.#reporter.driver?.sendFrameworkMessage(message.data);
        } catch (error) {
          this.#logger.error({ taskId: record.id, err: error }, 'framework message from a job refused by the driver');
        }
        break;
      case 'spawned':
        (record.processGroups ??= new Set()).add(message.pid);
        if (record.lifecycle.killing) killGroup(message.pid, 'SIGTERM');
        break;
      case 'childExited':
        record.processGroups?.delete(message.pid);
        break;
      case 'frameworkMessageDropped':
        // Once per task: a job looping on oversized messages must not flood the log.
        if (!record.messageDropped) {
          record.messageDropped = true;
          this.#logger.warn(
            { taskId: record.id, job: record.job, bytes: message.bytes, limit: this.#options.maxFrameworkMessageBytes },
            'framework message from a job dropped: over the size limit',
          );
        }
        this.emit('frameworkMessageDropped', { taskId: record.id, job: record.job, bytes: message.bytes });
        break;
    }
  }

  #sendProgress(record: TaskRecord, update: ProgressUpdate): void {
    if (!record.lifecycle.acceptsProgress) return;
    this.#send(record.id, { type: 'status', state: 'TASK_RUNNING', message: update.message, ...(update.data !== undefined ? { data: update.data } : {}) });
    this.emit('progress', { taskId: record.id, job: record.job, message: update.message });
  }

  async #onRunRejected(record: TaskRecord, run: RunState, error: unknown): Promise<void> {
    if (this.#destroyed) {
      this.#settle(record, { kind: 'terminated' });
      return;
    }
    const fault = classifyRunError(error, this.#pool.heapLimitFor(record.memoryMb), run.terminating);
    if (fault.loss !== 'kill') {
      this.#logger.warn({ taskId: record.id, job: record.job, loss: fault.loss, err: error }, 'worker thread lost');
      this.emit('workerReplaced', { reason: fault.loss, taskId: record.id });
    } else if (record.thread !== undefined) {
      // piscina has called terminate(); report TASK_KILLED once the thread is really gone.
      const thread = record.thread;
      const exited = await waitForExit(thread, this.#options.terminateWaitMs, this.#clock);
      if (!exited && thread.threadId !== -1) {
        this.#logger.warn({ taskId: record.id }, 'terminated worker thread has not exited yet; it holds its slot until it does');
        this.#lingering++;
        thread.once('exit', () => {
          this.#lingering--;
          this.#pump();
        });
      }
      this.emit('workerReplaced', { reason: 'kill', taskId: record.id });
    }
    this.#settle(record, fault.outcome);
  }

  /** The run is over: free its slot and resources, then let the lifecycle decide the update. */
  #settle(record: TaskRecord, outcome: Outcome): void {
    this.#inFlight--;
    if (!this.#destroyed) this.#drainPort(record);
    // Before the terminal update: nothing the task started outlives it.
    this.#killProcessGroups(record, 'SIGKILL');
    this.#releaseRun(record);
    if (!this.#destroyed) this.#apply(record, record.lifecycle.end(outcome));
    this.#pump();
  }

  /**
   * The piscina response and the task's port are two channels with no order between them, but
   * the worker posts on the task port BEFORE it answers, and a post lands in the receiving
   * port's queue at once. So when the answer is here, whatever the job said before returning
   * ("started", its last progress, a framework message) can be taken off the port, in order,
   * and handled before the terminal update.
   */
  #drainPort(record: TaskRecord): void {
    const port = record.port;
    if (port === undefined) return;
    for (let entry = receiveMessageOnPort(port); entry !== undefined; entry = receiveMessageOnPort(port)) {
      this.#onWorkerMessage(record, entry.message as WorkerToMain);
    }
  }

  #killProcessGroups(record: TaskRecord, signal: NodeJS.Signals): void {
    const groups = record.processGroups;
    if (groups === undefined) return;
    for (const pid of groups) killGroup(pid, signal);
    if (signal === 'SIGKILL') groups.clear();
  }

  #releaseRun(record: TaskRecord): void {
    if (record.escalationTimer !== undefined) this.#clock.clearTimeout(record.escalationTimer);
    record.escalationTimer = undefined;
    record.progress?.close();
    if (record.port !== undefined) {
      record.port.removeAllListeners('message');
      record.port.close();
    }
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
          this.#unqueue(record.id);
          break;
        case 'abortJob':
          record.port?.postMessage({ type: 'abort', reason: effect.reason });
          // Asked to stop too, whether or not the job's thread gets to it (a busy loop may not).
          this.#killProcessGroups(record, 'SIGTERM');
          break;
        case 'armEscalation':
          if (record.escalationTimer !== undefined) this.#clock.clearTimeout(record.escalationTimer);
          record.escalationTimer = this.#clock.setTimeout(() => {
            record.escalationTimer = undefined;
            this.#apply(record, record.lifecycle.escalate(this.#clock.now()));
          }, Math.max(0, effect.at - this.#clock.now()));
          break;
        case 'terminateWorker': {
          const run = this.#runs.get(record);
          if (run !== undefined) run.terminating = true;
          if (record.escalationTimer !== undefined) this.#clock.clearTimeout(record.escalationTimer);
          record.escalationTimer = undefined;
          this.#logger.warn({ taskId: record.id, job: record.job }, 'kill grace period over: terminating the worker thread');
          this.emit('killEscalated', { taskId: record.id, job: record.job });
          // piscina removes a queued run, or terminates the thread of a running one.
          record.runAbort?.abort(new Error('kill grace period over'));
          break;
        }
        case 'ended':
          this.#ended(record, effect.state, effect.reason);
          break;
      }
    }
  }

  #started(record: TaskRecord): void {
    const now = this.#clock.now();
    record.startedAt = now;
    record.progress?.markSent();
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
    const { shutdownGracePeriodMs, shutdownMarginMs, terminateWaitMs } = this.#options;
    // A task that ignores its kill is escalated at the grace, then its thread gets up to
    // terminateWaitMs to exit before TASK_KILLED is sent: both come out of the grace period, so
    // the margin is left for the update and its acknowledgement.
    const killGraceMs = Math.max(0, shutdownGracePeriodMs - shutdownMarginMs - terminateWaitMs);
    this.#shuttingDown = true;
    const live = this.#table.list();
    this.#logger.info({ tasks: live.length, killGraceMs }, 'shutting down');
    this.emit('shutdownStarted', { tasks: live.length, killGraceMs });
    // Queued tasks first (KILLED at once), so that nothing queued is started by a freed slot.
    for (const record of live) if (record.lifecycle.phase === 'queued') this.#kill(record, { kind: 'shutdown' }, killGraceMs);
    for (const record of live) this.#kill(record, { kind: 'shutdown' }, killGraceMs);

    // Escalation guarantees an end within the grace plus the exit wait; this bound is a safety net.
    const ended = await this.#whenIdle(killGraceMs + terminateWaitMs + 1_000);
    if (!ended) {
      for (const record of this.#table.list()) {
        this.#logger.error({ taskId: record.id }, 'task did not end during shutdown; reporting it killed');
        this.#apply(record, record.lifecycle.end({ kind: 'terminated' }));
      }
    }

    const ackWaitMs = Math.max(MIN_ACK_WAIT_MS, startedAt + shutdownGracePeriodMs - SHUTDOWN_TAIL_MS - this.#clock.now());
    let acknowledged = false;
    try {
      acknowledged = await driver.awaitAcknowledgements(ackWaitMs);
    } catch (error) {
      this.#logger.error({ err: error }, 'waiting for acknowledgements failed');
    }
    if (!acknowledged) this.#logger.warn({ ackWaitMs }, 'not every status update was acknowledged in time');
    this.#destroyed = true;
    await this.#pool.destroy();
    try {
      await driver.stop();
    } catch (error) {
      this.#logger.error({ err: error }, 'stopping the driver failed');
    }
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
