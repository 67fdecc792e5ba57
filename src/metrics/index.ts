// The metrics' public surface (listed by name: no wildcard re-exports).
export {
  BUILD_INFO,
  CALLBACK_DURATION_SECONDS,
  CHECKS_TOTAL,
  CONNECTED,
  DISCONNECTIONS_TOTAL,
  EVENTS_RECEIVED_TOTAL,
  EXECUTOR_METRIC_NAMES,
  HEALTH_CHECK_KILLS_TOTAL,
  HEALTH_CHECKS_TOTAL,
  JOB_LABEL,
  KILL_ESCALATIONS_TOTAL,
  METRIC_PREFIX,
  POOL_THREADS,
  POOL_UTILIZATION_RATIO,
  STATUS_UPDATES_TOTAL,
  SUBSCRIPTIONS_TOTAL,
  TASK_DURATION_SECONDS,
  TASK_QUEUE_WAIT_SECONDS,
  TASKS_ENDED_TOTAL,
  TASKS_LAUNCHED_TOTAL,
  TASKS_QUEUED,
  TASKS_RUNNING,
  UNACKNOWLEDGED_UPDATES,
  UPDATE_ACK_LATENCY_SECONDS,
  WORKER_REPLACEMENTS_TOTAL,
} from './names.js';
export { ACK_LATENCY_SECONDS_BUCKETS, CALLBACK_SECONDS_BUCKETS, TASK_SECONDS_BUCKETS } from './buckets.js';
export { createExecutorMetrics } from './registry.js';
export type { ExecutorMetrics, ExecutorMetricsOptions } from './registry.js';
export { DRIVER_METRIC_NAMES, registerDriverMetrics } from './driver-metrics.js';
export type { DriverMetricsSource } from './driver-metrics.js';
export { POOL_METRIC_NAMES, registerPoolMetrics } from './pool-metrics.js';
export type { PoolMetricsSource } from './pool-metrics.js';
export { registerProcessMetrics } from './process-metrics.js';
export { packageVersion, registerBuildInfo } from './build-info.js';
export type { ProcessMetricsOptions } from './process-metrics.js';
export type { MetricsBinding } from './binding.js';
export { startMetricsServer } from './server.js';
export type { MetricsServer, MetricsServerOptions } from './server.js';
export { readMetricsAddress, writeMetricsAddress } from './address-file.js';
export type { MetricsAddress } from './address-file.js';
