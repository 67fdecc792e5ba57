// When the ACKNOWLEDGED events go out. Upstream answers 202 to an UPDATE at once and
// acknowledges it only after the containerizer's status and the status update manager's
// checkpoint (`Slave::statusUpdate` → `_statusUpdate` → `___statusUpdate`), each a future of its
// own, so an ACK always comes later than the 202 and ACKs need not come in the order of the
// updates. Here every ACK leaves in a later turn of the event loop; with a delay, the ACKs due
// within it leave together at its end; with `reorder`, such a batch leaves in reverse order.
import type { TaskID } from '../proto/types.js';

export interface PendingAck {
  readonly task_id: TaskID;
  readonly uuid: Uint8Array;
}

export interface AckTiming {
  /** Hold ACKs this long (from the first one of a batch). 0: the next turn of the event loop. */
  readonly delayMs: number;
  /** Send each batch in reverse order. */
  readonly reorder: boolean;
}

export class AckQueue {
  #pending: PendingAck[] = [];
  #timing: AckTiming;
  #timer: NodeJS.Timeout | undefined;
  #immediate: NodeJS.Immediate | undefined;
  readonly #send: (ack: PendingAck) => void;

  constructor(timing: AckTiming, send: (ack: PendingAck) => void) {
    this.#timing = timing;
    this.#send = send;
  }

  get timing(): AckTiming {
    return this.#timing;
  }

  /** Changes the timing; ACKs already waiting keep their batch. */
  setTiming(timing: AckTiming): void {
    this.#timing = timing;
  }

  /** ACKs due and not sent yet. */
  get size(): number {
    return this.#pending.length;
  }

  push(ack: PendingAck): void {
    this.#pending.push(ack);
    if (this.#timer !== undefined || this.#immediate !== undefined) return;
    if (this.#timing.delayMs > 0) {
      this.#timer = setTimeout(() => this.#flush(), this.#timing.delayMs);
      this.#timer.unref();
    } else {
      this.#immediate = setImmediate(() => this.#flush());
      this.#immediate.unref();
    }
  }

  /** Forgets every waiting ACK (the agent went away) and returns how many there were. */
  drop(): number {
    const dropped = this.#pending.length;
    this.#cancel();
    this.#pending = [];
    return dropped;
  }

  #flush(): void {
    this.#timer = undefined;
    this.#immediate = undefined;
    const batch = this.#pending;
    this.#pending = [];
    if (this.#timing.reorder) batch.reverse();
    for (const ack of batch) this.#send(ack);
  }

  #cancel(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    if (this.#immediate !== undefined) clearImmediate(this.#immediate);
    this.#timer = undefined;
    this.#immediate = undefined;
  }
}
