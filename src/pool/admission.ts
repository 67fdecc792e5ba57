/**
 * Which tasks of a LAUNCH or LAUNCH_GROUP are accepted, and what the others are told: a pure
 * decision over the tasks and the executor's queue (no status is sent here). A group is
 * treated as one, as the master does: one invalid task makes the whole group invalid, and a
 * full queue refuses the whole group.
 */
import { taskChecksProblem } from '../checks/index.js';
import type { Logger } from '../log.js';
import type { TaskInfo, TaskStatusReason } from '../proto/types.js';
import type { RefusedState } from './events.js';
import { maxCompletionProblem } from './kill-policy.js';
import { parseTaskData, type ParsedPayload } from './payload.js';

export interface AdmissionContext {
  readonly logger: Logger;
  readonly jobs: ReadonlySet<string>;
  readonly maxPayloadBytes: number;
  readonly maxBatchItems: number;
  readonly maxBatchItemBytes: number;
  readonly maxQueuedTasks: number;
  readonly maxQueuedBytes: number;
  /** A task with this id is live (a status for it would land on that task). */
  isLive(taskId: string): boolean;
  /** Tasks waiting in the queue, and the bytes of their task data. */
  readonly queued: number;
  readonly queuedBytes: number;
  /** Threads that would take a task at once (0 while anything is queued). */
  readonly freeThreads: number;
  /** The framework understands TASK_DROPPED. */
  readonly partitionAware: boolean;
  /** A shutdown has begun: nothing is accepted any more. */
  readonly shuttingDown: boolean;
}

/** One task's fate, in the order of the tasks. */
export type Admitted =
  | { readonly kind: 'accept'; readonly task: TaskInfo; readonly payload: ParsedPayload }
  | { readonly kind: 'refuse'; readonly taskId: string; readonly state: RefusedState; readonly message: string; readonly reason: TaskStatusReason | undefined };

export interface Admission {
  readonly decisions: readonly Admitted[];
  /** The ids of the group, when these tasks were launched as one and accepted. */
  readonly group: readonly string[] | undefined;
}

interface Checked {
  readonly task: TaskInfo;
  readonly payload?: ParsedPayload;
  readonly problem?: string;
}

export function admit(tasks: readonly TaskInfo[], isGroup: boolean, context: AdmissionContext): Admission {
  if (context.shuttingDown) return { decisions: refusedByShutdown(tasks, context), group: undefined };
  const checked: Checked[] = [];
  const seen = new Set<string>();
  for (const task of tasks) {
    const id = task.task_id.value;
    if (context.isLive(id) || seen.has(id)) {
      // A status for this id would land on the live task of the same id: say nothing.
      context.logger.warn({ taskId: id }, 'launch ignored: a task with this id is already live');
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
      checked.push({ task, payload: parseTaskData(task.data, context.jobs, { maxBytes: context.maxPayloadBytes, maxBatchItems: context.maxBatchItems, maxBatchItemBytes: context.maxBatchItemBytes }) });
    } catch (error) {
      checked.push({ task, problem: error instanceof Error ? error.message : String(error) });
    }
  }
  const decisions: Admitted[] = [];
  const firstProblem = checked.find((c) => c.problem !== undefined);
  if (isGroup && firstProblem !== undefined) {
    const culprit = `task group is invalid: task ${JSON.stringify(firstProblem.task.task_id.value)}: ${firstProblem.problem}`;
    const refused = new Set<string>();
    for (const c of checked) {
      const id = c.task.task_id.value;
      // One update per id: never one for a live task, never two for an id repeated in the group.
      if (context.isLive(id) || refused.has(id)) continue;
      refused.add(id);
      decisions.push({ kind: 'refuse', taskId: id, state: 'TASK_ERROR', message: c.problem ?? culprit, reason: 'REASON_TASK_GROUP_INVALID' });
    }
    return { decisions, group: undefined };
  }
  const full = queueFull(checked.filter((c) => c.payload !== undefined).map((c) => c.task), context);
  if (full !== undefined) {
    // Never started, and may well succeed later or on another agent: what TASK_DROPPED means
    // (TASK_LOST for a framework that does not know it, as the master does). A group goes
    // as one, as it would have run as one.
    const state = context.partitionAware ? 'TASK_DROPPED' : 'TASK_LOST';
    context.logger.warn({ tasks: checked.length, queued: context.queued, queuedBytes: context.queuedBytes }, 'launch refused: the queue is full');
    for (const c of checked) {
      const valid = c.payload !== undefined;
      decisions.push({ kind: 'refuse', taskId: c.task.task_id.value, state: valid ? state : 'TASK_ERROR', message: c.problem ?? full, reason: valid ? undefined : 'REASON_TASK_INVALID' });
    }
    return { decisions, group: undefined };
  }
  for (const c of checked) {
    if (c.payload === undefined) {
      decisions.push({ kind: 'refuse', taskId: c.task.task_id.value, state: 'TASK_ERROR', message: c.problem ?? 'invalid task', reason: 'REASON_TASK_INVALID' });
    } else {
      decisions.push({ kind: 'accept', task: c.task, payload: c.payload });
    }
  }
  return { decisions, group: isGroup ? checked.map((c) => c.task.task_id.value) : undefined };
}

/**
 * The agent reports an exited executor's unfinished tasks as TASK_FAILED with
 * REASON_EXECUTOR_TERMINATED (PROTOCOL.md §7.5): a LAUNCH that races the SHUTDOWN gets the
 * same, so a scheduler sees one outcome either way. TASK_KILLED would claim a kill that
 * nobody asked for; FAILED tells it to run the task elsewhere.
 */
function refusedByShutdown(tasks: readonly TaskInfo[], context: AdmissionContext): Admitted[] {
  const decisions: Admitted[] = [];
  const refused = new Set<string>();
  for (const task of tasks) {
    const id = task.task_id.value;
    // A live id is a task being killed by the shutdown: its own terminal update is coming.
    if (context.isLive(id) || refused.has(id)) continue;
    refused.add(id);
    decisions.push({ kind: 'refuse', taskId: id, state: 'TASK_FAILED', message: 'the executor is shutting down; the task was not started', reason: 'REASON_EXECUTOR_TERMINATED' });
  }
  return decisions;
}

/**
 * Why these tasks cannot be queued, when they cannot: the ones a free thread would not take at
 * once must fit within the queue's bounds (count and bytes of task data).
 */
function queueFull(tasks: readonly TaskInfo[], context: AdmissionContext): string | undefined {
  const waiting = tasks.slice(context.freeThreads);
  if (waiting.length === 0) return undefined;
  const { maxQueuedTasks, maxQueuedBytes, queued, queuedBytes } = context;
  if (queued + waiting.length > maxQueuedTasks) {
    return `the executor's queue is full: ${queued} tasks wait for a thread, the most is ${maxQueuedTasks}; the task was not started`;
  }
  const bytes = waiting.reduce((sum, task) => sum + (task.data?.byteLength ?? 0), 0);
  if (queuedBytes + bytes > maxQueuedBytes) {
    return `the executor's queue is full: ${queuedBytes} bytes of task data wait for a thread, and ${bytes} more would pass the most, ${maxQueuedBytes}; the task was not started`;
  }
  return undefined;
}
