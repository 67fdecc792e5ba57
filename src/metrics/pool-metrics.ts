// The pool executor's metric group: tasks launched, queued, running, their queue wait and
// duration per job, the pool's size and utilization, kill escalations and worker replacements,
// from the PoolExecutor's typed events (PoolExecutorEvents) and getters read at scrape time.
import type { EventEmitter } from 'eventemitter3';
import { Gauge, type Registry } from 'prom-client';
import type { PoolExecutorEvents } from '../pool/events.js';
import { binding, type MetricsBinding } from './binding.js';
import { TASK_SECONDS_BUCKETS } from './buckets.js';
import { CounterFamily, HistogramFamily } from './families.js';
import { BATCH_ITEM_OUTCOMES, CHECK_RESULTS, ENDED_STATES, HEALTH_RESULTS, PROBE_TYPES, WORKER_LOSS_REASONS } from './labels.js';
import {
  BATCH_ITEMS_TOTAL,
  CHECKS_TOTAL,
  HEALTH_CHECK_KILLS_TOTAL,
  HEALTH_CHECKS_TOTAL,
  JOB_LABEL,
  KILL_ESCALATIONS_TOTAL,
  POOL_THREADS,
  POOL_UTILIZATION_RATIO,
  TASK_DURATION_SECONDS,
  TASK_QUEUE_WAIT_SECONDS,
  TASKS_ENDED_TOTAL,
  TASKS_LAUNCHED_TOTAL,
  TASKS_QUEUED,
  TASKS_RUNNING,
  WORKER_REPLACEMENTS_TOTAL,
} from './names.js';

/** The families of this group. */
export const POOL_METRIC_NAMES: readonly string[] = Object.freeze([
  TASKS_LAUNCHED_TOTAL,
  TASKS_ENDED_TOTAL,
  BATCH_ITEMS_TOTAL,
  TASKS_QUEUED,
  TASKS_RUNNING,
  TASK_DURATION_SECONDS,
  TASK_QUEUE_WAIT_SECONDS,
  POOL_THREADS,
  POOL_UTILIZATION_RATIO,
  KILL_ESCALATIONS_TOTAL,
  WORKER_REPLACEMENTS_TOTAL,
  HEALTH_CHECKS_TOTAL,
  HEALTH_CHECK_KILLS_TOTAL,
  CHECKS_TOTAL,
]);

/** What the pool metrics need from a pool executor (a PoolExecutor fits). */
export interface PoolMetricsSource {
  /** The registered job names: the only values the `job` label may take. Read once. */
  readonly jobs: readonly string[];
  readonly queued: number;
  readonly running: number;
  /** Threads running a job now (a batch task may hold several). */
  readonly busyThreads: number;
  readonly threads: number;
  on: EventEmitter<PoolExecutorEvents>['on'];
  off: EventEmitter<PoolExecutorEvents>['off'];
}

/**
 * Registers the pool's families in `registry` and starts listening to `pool`.
 *
 * - `tasks_launched_total` counts every task handed to `launchTask`/`launchTaskGroup` that got an
 *   answer: accepted (TASK_STARTING) or refused (TASK_ERROR for a bad payload, TASK_FAILED during
 *   shutdown). Once the executor is idle it equals the sum of the terminal states in
 *   `status_updates_total`. A LAUNCH repeating a live task id gets no answer and is not counted.
 * - `tasks_ended_total{job_name,state}` counts the tasks that `taskAccepted` counted once they
 *   end: a failure ratio per job is its TASK_FAILED share. Refused tasks never ran a job.
 * - `task_duration_seconds` runs from acceptance to the terminal update, so it includes the queue
 *   wait (`task_queue_wait_seconds`, acceptance to TASK_RUNNING): it is the time the task spent in
 *   this executor. Refused tasks have neither.
 * - `batch_items_total{job_name,outcome}` counts a batch task's items as they end (a batch is
 *   one task in `tasks_ended_total`): its rate is the work done, whatever the tasks carry.
 * - `pool_utilization_ratio` is busy threads / `threads` at scrape time (a batch task's chunks hold a thread each). piscina's own `utilization`
 *   is a mean since the pool started, of its default lane only: after a day of work it barely
 *   moves, so it cannot show load now. Averaged over time (`avg_over_time`), the sampled ratio
 *   is the pool's utilization over any window.
 */
export function registerPoolMetrics(registry: Registry, pool: PoolMetricsSource): MetricsBinding {
  // The job label's values are fixed here: a task naming an unknown job is refused before any
  // event carries its job, and a name outside this set could never become a series anyway.
  const jobLabel = { name: JOB_LABEL, values: [...pool.jobs] };
  const launched = new CounterFamily(registry, {
    name: TASKS_LAUNCHED_TOTAL,
    help: 'Tasks launched on this executor and answered (accepted, or refused with TASK_ERROR/TASK_FAILED).',
  });
  const ended = new CounterFamily(registry, {
    name: TASKS_ENDED_TOTAL,
    help: 'Accepted tasks that ended, by job and terminal state (TASK_FINISHED, TASK_FAILED, TASK_KILLED).',
    labels: [jobLabel, { name: 'state', values: ENDED_STATES }],
  });
  const batchItems = new CounterFamily(registry, {
    name: BATCH_ITEMS_TOTAL,
    help: 'Items of batch tasks that ended, by job and outcome (succeeded, failed, not_run: not ended when their task was killed).',
    labels: [jobLabel, { name: 'outcome', values: BATCH_ITEM_OUTCOMES }],
  });
  new Gauge({
    name: TASKS_QUEUED,
    help: 'Tasks accepted and waiting for a worker thread.',
    registers: [registry],
    collect() {
      this.set(pool.queued);
    },
  });
  new Gauge({
    name: TASKS_RUNNING,
    help: 'Tasks handed to a worker thread and not yet ended (including ones being killed).',
    registers: [registry],
    collect() {
      this.set(pool.running);
    },
  });
  const duration = new HistogramFamily(registry, {
    name: TASK_DURATION_SECONDS,
    help: 'Time from accepting a task (TASK_STARTING) to its terminal update, queue wait included, by job.',
    label: jobLabel,
    buckets: TASK_SECONDS_BUCKETS,
  });
  const queueWait = new HistogramFamily(registry, {
    name: TASK_QUEUE_WAIT_SECONDS,
    help: 'Time from accepting a task to a worker thread starting it (TASK_RUNNING), by job.',
    label: jobLabel,
    buckets: TASK_SECONDS_BUCKETS,
  });
  new Gauge({
    name: POOL_THREADS,
    help: 'Worker threads of the pool: the most tasks that run at once.',
    registers: [registry],
    collect() {
      this.set(pool.threads);
    },
  });
  new Gauge({
    name: POOL_UTILIZATION_RATIO,
    help: 'Share of the pool threads running a job at scrape time (busy threads / threads), 0..1.',
    registers: [registry],
    collect() {
      this.set(pool.threads > 0 ? Math.min(1, pool.busyThreads / pool.threads) : 0);
    },
  });
  const escalations = new CounterFamily(registry, {
    name: KILL_ESCALATIONS_TOTAL,
    help: 'Kills whose grace period ended with the job still running, so that its worker thread was terminated.',
  });
  const replacements = new CounterFamily(registry, {
    name: WORKER_REPLACEMENTS_TOTAL,
    help: 'Worker threads lost and replaced, by reason (crash, oom, exit, kill).',
    label: { name: 'reason', values: WORKER_LOSS_REASONS },
  });
  const healthChecks = new CounterFamily(registry, {
    name: HEALTH_CHECKS_TOTAL,
    help: 'Health checks run, by result: passed, failed (counted toward the kill), ignored (failed within the grace period).',
    label: { name: 'result', values: HEALTH_RESULTS },
  });
  const healthKills = new CounterFamily(registry, {
    name: HEALTH_CHECK_KILLS_TOTAL,
    help: 'Tasks killed because their health check failed consecutive_failures times in a row, by check type.',
    label: { name: 'type', values: PROBE_TYPES },
  });
  const checks = new CounterFamily(registry, {
    name: CHECKS_TOTAL,
    help: 'Checks (TaskInfo.check) run, by result: completed (a result was had) or failed (timed out, could not run).',
    label: { name: 'result', values: CHECK_RESULTS },
  });

  const removers: Array<() => void> = [];
  const on = <K extends keyof PoolExecutorEvents>(event: K, listener: EventEmitter.EventListener<PoolExecutorEvents, K>): void => {
    pool.on(event, listener);
    removers.push(() => pool.off(event, listener));
  };
  on('taskAccepted', () => launched.inc());
  on('taskRejected', () => launched.inc());
  on('taskStarted', (info) => queueWait.observeLabel(info.job, info.queueWaitMs / 1000));
  on('taskEnded', (info) => {
    duration.observeLabel(info.job, info.durationMs / 1000);
    ended.inc(ended.slotOf(info.job, info.state));
  });
  on('batchItems', (info) => {
    batchItems.inc(batchItems.slotOf(info.job, 'succeeded'), info.succeeded);
    batchItems.inc(batchItems.slotOf(info.job, 'failed'), info.failed);
    batchItems.inc(batchItems.slotOf(info.job, 'not_run'), info.notRun);
  });
  on('killEscalated', () => escalations.inc());
  on('workerReplaced', (info) => replacements.incLabel(info.reason));
  on('healthCheck', (info) => healthChecks.incLabel(info.result));
  on('healthCheckKill', (info) => healthKills.incLabel(info.type));
  on('checkResult', (info) => checks.incLabel(info.result));
  for (const name of POOL_METRIC_NAMES) removers.push(() => registry.removeSingleMetric(name));
  return binding(removers);
}
