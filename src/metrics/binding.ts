// What registering a metric group returns: the way to undo it.

/**
 * A metric group attached to a source. `close()` removes its listeners and its families from the
 * registry, so the registry can be given a new driver or pool (a driver restarted in the same
 * process) without a "metric already registered" error. Idempotent.
 */
export interface MetricsBinding {
  close(): void;
}

/** Registered families are unregistered by name; listeners by their remover. */
export function binding(removers: ReadonlyArray<() => void>): MetricsBinding {
  let closed = false;
  return {
    close() {
      if (closed) return;
      closed = true;
      for (const remove of removers) remove();
    },
  };
}
