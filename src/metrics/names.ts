// The metric family names: a contract (DESIGN.md "Metrics"), relied on by dashboards and alerts.
// Exported as constants so that users and tests never retype a name (prom-client's
// lib/metrics/*.js export their `metricNames` the same way). Prometheus conventions: counters
// end in `_total`, units are base units (`_seconds`, `_ratio`), one prefix for all of ours.

export const METRIC_PREFIX = 'mesos_executor_';

// ---- from the pool executor's events and getters (pool-metrics.ts) ----
/** Counter: tasks handed to the executor by LAUNCH/LAUNCH_GROUP (accepted or refused). */
export const TASKS_LAUNCHED_TOTAL = 'mesos_executor_tasks_launched_total';
/** Counter{job_name,state}: accepted tasks that ended, by job and terminal state (FINISHED, FAILED, KILLED). */
export const TASKS_ENDED_TOTAL = 'mesos_executor_tasks_ended_total';
/** Counter{job_name,outcome}: items of batch tasks, by how each ended (succeeded, failed, not_run). */
export const BATCH_ITEMS_TOTAL = 'mesos_executor_batch_items_total';
/** Gauge: tasks accepted and waiting for a worker thread. */
export const TASKS_QUEUED = 'mesos_executor_tasks_queued';
/** Gauge: tasks handed to a worker thread and not yet ended. */
export const TASKS_RUNNING = 'mesos_executor_tasks_running';
/** Histogram{job}: from acceptance (TASK_STARTING) to the terminal update. */
export const TASK_DURATION_SECONDS = 'mesos_executor_task_duration_seconds';
/** Histogram{job}: from acceptance to a worker starting the job (TASK_RUNNING). */
export const TASK_QUEUE_WAIT_SECONDS = 'mesos_executor_task_queue_wait_seconds';
/** Gauge: the pool size (the most tasks running at once). */
export const POOL_THREADS = 'mesos_executor_pool_threads';
/** Gauge: busy share of the pool's threads at scrape time, 0..1. */
export const POOL_UTILIZATION_RATIO = 'mesos_executor_pool_utilization_ratio';
/** Counter: kills whose grace period ended with the job still running (its thread terminated). */
export const KILL_ESCALATIONS_TOTAL = 'mesos_executor_kill_escalations_total';
/** Counter{reason}: worker threads lost and replaced. */
export const WORKER_REPLACEMENTS_TOTAL = 'mesos_executor_worker_replacements_total';
/** Counter{result}: health checks run (TaskInfo.health_check): passed, failed, ignored (in the grace period). */
export const HEALTH_CHECKS_TOTAL = 'mesos_executor_health_checks_total';
/** Counter{type}: tasks killed because their health check failed consecutive_failures times. */
export const HEALTH_CHECK_KILLS_TOTAL = 'mesos_executor_health_check_kills_total';
/** Counter{result}: checks run (TaskInfo.check): completed (a result) or failed (timed out, could not run). */
export const CHECKS_TOTAL = 'mesos_executor_checks_total';

// ---- about the executor itself (build-info.ts) ----
/** Gauge{version,node}: always 1; the labels say which package version runs on which Node.js. */
export const BUILD_INFO = 'mesos_executor_build_info';

// ---- from the driver's events and getters (driver-metrics.ts) ----
/** Counter{state}: status updates the executor issued (recorded by the driver, once each). */
export const STATUS_UPDATES_TOTAL = 'mesos_executor_status_updates_total';
/** Gauge: status updates recorded and not yet acknowledged by the agent. */
export const UNACKNOWLEDGED_UPDATES = 'mesos_executor_unacknowledged_updates';
/** Histogram: from recording an update to the agent's ACKNOWLEDGED. */
export const UPDATE_ACK_LATENCY_SECONDS = 'mesos_executor_update_ack_latency_seconds';
/** Counter: SUBSCRIBED events (the first subscription and every resubscription). */
export const SUBSCRIPTIONS_TOTAL = 'mesos_executor_subscriptions_total';
/** Counter: connections to the agent lost. */
export const DISCONNECTIONS_TOTAL = 'mesos_executor_disconnections_total';
/** Counter{call}: calls the agent refused with a status a retry does not change. */
export const CALLS_REFUSED_TOTAL = 'mesos_executor_calls_refused_total';
/** Gauge: 1 while subscribed to the agent, else 0. */
export const CONNECTED = 'mesos_executor_connected';
/** Counter{type}: events decoded from the agent's stream. */
export const EVENTS_RECEIVED_TOTAL = 'mesos_executor_events_received_total';
/** Histogram{callback}: time in each Executor callback (until its promise settled). */
export const CALLBACK_DURATION_SECONDS = 'mesos_executor_callback_duration_seconds';

/**
 * The label of the task's job on the task histograms. Not `job`, although the metrics issue
 * wrote `{job}`: Prometheus attaches its own target label `job` to every series it scrapes and,
 * with the default `honor_labels: false`, renames a scraped `job` label to `exported_job` —
 * dashboards would query a name that appears nowhere in our exposition. Prometheus' naming
 * guidance is to leave target labels (`job`, `instance`) to the server.
 */
export const JOB_LABEL = 'job_name';

/** Every family this package defines (not prom-client's process metrics), in exposition order. */
export const EXECUTOR_METRIC_NAMES: readonly string[] = Object.freeze([
  BUILD_INFO,
  TASKS_LAUNCHED_TOTAL,
  TASKS_ENDED_TOTAL,
  BATCH_ITEMS_TOTAL,
  STATUS_UPDATES_TOTAL,
  TASKS_QUEUED,
  TASKS_RUNNING,
  TASK_DURATION_SECONDS,
  TASK_QUEUE_WAIT_SECONDS,
  POOL_THREADS,
  POOL_UTILIZATION_RATIO,
  UNACKNOWLEDGED_UPDATES,
  UPDATE_ACK_LATENCY_SECONDS,
  SUBSCRIPTIONS_TOTAL,
  DISCONNECTIONS_TOTAL,
  CALLS_REFUSED_TOTAL,
  CONNECTED,
  EVENTS_RECEIVED_TOTAL,
  CALLBACK_DURATION_SECONDS,
  KILL_ESCALATIONS_TOTAL,
  WORKER_REPLACEMENTS_TOTAL,
  HEALTH_CHECKS_TOTAL,
  HEALTH_CHECK_KILLS_TOTAL,
  CHECKS_TOTAL,
]);
