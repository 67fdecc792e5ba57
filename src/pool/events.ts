/**
 * What a PoolExecutor reports as it works (eventemitter3), for metrics and logs. Listeners run
 * synchronously on the executor's path: keep them cheap. Labels for metrics should use `job`
 * and `state`, never `taskId` (unbounded).
 */
import type { CheckResult, HealthResult, ProbeType } from '../checks/index.js';
import type { TaskState, TaskStatusReason } from '../proto/types.js';
import type { WorkerLoss } from './faults.js';
import type { TerminalState } from './task-state.js';

/** The state of a task refused before it was queued. */
export type RefusedState = 'TASK_ERROR' | 'TASK_FAILED' | 'TASK_DROPPED' | 'TASK_LOST';

/** How a batch item ended (the `outcome` label of `batch_items_total`). */
export type BatchItemOutcome = 'succeeded' | 'failed' | 'not_run';

export interface PoolExecutorEvents {
  /** A task's payload was valid; it is queued (TASK_STARTING sent). */
  taskAccepted: (info: { taskId: string; job: string }) => void;
  /**
   * A task was refused before it was queued: bad payload (TASK_ERROR), launched during shutdown
   * (TASK_FAILED), or the queue was full (TASK_DROPPED, or TASK_LOST for a framework that is not
   * PARTITION_AWARE).
   */
  taskRejected: (info: { taskId: string; state: RefusedState; message: string }) => void;
  /** A worker thread began the task (TASK_RUNNING). */
  taskStarted: (info: { taskId: string; job: string; queueWaitMs: number }) => void;
  /** A progress update was sent (after rate limiting). */
  progress: (info: { taskId: string; job: string; message: string }) => void;
  /** The task's terminal update was sent. `durationMs` counts from acceptance. */
  taskEnded: (info: { taskId: string; job: string; state: TerminalState; reason?: TaskStatusReason; durationMs: number }) => void;
  /**
   * Items of a batch task ended: as each chunk of its items comes back (succeeded, failed), and
   * at a killed batch's end the ones that never ran (notRun).
   */
  batchItems: (info: { taskId: string; job: string; succeeded: number; failed: number; notRun: number }) => void;
  /** A kill's grace period ended with the job still running: its thread is being terminated. */
  killEscalated: (info: { taskId: string; job: string }) => void;
  /** A worker thread was lost and piscina replaces it. */
  workerReplaced: (info: { reason: WorkerLoss; taskId?: string }) => void;
  /** A job's `ctx.sendFrameworkMessage` was dropped: over `maxFrameworkMessageBytes`. */
  frameworkMessageDropped: (info: { taskId: string; job: string; bytes: number }) => void;
  /** A MESSAGE from the scheduler (after `onFrameworkMessage`). */
  frameworkMessage: (info: { data: Uint8Array }) => void;
  /**
   * A health check ran: passed, failed (counted and reported unhealthy), or ignored (failed
   * within the grace period, before any success).
   */
  healthCheck: (info: { taskId: string; job: string; type: ProbeType; result: HealthResult; durationMs: number }) => void;
  /** A task's health check failed `consecutive_failures` times in a row: the task is being killed. */
  healthCheckKill: (info: { taskId: string; job: string; type: ProbeType; consecutiveFailures: number }) => void;
  /** A check (TaskInfo.check) ran: it completed with a result, or failed to give one (timeout, error). */
  checkResult: (info: { taskId: string; job: string; type: ProbeType; result: CheckResult; durationMs: number }) => void;
  /** Any status update handed to the driver. */
  statusUpdate: (info: { taskId: string; state: TaskState }) => void;
  /** SHUTDOWN began: this many tasks were live. */
  shutdownStarted: (info: { tasks: number; killGraceMs: number }) => void;
  /** SHUTDOWN is done: updates acknowledged (or not, in time), pool destroyed, driver stopped. */
  shutdownCompleted: (info: { acknowledged: boolean; durationMs: number }) => void;
}
