/**
 * The executor's tasks, from admission to their terminal update: the table of live tasks, the
 * FIFO queue, the runs in flight on the worker pool, and the carrying out of each task's
 * {@link TaskLifecycle} effects (status updates, kills, escalation, checks, group rule).
 * PoolExecutor is the Mesos-facing side; this is the one owner of every task fact.
 *
 * Dispatch: at most `threads` runs are in the worker pool at once (across heap-limit lanes,
 * see worker-pool.ts); the rest wait in the queue, from where a kill removes them at once.
 * Each run is a {@link TaskRun}, created at dispatch and disposed at settle.
 */
import type { ExecutorDriver } from '../executor.js';
import type { Logger } from '../log.js';
import type { FrameworkInfo, KillPolicy, TaskInfo } from '../proto/types.js';
import { TaskChecks, type TaskChecksHost } from '../checks/index.js';
import type { Clock } from '../clock.js';
import { admit } from './admission.js';
import { concludeBatch } from './batch-file.js';
import { ChunkSizer } from './batch-run.js';
import { BatchTask } from './batch-task.js';
import { Allocation } from './allocation.js';
import type { PoolExecutorEvents, RefusedState } from './events.js';
import { maxCompletionMs, resolveKillGraceMs } from './kill-policy.js';
import type { ResolvedPoolOptions } from './options.js';
import { resourceCpus, taskMemoryMb, type ParsedPayload } from './payload.js';
import { Waiters, type ShutdownTasks } from './shutdown.js';
import { StatusReporter } from './status.js';
import { TaskQueue } from './task-queue.js';
import { TaskRun, type RunHost } from './task-run.js';
import { TaskTable, type ProgressUpdate, type TaskGroup, type TaskRecord } from './task-table.js';
import { TaskLifecycle, type Effect, type KillCause, type Outcome, type StatusEffect, type TerminalState } from './task-state.js';
import type { ChunkResponse } from '../../workers/protocol.js';
import type { WorkerPool } from './worker-pool.js';

/** Where the scheduler reports: the executor's own `emit` (which keeps a throwing listener out). */
export type EmitEvent = <E extends keyof PoolExecutorEvents>(event: E, info: Parameters<PoolExecutorEvents[E]>[0]) => void;

export class TaskScheduler implements ShutdownTasks {
  readonly #options: ResolvedPoolOptions;
  readonly #logger: Logger;
  readonly #clock: Clock;
  readonly #pool: WorkerPool;
  readonly #jobs: ReadonlySet<string>;
  readonly #emit: EmitEvent;
  readonly #table = new TaskTable();
  /** Accepted tasks waiting for a free thread, in launch order. */
  readonly #queue = new TaskQueue();
  /**
   * Batch tasks already dispatched that could use another thread (items left, under their
   * concurrency): served before the queue, as a task holding cpus is (Mesos allocated them).
   */
  readonly #hungry = new Set<TaskRecord>();
  /** How big a chunk of each job's items is, learnt from its batches (bounded: one per registered job). */
  readonly #sizers = new Map<string, ChunkSizer>();
  /** The checks of live tasks that have a check or a health check (src/checks). */
  readonly #checks = new Map<string, TaskChecks>();
  /** Bound once, to the driver that delivered SUBSCRIBED. */
  readonly #reporter: StatusReporter;
  readonly #allocation = new Allocation();
  /** What every run reports to: one object for the scheduler's life, not one per run. */
  readonly #runHost: RunHost;
  /** Woken when the last live task ends (or the pool is destroyed): what a shutdown waits for. */
  readonly #idle: Waiters;
  /** Subscribed to the agent: checks run only then (paused while disconnected). */
  #connected = false;
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

  constructor(options: ResolvedPoolOptions, clock: Clock, pool: WorkerPool, jobs: ReadonlySet<string>, emit: EmitEvent) {
    this.#options = options;
    this.#logger = options.logger;
    this.#clock = clock;
    this.#pool = pool;
    this.#jobs = jobs;
    this.#emit = emit;
    this.#reporter = new StatusReporter(options.logger);
    this.#runHost = this.#makeRunHost();
    this.#idle = new Waiters(clock);
  }

  /** Tasks accepted and not yet handed to a worker. */
  get queued(): number {
    return this.#queue.size + this.#pool.queueSize;
  }

  /** Tasks handed to a worker and not yet ended (including ones being killed): a batch counts once. */
  get running(): number {
    return this.#table.size - this.#queue.size;
  }

  /** Runs on a worker thread and not yet settled: a batch task's chunks count one each. */
  get busyThreads(): number {
    return this.#inFlight;
  }

  get lingering(): number {
    return this.#lingering;
  }

  /** The most tasks running at once now (see {@link Allocation.threads}). */
  get threads(): number {
    return this.#allocation.threads(this.#options);
  }

  /** Live tasks (queued, running or being killed). */
  get size(): number {
    return this.#table.size;
  }

  get taskKillingState(): boolean {
    return this.#killingStateCapable;
  }

  // ---- what the executor's callbacks tell it ----

  /**
   * SUBSCRIBED: the driver is bound here, once. It passes itself to every callback, and no task
   * exists before SUBSCRIBED, so it is the one every update and framework message goes through.
   */
  subscribed(driver: ExecutorDriver, executorCpus: number, frameworkInfo: FrameworkInfo): void {
    this.#reporter.bind(driver);
    this.#allocation.setExecutor(executorCpus);
    this.#framework(frameworkInfo);
    this.#connected = true;
  }

  resubscribed(frameworkInfo: FrameworkInfo | undefined): void {
    // As upstream's command executor: TASK_KILLING follows the framework's capabilities as of
    // the latest SUBSCRIBED (the framework may have re-registered with others meanwhile).
    if (frameworkInfo !== undefined) this.#framework(frameworkInfo);
    // Checks were paused while disconnected (as upstream's default executor): they resume now.
    this.#connected = true;
    for (const checks of this.#checks.values()) checks.resume();
  }

  disconnected(): void {
    // The driver keeps our updates and delivers them on resubscription. Checks pause: their
    // results could not reach the agent, and a health kill must not follow an agent outage.
    this.#connected = false;
    for (const checks of this.#checks.values()) checks.pause();
  }

  /** A KILL from the agent. */
  killRequested(id: string, killPolicy: KillPolicy | undefined): void {
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
    this.#kill(record, { kind: 'request' }, this.#killGraceMs(record, killPolicy));
  }

  #framework(frameworkInfo: FrameworkInfo): void {
    const has = (type: string): boolean => (frameworkInfo.capabilities ?? []).some((c) => c.type === type);
    this.#killingStateCapable = has('TASK_KILLING_STATE');
    this.#partitionAware = has('PARTITION_AWARE');
  }

  /** The KILL's policy, else the task's, else the default grace. */
  #killGraceMs(record: TaskRecord, killPolicy?: KillPolicy): number {
    return resolveKillGraceMs(killPolicy, record.killPolicy, this.#options.defaultKillGracePeriodMs);
  }

  // ---- shutdown and destruction ----

  killAll(killGraceMs: number): number {
    this.#shuttingDown = true;
    const live = this.#table.list();
    this.#emit('shutdownStarted', { tasks: live.length, killGraceMs });
    // Queued tasks first (KILLED at once), so that nothing queued is started by a freed slot.
    for (const record of live) if (record.lifecycle.phase === 'queued') this.#kill(record, { kind: 'shutdown' }, killGraceMs);
    for (const record of live) this.#kill(record, { kind: 'shutdown' }, killGraceMs);
    return live.length;
  }

  whenIdle(timeoutMs: number): Promise<boolean> {
    return this.#table.size === 0 || this.#destroyed ? Promise.resolve(true) : this.#idle.wait(timeoutMs);
  }

  endRemaining(): void {
    for (const record of this.#table.list()) {
      this.#logger.error({ taskId: record.id }, 'task did not end during shutdown; reporting it killed');
      this.#apply(record, record.lifecycle.end({ kind: 'terminated' }));
    }
  }

  destroyPool(): Promise<void> {
    this.#destroyed = true;
    return this.#pool.destroy();
  }

  /** Terminates every worker now, without status updates. */
  async destroy(): Promise<void> {
    this.#shuttingDown = true;
    this.#destroyed = true;
    this.#queue.clear();
    this.#hungry.clear();
    for (const checks of this.#checks.values()) checks.stop();
    this.#checks.clear();
    for (const record of this.#table.list()) record.run?.dispose();
    await this.#pool.destroy();
    this.#idle.wake();
  }

  // ---- launching ----

  /** A LAUNCH (one task) or LAUNCH_GROUP. */
  launch(tasks: readonly TaskInfo[], isGroup: boolean): void {
    const { decisions, group } = admit(tasks, isGroup, {
      logger: this.#logger,
      jobs: this.#jobs,
      maxPayloadBytes: this.#options.maxPayloadBytes,
      maxBatchItems: this.#options.maxBatchItems,
      maxBatchItemBytes: this.#options.maxBatchItemBytes,
      maxQueuedTasks: this.#options.maxQueuedTasks,
      maxQueuedBytes: this.#options.maxQueuedBytes,
      isLive: (id) => this.#table.has(id),
      queued: this.#queue.size,
      queuedBytes: this.#queue.bytes,
      // The queue is pumped after every launch: tasks wait only when no thread is free, and the
      // threads are those the allocation gives once these tasks' cpus are added (as the pump sees it).
      freeThreads: this.#queue.size > 0 ? 0 : Math.max(0, this.#allocation.threads(this.#options, launchedCpus(tasks)) - this.#inFlight - this.#lingering),
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
    this.#emit('taskRejected', { taskId, state, message });
  }

  #accept(task: TaskInfo, payload: ParsedPayload, group: TaskGroup | undefined): void {
    const lifecycle = new TaskLifecycle();
    const cpus = resourceCpus(task.resources);
    const record = this.#table.add({
      task,
      job: payload.job,
      input: payload.kind === 'single' ? payload.input : undefined,
      // A little slack so that 0.1 + 0.2 cpus rounds to 1, not 2.
      ...(payload.kind === 'batch' ? { batch: { items: payload.items, concurrency: Math.max(1, Math.ceil(cpus - 1e-9)) } } : {}),
      memoryMb: this.#options.taskMemoryLimits ? taskMemoryMb(task) : undefined,
      group,
      lifecycle,
      acceptedAt: this.#clock.now(),
    });
    this.#allocation.addTask(record.id, cpus);
    this.#queue.add(record);
    const checks = TaskChecks.for(task, this.#options.checks, this.#checksHost(record));
    if (checks !== undefined) this.#checks.set(record.id, checks);
    this.#apply(record, lifecycle.accept());
    this.#emit('taskAccepted', { taskId: record.id, job: record.job });
    const limitMs = maxCompletionMs(task);
    // Counted from launch, as upstream's command executor does: time queued counts too.
    if (limitMs !== undefined) this.#armDeadline(record, limitMs, record.acceptedAt + limitMs);
  }

  // ---- runs ----

  /**
   * Hands runs to the pool while fewer than `threads` are in flight: first more chunks of the
   * batches already running, then the queued tasks.
   */
  #pump(): void {
    while (!this.#shuttingDown && this.#inFlight + this.#lingering < this.threads) {
      const hungry = this.#nextHungry();
      if (hungry !== undefined) {
        this.#dispatchChunk(hungry, hungry.run as BatchTask);
        continue;
      }
      const record = this.#queue.shift();
      if (record === undefined) break;
      if (this.#table.get(record.id) === record) this.#dispatch(record);
    }
  }

  #nextHungry(): TaskRecord | undefined {
    for (const record of this.#hungry) {
      if (record.run instanceof BatchTask && record.run.ready) return record;
      this.#hungry.delete(record);
    }
    return undefined;
  }

  #dispatch(record: TaskRecord): void {
    record.lifecycle.dispatch();
    if (record.batch !== undefined) {
      const { maxBatchResultBytes, progressIntervalMs } = this.#options;
      let sizer = this.#sizers.get(record.job);
      if (sizer === undefined) this.#sizers.set(record.job, (sizer = new ChunkSizer()));
      const batch = new BatchTask(record.batch.items, record.batch.concurrency, maxBatchResultBytes, sizer, this.#clock, progressIntervalMs, (message) =>
        this.#sendProgress(record, { message }),
      );
      record.run = batch;
      this.#dispatchChunk(record, batch);
      return;
    }
    this.#inFlight++;
    record.run = new TaskRun(record, this.#runHost);
  }

  /** One more chunk of a batch task on the pool (each chunk is a run, and holds a thread). */
  #dispatchChunk(record: TaskRecord, batch: BatchTask): void {
    if (batch.dispatch((chunk) => new TaskRun(record, this.#runHost, chunk)) !== undefined) this.#inFlight++;
    if (batch.ready) this.#hungry.add(record);
    else this.#hungry.delete(record);
  }

  #makeRunHost(): RunHost {
    const { progressIntervalMs, maxResultBytes, maxFrameworkMessageBytes, terminateWaitMs } = this.#options;
    const isDestroyed = (): boolean => this.#destroyed;
    return {
      clock: this.#clock,
      logger: this.#logger,
      pool: this.#pool,
      progressIntervalMs,
      maxResultBytes,
      maxFrameworkMessageBytes,
      terminateWaitMs,
      get destroyed() {
        return isDestroyed();
      },
      reporter: this.#reporter,
      emit: this.#emit,
      started: (run) => this.#apply(run.task, run.task.lifecycle.started()),
      progress: (run, update) => this.#sendProgress(run.task, update),
      lingering: (thread) => {
        this.#lingering++;
        thread.once('exit', () => {
          this.#lingering--;
          this.#pump();
        });
      },
      settled: (run, outcome) => (run.chunk === undefined ? this.#settle(run, outcome) : this.#chunkSettled(run, { kind: 'lost', outcome })),
      chunkAnswered: (run, response) => this.#chunkSettled(run, { kind: 'answered', response }),
    };
  }

  #sendProgress(record: TaskRecord, update: ProgressUpdate): void {
    if (!record.lifecycle.acceptsProgress) return;
    this.#send(record.id, { type: 'status', state: 'TASK_RUNNING', message: update.message, ...(update.data !== undefined ? { data: update.data } : {}) });
    this.#emit('progress', { taskId: record.id, job: record.job, message: update.message });
  }

  /** The run is over: free its slot and resources, then let the lifecycle decide the update. */
  #settle(run: TaskRun, outcome: Outcome): void {
    const record = run.task;
    this.#inFlight--;
    // Everything the run posted came before its result (one ordered channel), so it has been
    // handled already. Before the terminal update: nothing the task started outlives it.
    run.dispose();
    if (record.run === run) record.run = undefined;
    if (this.#destroyed) return;
    const effects = record.lifecycle.end(outcome);
    if (record.group === undefined) {
      // The next run first, this one's report after: the freed thread does not wait for our
      // status update (encoding, sending) to get its next job. The task's cpus go first, as its
      // end would release them, so what is dispatched is what would be after the report. Not
      // for a task of a group: its end may kill queued members, which must never start.
      this.#allocation.removeTask(record.id);
      this.#pump();
    }
    this.#apply(record, effects);
    this.#pump();
  }

  /** A chunk's run is over: its items' outcomes are recorded, and the batch goes on or ends. */
  #chunkSettled(run: TaskRun, end: { readonly kind: 'answered'; readonly response: ChunkResponse } | { readonly kind: 'lost'; readonly outcome: Outcome }): void {
    const record = run.task;
    this.#inFlight--;
    run.dispose();
    const batch = record.run;
    if (this.#destroyed || !(batch instanceof BatchTask)) return;
    const counts = batch.settle(run, end);
    if (counts.succeeded + counts.failed > 0) this.#emit('batchItems', { taskId: record.id, job: record.job, ...counts, notRun: 0 });
    if (batch.ready) this.#hungry.add(record);
    if (batch.over) {
      this.#endBatch(record, batch);
      // As #settle: a group member's end may kill queued members, which must never start, so
      // nothing is dispatched before its terminal update (#endBatch pumps after it).
      if (record.group !== undefined) return;
    }
    this.#pump();
  }

  /**
   * Every chunk is back. A stopped batch (killed) ends as a killed run does; otherwise its results
   * make the terminal update: in its data, or in a file of the sandbox when too large (written
   * without blocking the executor; a kill meanwhile still ends it KILLED).
   */
  #endBatch(record: TaskRecord, batch: BatchTask): void {
    this.#hungry.delete(record);
    const stopped = batch.batch.stopped || record.lifecycle.killing;
    batch.dispose();
    if (record.run === batch) record.run = undefined;
    const results = batch.batch.results;
    if (stopped) {
      const notRun = batch.notCounted;
      if (notRun > 0) this.#emit('batchItems', { taskId: record.id, job: record.job, succeeded: 0, failed: 0, notRun });
      this.#apply(record, record.lifecycle.end(batch.stoppedOutcome()));
      this.#pump();
      return;
    }
    const { maxResultBytes, sandboxDirectory } = this.#options;
    concludeBatch(results, maxResultBytes, sandboxDirectory, record.id)
      .then((ended) => {
        if (this.#destroyed) return;
        const outcome: Outcome =
          ended.state === 'TASK_FINISHED' && ended.data !== undefined
            ? { kind: 'succeeded', data: ended.data, message: ended.message }
            : { kind: 'failed', message: ended.message, ...(ended.data !== undefined ? { data: ended.data } : {}) };
        this.#apply(record, record.lifecycle.end(outcome));
        this.#pump();
      })
      .catch((error: unknown) => this.#logger.error({ taskId: record.id, err: error }, 'internal error while ending a batch task'));
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
          this.#emit('killEscalated', { taskId: record.id, job: record.job });
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
    this.#emit('taskStarted', { taskId: record.id, job: record.job, queueWaitMs: now - record.acceptedAt });
  }

  #ended(record: TaskRecord, state: TerminalState, reason: StatusEffect['reason']): void {
    if (record.deadlineTimer !== undefined) this.#clock.clearTimeout(record.deadlineTimer);
    record.deadlineTimer = undefined;
    this.#checks.get(record.id)?.stop();
    this.#checks.delete(record.id);
    this.#table.end(record.id, state);
    this.#allocation.removeTask(record.id);
    this.#emit('taskEnded', {
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
        this.#kill(other, { kind: 'group', taskId: record.id, state }, this.#killGraceMs(other));
      }
    }
    if (this.#table.size === 0) this.#idle.wake();
  }

  #send(taskId: string, effect: StatusEffect): void {
    const checks = this.#checks.get(taskId);
    this.#sendAsIs(taskId, checks === undefined ? effect : checks.outgoing(effect));
  }

  #sendAsIs(taskId: string, effect: StatusEffect): void {
    this.#reporter.send(taskId, effect);
    this.#emit('statusUpdate', { taskId, state: effect.state });
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
        this.#emit('healthCheckKill', { taskId, job, type, consecutiveFailures });
        // The same path as a KILL without a policy of its own: the task's kill policy, else the default grace.
        this.#kill(live, { kind: 'healthCheck', consecutiveFailures, reason }, this.#killGraceMs(live));
      },
      healthResult: (info) => {
        if (info.result !== 'passed') this.#logger.warn({ taskId, job, result: info.result, reason: info.reason }, `${info.type} health check failed`);
        this.#emit('healthCheck', { taskId, job, type: info.type, result: info.result, durationMs: info.durationMs });
      },
      checkResult: (info) => this.#emit('checkResult', { taskId, job, type: info.type, result: info.result, durationMs: info.durationMs }),
    };
  }
}

/** The cpus the tasks of one LAUNCH or LAUNCH_GROUP ask for, together. */
function launchedCpus(tasks: readonly TaskInfo[]): number {
  let cpus = 0;
  for (const task of tasks) cpus += resourceCpus(task.resources);
  return cpus;
}
