// Health checks (TaskInfo.health_check) and checks (TaskInfo.check), run beside a task as
// upstream's executors run them (src/checks/ and src/launcher/executor.cpp upstream).
export { CHECK_DEFAULTS, resolveCheck, resolveHealthCheck, taskChecksProblem } from './definition.js';
export type { CommandProbe, HttpProbe, ProbeSpec, ProbeType, ResolvedCheck, ResolvedHealthCheck, TcpProbe, Timing } from './definition.js';
export { CheckSchedule } from './schedule.js';
export type { Probe, ProbeOutcome, SchedulePhase, ScheduleOptions } from './schedule.js';
export { HealthJudge, statusFailure } from './health.js';
export type { HealthVerdict } from './health.js';
export { CheckStatusTracker, emptyCheckStatus } from './check-status.js';
export { probeFor } from './probes.js';
export type { ProbeRuntime } from './probes.js';
export { TaskChecks } from './task-checks.js';
export type { CheckedStatus, CheckResult, HealthResult, TaskChecksHost, TaskChecksRuntime } from './task-checks.js';
export { resolveChecksOptions } from './options.js';
export type { ChecksOptions } from './options.js';
