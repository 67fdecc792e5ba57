// Which grace period a kill gets (PROTOCOL.md §7.3, as upstream's command executor):
// the KILL event's policy, else the task's own, else 3 s.
import type { DurationInfo, KillPolicy } from '../proto/types.js';

/** Upstream's default grace period, kept for backwards compatibility. */
export const DEFAULT_KILL_GRACE_MS = 3_000;

const INT64 = /^-?\d+$/;

/**
 * A DurationInfo in milliseconds (rounded down, negative → 0), or undefined when it is absent
 * or unreadable. 64-bit nanoseconds may arrive as a decimal string: BigInt keeps them exact.
 */
export function durationToMs(duration: DurationInfo | undefined): number | undefined {
  if (duration === undefined) return undefined;
  const ns = duration.nanoseconds;
  let ms: number;
  if (typeof ns === 'number') {
    if (!Number.isFinite(ns)) return undefined;
    ms = Math.floor(ns / 1e6);
  } else if (typeof ns === 'string' && INT64.test(ns)) {
    ms = Number(BigInt(ns) / 1_000_000n);
  } else {
    return undefined;
  }
  return Math.max(0, ms);
}

/** The grace period in ms: `killPolicy` (from the KILL) > `taskPolicy` (TaskInfo) > `defaultMs`. */
export function resolveKillGraceMs(
  killPolicy: KillPolicy | undefined,
  taskPolicy: KillPolicy | undefined,
  defaultMs = DEFAULT_KILL_GRACE_MS,
): number {
  return durationToMs(killPolicy?.grace_period) ?? durationToMs(taskPolicy?.grace_period) ?? defaultMs;
}

/**
 * The escalation deadline after another kill: a later kill can only bring it forward. Its
 * grace counts from the FIRST kill (upstream reschedules for max(0, P − elapsed)), so a
 * retried kill with the same policy changes nothing.
 */
export function shrinkDeadline(currentDeadline: number, firstKillAt: number, graceMs: number): number {
  return Math.min(currentDeadline, firstKillAt + graceMs);
}

/** A DurationInfo's nanoseconds, exactly; undefined when absent or unreadable. */
function nanoseconds(duration: DurationInfo | undefined): bigint | undefined {
  if (duration === undefined) return undefined;
  const ns = duration.nanoseconds;
  if (typeof ns === 'number') return Number.isInteger(ns) ? BigInt(ns) : undefined;
  return typeof ns === 'string' && INT64.test(ns) ? BigInt(ns) : undefined;
}

/**
 * `TaskInfo.max_completion_time` in ms, rounded up (a task is never stopped before its limit),
 * or undefined when the task has no limit. Zero is no limit: upstream's command and default
 * executors arm the timer only when it is > 0, and the master accepts 0. A negative value is
 * refused at launch ({@link maxCompletionProblem}).
 */
export function maxCompletionMs(task: { max_completion_time?: DurationInfo }): number | undefined {
  const ns = nanoseconds(task.max_completion_time);
  if (ns === undefined || ns <= 0n) return undefined;
  return Number((ns + 999_999n) / 1_000_000n);
}

/**
 * Why a task's `max_completion_time` makes it invalid, or undefined. The master refuses a negative
 * one (TASK_ERROR, `validateMaxCompletionTime` in src/master/validation.cpp); a task that reaches
 * us with one anyway gets the same answer.
 */
export function maxCompletionProblem(task: { max_completion_time?: DurationInfo }): string | undefined {
  const ns = nanoseconds(task.max_completion_time);
  return ns !== undefined && ns < 0n ? `max_completion_time must not be negative, got ${ns} ns` : undefined;
}
