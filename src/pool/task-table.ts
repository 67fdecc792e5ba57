// The executor's tasks: the live ones by id, plus a bounded memory of recently ended ids so
// that a late KILL for a task that already ended can be logged as such (and ignored).
import type { KillPolicy, TaskInfo } from '../proto/types.js';
import type { TaskLifecycle, TerminalState } from './task-state.js';
import type { BatchTask } from './batch-task.js';
import type { TaskRun } from './task-run.js';

export interface ProgressUpdate {
  readonly message: string;
  readonly data?: Uint8Array;
}

/** The tasks launched together by one LAUNCH_GROUP. */
export interface TaskGroup {
  readonly taskIds: readonly string[];
}

/** A batch task's items, and how many of its chunks may run at once (its cpus, rounded up). */
export interface BatchSpec {
  readonly items: readonly unknown[];
  readonly concurrency: number;
}

export interface TaskRecord {
  readonly id: string;
  readonly job: string;
  /** The payload's `input` (undefined for a batch task). */
  readonly input: unknown;
  /** Set for a batch task (`{"job", "batch": [...]}`). */
  readonly batch: BatchSpec | undefined;
  /** Bytes of its `TaskInfo.data`, counted against the queue's byte bound while it waits. */
  readonly dataBytes: number;
  readonly killPolicy: KillPolicy | undefined;
  /** The worker heap limit this task asks for (its `mem`), when it differs from the pool's. */
  readonly memoryMb: number | undefined;
  readonly group: TaskGroup | undefined;
  readonly lifecycle: TaskLifecycle;
  readonly acceptedAt: number;
  startedAt?: number;
  /**
   * Its run on the worker pool, from dispatch until the run settles (see task-run.ts); a batch
   * task's runs, one per chunk in flight, as one (batch-task.ts).
   */
  run?: TaskRun | BatchTask;
  /** Fires when the task's max_completion_time passes. */
  deadlineTimer?: unknown;
  /** A framework message of its job was dropped for its size (logged once per task). */
  messageDropped?: boolean;
}

export interface NewTask {
  readonly task: TaskInfo;
  readonly job: string;
  readonly input: unknown;
  readonly batch?: BatchSpec;
  readonly memoryMb: number | undefined;
  readonly group: TaskGroup | undefined;
  readonly lifecycle: TaskLifecycle;
  readonly acceptedAt: number;
}

const REMEMBERED_ENDED = 10_000;

export class TaskTable {
  readonly #live = new Map<string, TaskRecord>();
  readonly #ended = new Map<string, TerminalState>();

  get size(): number {
    return this.#live.size;
  }

  has(id: string): boolean {
    return this.#live.has(id);
  }

  get(id: string): TaskRecord | undefined {
    return this.#live.get(id);
  }

  /** Live tasks, in launch order (a snapshot: safe to end tasks while iterating). */
  list(): TaskRecord[] {
    return [...this.#live.values()];
  }

  add(entry: NewTask): TaskRecord {
    const id = entry.task.task_id.value;
    const record: TaskRecord = {
      id,
      job: entry.job,
      input: entry.input,
      batch: entry.batch,
      dataBytes: entry.task.data?.byteLength ?? 0,
      killPolicy: entry.task.kill_policy,
      memoryMb: entry.memoryMb,
      group: entry.group,
      lifecycle: entry.lifecycle,
      acceptedAt: entry.acceptedAt,
    };
    this.#live.set(id, record);
    this.#ended.delete(id);
    return record;
  }

  /** Moves a task to the ended memory. */
  end(id: string, state: TerminalState): void {
    if (!this.#live.delete(id)) return;
    this.#ended.set(id, state);
    if (this.#ended.size > REMEMBERED_ENDED) {
      const oldest = this.#ended.keys().next();
      if (oldest.done !== true) this.#ended.delete(oldest.value);
    }
  }

  /** How a recently ended task ended, if it is still remembered. */
  endedAs(id: string): TerminalState | undefined {
    return this.#ended.get(id);
  }
}
