// The bounded label value sets. Every labelled family is created with ALL its values up front
// (a series at 0 exists before the first event, so rate() and absent() behave), and a value
// outside its set is never turned into a series: labels stay bounded whatever the agent or a
// task payload says. The Record types make the compiler check that each set is complete.
import type { CheckResult, HealthResult, ProbeType } from '../checks/index.js';
import type { RefusableCall } from '../driver/events.js';
import type { Executor } from '../executor.js';
import type { WorkerLoss } from '../pool/faults.js';
import type { BatchItemOutcome } from '../pool/events.js';
import type { TerminalState } from '../pool/task-state.js';
import type { EventType, TaskState } from '../proto/types.js';

const keys = <K extends string>(record: Record<K, true>): readonly K[] => Object.freeze(Object.keys(record) as K[]);

/** States an executor may send: every TaskState but TASK_STAGING (the agent refuses it). */
export const STATUS_UPDATE_STATES = keys<Exclude<TaskState, 'TASK_STAGING'>>({
  TASK_STARTING: true,
  TASK_RUNNING: true,
  TASK_KILLING: true,
  TASK_FINISHED: true,
  TASK_FAILED: true,
  TASK_KILLED: true,
  TASK_ERROR: true,
  TASK_LOST: true,
  TASK_DROPPED: true,
  TASK_UNREACHABLE: true,
  TASK_GONE: true,
  TASK_GONE_BY_OPERATOR: true,
  TASK_UNKNOWN: true,
});

/** Event types of the v1 executor API; anything else is counted as UNKNOWN. */
export const EVENT_TYPES = keys<EventType>({
  UNKNOWN: true,
  SUBSCRIBED: true,
  LAUNCH: true,
  LAUNCH_GROUP: true,
  KILL: true,
  ACKNOWLEDGED: true,
  MESSAGE: true,
  ERROR: true,
  SHUTDOWN: true,
  HEARTBEAT: true,
});

/** The Executor callbacks the driver runs (the names its serial loop reports). */
export const CALLBACK_NAMES = keys<keyof Executor>({
  registered: true,
  reregistered: true,
  disconnected: true,
  launchTask: true,
  launchTaskGroup: true,
  killTask: true,
  frameworkMessage: true,
  shutdown: true,
  error: true,
});

/** Why a worker thread was replaced (see src/pool/faults.ts). */
export const WORKER_LOSS_REASONS = keys<WorkerLoss>({ crash: true, oom: true, exit: true, kill: true });

/** Health-check results (`mesos_executor_health_checks_total{result}`). */
export const HEALTH_RESULTS = keys<HealthResult>({ passed: true, failed: true, ignored: true });

/** Check results (`mesos_executor_checks_total{result}`). */
export const CHECK_RESULTS = keys<CheckResult>({ completed: true, failed: true });

/** Check and health-check types. */
export const PROBE_TYPES = keys<ProbeType>({ COMMAND: true, HTTP: true, TCP: true });

/** The calls an agent may refuse (`mesos_executor_calls_refused_total{call}`). */
export const REFUSABLE_CALLS = keys<RefusableCall>({ SUBSCRIBE: true, UPDATE: true, MESSAGE: true, HEARTBEAT: true });

/**
 * How an accepted task ends (`mesos_executor_tasks_ended_total{state}`). A task refused before it
 * was queued (TASK_ERROR, TASK_DROPPED, ...) never ran a job: it is in status_updates_total only.
 */
export const ENDED_STATES = keys<TerminalState>({ TASK_FINISHED: true, TASK_FAILED: true, TASK_KILLED: true });

/** How a batch item ended: its job returned, threw (or its result was refused), or it had not ended when its task was killed. */
export const BATCH_ITEM_OUTCOMES = keys<BatchItemOutcome>({ succeeded: true, failed: true, not_run: true });
