// The agent's task table: its view of its tasks and of their status update streams, i.e. which
// updates are accepted, which are duplicates, which are dropped, and which get an ACKNOWLEDGED (PROTOCOL.md §8.3,
// §7.6; upstream `Slave::statusUpdate`, `Executor::updateTaskState`,
// `TaskStatusUpdateStream::update`). Pure bookkeeping: no I/O, no timers.
import { isTerminalState } from '../proto/types.js';
import type { TaskInfo, TaskState, TaskStatus } from '../proto/types.js';
import { uuidKey } from '../protocol/uuid.js';

/**
 * Where a task is, from the agent's side: `queued` (given to the agent, not yet sent to the
 * executor), `launched` (sent, or sent into a dead stream), `terminated` (a terminal update
 * was accepted).
 */
export type AgentTaskPhase = 'queued' | 'launched' | 'terminated';

/** What became of one status update. */
export type UpdateOutcome =
  /** Recorded; ACKed when it came from the executor. */
  | 'accepted'
  /** The uuid was already received for this task: not recorded again, ACKed again. */
  | 'duplicate'
  /** The task is already terminal (a later update, or a second terminal one): not recorded, ACKed. */
  | 'dropped'
  /** `agent_id` names another agent: silently ignored, no ACK. */
  | 'ignored'
  /** No executor of this framework knows the task: upstream forwards it to the master, with no ACK. */
  | 'unknown-task'
  /**
   * A non-terminal update for a task still queued. Upstream's agent crashes on this
   * (a CHECK, "Queued tasks can only be transitioned to terminal states"); we drop it, no ACK.
   */
  | 'rejected';

export interface UpdateResult {
  readonly outcome: UpdateOutcome;
  /** Send ACKNOWLEDGED for it (executor-sent updates only). */
  readonly ack: boolean;
  /** The status as recorded (agent fills: agent_id, executor_id, timestamp), when accepted. */
  readonly status: TaskStatus;
  /** This update made the task terminal. */
  readonly terminal: boolean;
}

/** A task as the agent tracks it. Read-only to users of LocalAgent. */
export interface AgentTaskRecord {
  readonly taskId: string;
  readonly phase: AgentTaskPhase;
  /** The state of the latest accepted status (TASK_STAGING until the first). */
  readonly state: TaskState | number;
  /** The TaskInfo; kept while queued, and afterwards only when statuses are recorded. */
  readonly info: TaskInfo | undefined;
  /** Accepted statuses in order; empty when statuses are not recorded. */
  readonly statuses: readonly TaskStatus[];
  /** How many statuses were accepted (also when they are not recorded). */
  readonly acceptedCount: number;
  /** Launch group number when launched through LAUNCH_GROUP. */
  readonly group: number | undefined;
}

interface MutableTask {
  taskId: string;
  phase: AgentTaskPhase;
  state: TaskState | number;
  info: TaskInfo | undefined;
  statuses: TaskStatus[];
  acceptedCount: number;
  group: number | undefined;
  /** Received uuids (hex). Freed once terminal when statuses are not recorded (bounded memory). */
  uuids: Set<string> | undefined;
}

export interface UpdateCounters {
  accepted: number;
  duplicates: number;
  dropped: number;
  ignored: number;
  unknownTask: number;
  rejected: number;
  agentGenerated: number;
}

export type UpdateOrigin = 'executor' | 'agent';

export class AgentTaskTable {
  readonly #tasks = new Map<string, MutableTask>();
  readonly #agentId: string;
  readonly #executorId: string;
  readonly #record: boolean;
  readonly counters: UpdateCounters = {
    accepted: 0,
    duplicates: 0,
    dropped: 0,
    ignored: 0,
    unknownTask: 0,
    rejected: 0,
    agentGenerated: 0,
  };

  constructor(agentId: string, executorId: string, recordStatuses: boolean) {
    this.#agentId = agentId;
    this.#executorId = executorId;
    this.#record = recordStatuses;
  }

  /** The tasks by id, in the order they were given (a live, read-only view). */
  get map(): ReadonlyMap<string, AgentTaskRecord> {
    return this.#tasks;
  }

  get size(): number {
    return this.#tasks.size;
  }

  has(taskId: string): boolean {
    return this.#tasks.has(taskId);
  }

  get(taskId: string): AgentTaskRecord | undefined {
    return this.#tasks.get(taskId);
  }

  /** All tasks, in the order they were given to the agent. */
  values(): IterableIterator<AgentTaskRecord> {
    return this.#tasks.values();
  }

  /** Adds a task given to the agent (state TASK_STAGING). */
  add(info: TaskInfo, phase: 'queued' | 'launched', group?: number): AgentTaskRecord {
    const task: MutableTask = {
      taskId: info.task_id.value,
      phase,
      state: 'TASK_STAGING',
      // A queued task needs its TaskInfo for the LAUNCH to come; a launched one only for observers.
      info: phase === 'queued' || this.#record ? info : undefined,
      statuses: [],
      acceptedCount: 0,
      group,
      uuids: new Set(),
    };
    this.#tasks.set(task.taskId, task);
    return task;
  }

  /** Queued tasks in order (what SUBSCRIBED is followed by). */
  queued(): AgentTaskRecord[] {
    const out: AgentTaskRecord[] = [];
    for (const task of this.#tasks.values()) if (task.phase === 'queued') out.push(task);
    return out;
  }

  /** Marks a queued task as sent to the executor (its TaskInfo is then only kept if recording). */
  markLaunched(taskId: string): void {
    const task = this.#tasks.get(taskId);
    if (task === undefined || task.phase !== 'queued') return;
    task.phase = 'launched';
    if (!this.#record) task.info = undefined;
  }

  /** Tasks not terminal yet (queued or launched). */
  nonTerminal(): AgentTaskRecord[] {
    const out: AgentTaskRecord[] = [];
    for (const task of this.#tasks.values()) if (task.phase !== 'terminated') out.push(task);
    return out;
  }

  /**
   * Applies one status update: the checks of §8.3 in the order upstream meets them.
   * `origin` 'agent' is an update the agent made itself (TASK_LOST, TASK_FAILED, …): never ACKed.
   */
  apply(status: TaskStatus, origin: UpdateOrigin, nowSeconds: number): UpdateResult {
    // Slave::statusUpdate: an update naming another agent is dropped before anything else.
    if (status.agent_id !== undefined && status.agent_id.value !== this.#agentId) {
      this.counters.ignored++;
      return { outcome: 'ignored', ack: false, status, terminal: false };
    }
    const task = this.#tasks.get(status.task_id.value);
    if (task === undefined) {
      this.counters.unknownTask++;
      return { outcome: 'unknown-task', ack: false, status, terminal: false };
    }
    const fromExecutor = origin === 'executor';
    const key = status.uuid === undefined ? undefined : uuidKey(status.uuid);
    if (key !== undefined && task.uuids?.has(key) === true) {
      this.counters.duplicates++;
      return { outcome: 'duplicate', ack: fromExecutor, status, terminal: false };
    }
    const terminal = isTerminalState(status.state);
    if (task.phase === 'queued' && !terminal) {
      this.counters.rejected++;
      return { outcome: 'rejected', ack: false, status, terminal: false };
    }
    if (task.phase === 'terminated') {
      this.counters.dropped++;
      return { outcome: 'dropped', ack: fromExecutor, status, terminal: false };
    }
    // What the agent fills in before the update goes on (createStatusUpdate, _statusUpdate).
    const recorded: TaskStatus = {
      ...status,
      agent_id: status.agent_id ?? { value: this.#agentId },
      executor_id: status.executor_id ?? { value: this.#executorId },
      timestamp: status.timestamp ?? nowSeconds,
    };
    task.state = status.state;
    task.acceptedCount++;
    if (this.#record) task.statuses.push(recorded);
    if (key !== undefined) task.uuids?.add(key);
    if (terminal) {
      task.phase = 'terminated';
      // A later duplicate of anything is then "dropped" (still ACKed): same wire behaviour, less memory.
      if (!this.#record) task.uuids = undefined;
    }
    this.counters.accepted++;
    if (!fromExecutor) this.counters.agentGenerated++;
    return { outcome: 'accepted', ack: fromExecutor, status: recorded, terminal };
  }
}
