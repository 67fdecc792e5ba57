// Typed events whose listeners cannot break the emitter. The driver and the pool executor emit on
// their own paths (a stream's data handler, a worker message, a timer): a listener that throws
// there must not leave their state half-changed or crash the process, so its error goes to the
// owner (which logs it) and the emitter goes on.
import { EventEmitter } from 'eventemitter3';

export abstract class GuardedEmitter<Events extends EventEmitter.ValidEventTypes> extends EventEmitter<Events> {
  /** A listener of `event` threw `error`; emission went on (the owner logs it). */
  protected abstract listenerFailed(event: EventEmitter.EventNames<Events>, error: unknown): void;

  override emit<T extends EventEmitter.EventNames<Events>>(event: T, ...args: EventEmitter.EventArgs<Events, T>): boolean {
    try {
      return super.emit(event, ...args);
    } catch (error) {
      this.listenerFailed(event, error);
      return true;
    }
  }
}
