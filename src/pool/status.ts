// Sending a task's status updates through the driver, which the pool knows only as an
// ExecutorDriver. A refused update (outbox full, invalid) is logged: it must not throw into
// the worker-message or timer path that produced it.
import type { ExecutorDriver, StatusUpdateInput } from '../executor.js';
import type { Logger } from '../log.js';
import { boundMessage, truncateUtf8 } from '../protocol/utf8.js';
import type { StatusEffect } from './task-state.js';

export function toStatusUpdate(taskId: string, effect: StatusEffect): StatusUpdateInput {
  const update: StatusUpdateInput = { task_id: { value: taskId }, state: effect.state };
  // The one place every pool update passes: bounded (and well-formed) here, whoever made the
  // text; a message that is somehow not a string is made one rather than fail to encode.
  if (effect.message !== undefined) update.message = boundMessage(typeof effect.message === 'string' ? effect.message : String(effect.message));
  if (effect.reason !== undefined) update.reason = effect.reason;
  if (effect.data !== undefined) update.data = effect.data;
  if (effect.healthy !== undefined) update.healthy = effect.healthy;
  if (effect.check_status !== undefined) update.check_status = effect.check_status;
  return update;
}

/** Of a refusal's text, what goes into the replacement update's message. */
const REFUSAL_TEXT_BYTES = 200;

/**
 * What is sent when an update is refused (it cannot be encoded, say): its state and reason and
 * a short message, no data. A task must never be left without its terminal update because
 * something in it could not be sent.
 */
export function minimalUpdate(taskId: string, effect: StatusEffect, refusal: unknown): StatusUpdateInput {
  const why = refusal instanceof Error ? refusal.message : 'refused';
  const update: StatusUpdateInput = {
    task_id: { value: taskId },
    state: effect.state,
    message: truncateUtf8(`the full status update could not be sent: ${typeof why === 'string' ? why : 'refused'}`, REFUSAL_TEXT_BYTES),
  };
  if (effect.reason !== undefined) update.reason = effect.reason;
  return update;
}

export class StatusReporter {
  #driver: ExecutorDriver | undefined;
  readonly #logger: Logger;

  constructor(logger: Logger) {
    this.#logger = logger;
  }

  /**
   * The driver that delivered SUBSCRIBED. Bound once: one driver runs an executor, it passes
   * itself to every callback, and no task exists before SUBSCRIBED. A second binding (a test
   * or an embedder registering the executor again) replaces it.
   */
  bind(driver: ExecutorDriver): void {
    this.#driver = driver;
  }

  /** A job's framework message, best effort (a refusal is logged, never thrown into the worker-message path). */
  sendFrameworkMessage(taskId: string, data: Uint8Array): void {
    try {
      this.#driver?.sendFrameworkMessage(data);
    } catch (error) {
      this.#logger.error({ taskId, err: error }, 'framework message from a job refused by the driver');
    }
  }

  send(taskId: string, effect: StatusEffect): void {
    const driver = this.#driver;
    if (driver === undefined) {
      this.#logger.error({ taskId, state: effect.state }, 'status update dropped: no driver yet');
      return;
    }
    let refusal: unknown;
    try {
      driver.sendStatusUpdate(toStatusUpdate(taskId, effect));
      return;
    } catch (error) {
      refusal = error;
    }
    // Once, in its smallest form: if even that is refused (the outbox is full), it is logged.
    try {
      driver.sendStatusUpdate(minimalUpdate(taskId, effect, refusal));
      this.#logger.warn({ taskId, state: effect.state, err: refusal }, 'status update refused by the driver; sent in its minimal form');
    } catch (error) {
      this.#logger.error({ taskId, state: effect.state, err: refusal, minimalErr: error }, 'status update refused by the driver');
    }
  }
}
