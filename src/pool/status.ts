// Sending a task's status updates through the driver, which the pool knows only as an
// ExecutorDriver. A refused update (outbox full, invalid) is logged: it must not throw into
// the worker-message or timer path that produced it.
import type { ExecutorDriver, StatusUpdateInput } from '../executor.js';
import type { Logger } from '../log.js';
import { boundMessage } from '../protocol/utf8.js';
import type { StatusEffect } from './task-state.js';

export function toStatusUpdate(taskId: string, effect: StatusEffect): StatusUpdateInput {
  const update: StatusUpdateInput = { task_id: { value: taskId }, state: effect.state };
  // The one place every pool update passes: bounded (and well-formed) here, whoever made the text.
  if (effect.message !== undefined) update.message = boundMessage(effect.message);
  if (effect.reason !== undefined) update.reason = effect.reason;
  if (effect.data !== undefined) update.data = effect.data;
  return update;
}

export class StatusReporter {
  #driver: ExecutorDriver | undefined;
  readonly #logger: Logger;

  constructor(logger: Logger) {
    this.#logger = logger;
  }

  /** The driver of the latest callback (the driver passes itself to every one). */
  set driver(driver: ExecutorDriver) {
    this.#driver = driver;
  }

  get driver(): ExecutorDriver | undefined {
    return this.#driver;
  }

  send(taskId: string, effect: StatusEffect): void {
    const driver = this.#driver;
    if (driver === undefined) {
      this.#logger.error({ taskId, state: effect.state }, 'status update dropped: no driver yet');
      return;
    }
    try {
      driver.sendStatusUpdate(toStatusUpdate(taskId, effect));
    } catch (error) {
      this.#logger.error({ taskId, state: effect.state, err: error }, 'status update refused by the driver');
    }
  }
}
