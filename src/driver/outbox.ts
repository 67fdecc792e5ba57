import { MesosExecutorError } from '../errors.js';
import { uuidKey } from '../protocol/uuid.js';
import { isTerminalState, type CallUpdate, type TaskInfo, type TaskStatus } from '../proto/types.js';

/** Where an update is on its way to the agent. */
export type UpdatePhase =
  /** Recorded, not yet handed to the agent. */
  | 'queued'
  /** An UPDATE call carrying it is in flight. */
  | 'sending'
  /** The agent has it (202, or it was carried by a SUBSCRIBE); waiting for ACKNOWLEDGED. */
  | 'accepted';

export interface OutboxEntry {
  readonly uuidKey: string;
  readonly taskId: string;
  readonly update: CallUpdate;
  /** The UPDATE call, encoded once when recorded (which also proves it can be sent). */
  readonly body: Uint8Array;
  readonly bytes: number;
  phase: UpdatePhase;
  /** performance.now() when the update was recorded. */
  readonly recordedAt: number;
  /** performance.now() when the agent last accepted it (202 or SUBSCRIBE). */
  acceptedAt: number;
  /** It stands in for an update the agent refused (so it is not replaced again). */
  readonly replacement: boolean;
}

export interface OutboxLimits {
  /** Most updates held while unacknowledged. */
  readonly maxUpdates: number;
  /** Most bytes of status data and messages held while unacknowledged. */
  readonly maxBytes: number;
}

/**
 * A launched task as a SUBSCRIBE echoes it in `unacknowledged_tasks`: the agent reads only its
 * id, so the payload (`data`, possibly large) and the health check and check (whose required
 * fields a task may lack: it then ends TASK_ERROR, and must not make every later SUBSCRIBE
 * unencodable) are left out; every other field, unknown ones included, stays as given.
 */
export function echoedTask(task: TaskInfo): TaskInfo {
  if (task.data === undefined && task.health_check === undefined && task.check === undefined) return task;
  const { data: _payload, health_check: _health, check: _check, ...echoed } = task;
  return echoed;
}

/**
 * The unacknowledged-update store (what upstream's executors keep in a map keyed by uuid)
 * plus the unacknowledged tasks (launched, no update of theirs acknowledged yet).
 *
 * Updates of one task leave in the order they were recorded: only the oldest not-yet-accepted
 * update of a task may be in flight, so a retried or failed call can never let a later state
 * overtake an earlier one. Both sets shrink only on ACKNOWLEDGED, so memory is bounded by
 * the limits, which `record` enforces.
 */
export class Outbox {
  readonly #limits: OutboxLimits;
  /** Insertion order is creation order: SUBSCRIBE lists them in that order. */
  readonly #entries = new Map<string, OutboxEntry>();
  /** Per task, its entries not yet accepted, oldest first. */
  readonly #unsentByTask = new Map<string, OutboxEntry[]>();
  readonly #tasks = new Map<string, TaskInfo>();
  #heldBytes = 0;
  /** Where sendable entries go while subscribed; undefined while not. */
  #sender: ((entry: OutboxEntry) => void) | undefined;

  constructor(limits: OutboxLimits) {
    this.#limits = limits;
  }

  get size(): number {
    return this.#entries.size;
  }

  get bytes(): number {
    return this.#heldBytes;
  }

  get unacknowledgedTaskCount(): number {
    return this.#tasks.size;
  }

  /**
   * Remembers a launched task until one of its updates is acknowledged. Its `data` (the payload,
   * possibly large) is not kept: the agent reads only the task id of `unacknowledged_tasks`,
   * and `data` is optional, so the echoed TaskInfo stays valid without it.
   */
  addTask(task: TaskInfo): void {
    this.#tasks.set(task.task_id.value, echoedTask(task));
  }

  /**
   * Records an update with its encoded UPDATE call. Throws MPE_OUTBOX_FULL rather than grow past
   * the limits — except for a terminal update, which is always taken: refusing it would lose the
   * one update a task cannot do without, and terminal updates are bounded by the tasks launched.
   */
  record(status: TaskStatus & { uuid: Uint8Array }, body: Uint8Array, replacement = false): OutboxEntry {
    const bytes = body.byteLength;
    const full = this.#entries.size >= this.#limits.maxUpdates || this.#heldBytes + bytes > this.#limits.maxBytes;
    if (full && !isTerminalState(status.state)) {
      throw new MesosExecutorError(
        'MPE_OUTBOX_FULL',
        `cannot record an update for task ${status.task_id.value}: ${this.#entries.size} updates ` +
          `(${this.#heldBytes} bytes) await acknowledgement; limits are ${this.#limits.maxUpdates} ` +
          `updates and ${this.#limits.maxBytes} bytes`,
      );
    }
    const entry: OutboxEntry = {
      uuidKey: uuidKey(status.uuid),
      taskId: status.task_id.value,
      update: { status },
      body,
      bytes,
      phase: 'queued',
      recordedAt: performance.now(),
      acceptedAt: 0,
      replacement,
    };
    this.#entries.set(entry.uuidKey, entry);
    this.#heldBytes += bytes;
    const queue = this.#unsentByTask.get(entry.taskId);
    if (queue === undefined) this.#unsentByTask.set(entry.taskId, [entry]);
    else queue.push(entry);
    this.#pump(entry.taskId);
    return entry;
  }

  // ---- sending: the one place that decides when an entry goes out ----

  /**
   * Subscribed: every entry that may be sent goes to `send` now, and each one that becomes
   * sendable later (recorded, or its predecessor accepted) as it does.
   */
  open(send: (entry: OutboxEntry) => void): void {
    this.#sender = send;
    this.flush();
  }

  /** Not subscribed: entries wait (they ride on the next SUBSCRIBE). */
  pause(): void {
    this.#sender = undefined;
  }

  /** Sends every sendable entry (after a retry delay). Nothing while paused. */
  flush(): void {
    if (this.#sender === undefined) return;
    for (const entry of this.#takeSendable()) this.#sender(entry);
  }

  #pump(taskId: string): void {
    if (this.#sender === undefined) return;
    const next = this.#takeSendableFor(taskId);
    if (next !== undefined) this.#sender(next);
  }

  /** Whether the task has an update recorded after `entry` that the agent has not accepted. */
  hasLaterUnsent(entry: OutboxEntry): boolean {
    const queue = this.#unsentByTask.get(entry.taskId);
    return queue !== undefined && queue.some((e) => e !== entry);
  }

  /**
   * The agent refused the update for good: it is forgotten (the next update of its task may go).
   */
  remove(entry: OutboxEntry): void {
    if (this.#entries.get(entry.uuidKey) !== entry) return;
    this.#entries.delete(entry.uuidKey);
    this.#heldBytes -= entry.bytes;
    const queue = this.#unsentByTask.get(entry.taskId);
    if (queue !== undefined) {
      const at = queue.indexOf(entry);
      if (at !== -1) queue.splice(at, 1);
      if (queue.length === 0) this.#unsentByTask.delete(entry.taskId);
    }
    entry.phase = 'accepted';
    this.#pump(entry.taskId);
  }

  /**
   * The entries that may be sent now: for each task, its oldest unaccepted entry, if it is
   * not already in flight. Marks them `sending`.
   */
  #takeSendable(): OutboxEntry[] {
    const out: OutboxEntry[] = [];
    for (const queue of this.#unsentByTask.values()) {
      const head = queue[0]!;
      if (head.phase === 'queued') {
        head.phase = 'sending';
        out.push(head);
      }
    }
    return out;
  }

  /** Like takeSendable, for one task (after its previous update was accepted). */
  #takeSendableFor(taskId: string): OutboxEntry | undefined {
    const head = this.#unsentByTask.get(taskId)?.[0];
    if (head === undefined || head.phase !== 'queued') return undefined;
    head.phase = 'sending';
    return head;
  }

  /** The agent answered 202 (or took the update in a SUBSCRIBE). */
  markAccepted(entry: OutboxEntry, now = performance.now()): void {
    if (entry.phase === 'accepted') return;
    entry.phase = 'accepted';
    entry.acceptedAt = now;
    const queue = this.#unsentByTask.get(entry.taskId);
    if (queue === undefined) return;
    const at = queue.indexOf(entry);
    if (at !== -1) queue.splice(at, 1);
    if (queue.length === 0) this.#unsentByTask.delete(entry.taskId);
    // The task's next update may have been waiting for this one.
    else this.#pump(entry.taskId);
  }

  /**
   * Every update the agent took (202) but has not acknowledged goes back to `queued`, in
   * recording order per task: sent again at the next flush (after a framing anomaly, when a 202
   * may have answered another call). Entries in flight are left to their calls.
   */
  requeueUnacknowledged(): void {
    let changed = false;
    for (const entry of this.#entries.values()) {
      if (entry.phase === 'accepted') {
        entry.phase = 'queued';
        changed = true;
      }
    }
    if (!changed) return;
    this.#unsentByTask.clear();
    for (const entry of this.#entries.values()) {
      if (entry.phase === 'accepted') continue;
      const queue = this.#unsentByTask.get(entry.taskId);
      if (queue === undefined) this.#unsentByTask.set(entry.taskId, [entry]);
      else queue.push(entry);
    }
  }

  /** A send failed in a way that will be retried: the entry goes back to `queued`. */
  markUnsent(entry: OutboxEntry): void {
    if (entry.phase === 'sending') entry.phase = 'queued';
  }

  /**
   * What a (re)SUBSCRIBE carries: every unacknowledged update, oldest first, and every
   * unacknowledged task. The agent replays the updates before it answers SUBSCRIBED.
   */
  snapshotForSubscribe(): { updates: CallUpdate[]; tasks: TaskInfo[]; entries: OutboxEntry[] } {
    const entries = [...this.#entries.values()];
    return {
      updates: entries.map((e) => e.update),
      tasks: [...this.#tasks.values()],
      entries,
    };
  }

  /**
   * SUBSCRIBED arrived: the agent has replayed what the SUBSCRIBE carried. Those entries are
   * accepted and must not be sent again as UPDATEs (upstream's recommendation, PROTOCOL.md §7.2).
   */
  acceptCarried(entries: readonly OutboxEntry[], now = performance.now()): void {
    for (const entry of entries) {
      if (this.#entries.get(entry.uuidKey) === entry) this.markAccepted(entry, now);
    }
  }

  /**
   * ACKNOWLEDGED: removes the update and marks its task acknowledged. Returns the entry, or
   * undefined for an unknown uuid (a duplicate ACK after a replay).
   */
  acknowledge(taskId: string, uuid: Uint8Array): OutboxEntry | undefined {
    this.#tasks.delete(taskId);
    const key = uuidKey(uuid);
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    this.#entries.delete(key);
    this.#heldBytes -= entry.bytes;
    if (entry.phase !== 'accepted') this.markAccepted(entry);
    return entry;
  }

  /** Forgets everything (a driver stopped without failover). */
  clear(): void {
    this.#sender = undefined;
    this.#entries.clear();
    this.#unsentByTask.clear();
    this.#tasks.clear();
    this.#heldBytes = 0;
  }

  /** Every entry still held, oldest first (for inspection and tests). */
  list(): OutboxEntry[] {
    return [...this.#entries.values()];
  }
}
