// Accepted tasks waiting for a free thread, in launch order, and the bytes of task data they
// hold (bounded by maxQueuedBytes). A kill takes a task out at once, wherever it is.
import type { TaskRecord } from './task-table.js';

export class TaskQueue {
  /** A Map keeps insertion order: FIFO, with removal by id in O(1). */
  readonly #waiting = new Map<string, TaskRecord>();
  #bytes = 0;

  get size(): number {
    return this.#waiting.size;
  }

  /** Bytes of task data of the queued tasks. */
  get bytes(): number {
    return this.#bytes;
  }

  add(task: TaskRecord): void {
    if (this.#waiting.has(task.id)) return;
    this.#waiting.set(task.id, task);
    this.#bytes += task.dataBytes;
  }

  /** Takes the task out; false when it was not queued. */
  remove(id: string): boolean {
    const task = this.#waiting.get(id);
    if (task === undefined) return false;
    this.#waiting.delete(id);
    this.#bytes -= task.dataBytes;
    return true;
  }

  /** Takes out the task that has waited longest. */
  shift(): TaskRecord | undefined {
    const first = this.#waiting.values().next();
    if (first.done === true) return undefined;
    this.remove(first.value.id);
    return first.value;
  }

  clear(): void {
    this.#waiting.clear();
    this.#bytes = 0;
  }
}
