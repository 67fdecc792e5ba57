/**
 * A check's results as the scheduler sees them, as upstream's Checker (src/checks/checker.cpp):
 * never interpreted, reported only when the `CheckStatusInfo` changes. A probe that could not be
 * performed (timed out, could not start) is the empty result of the check's type, e.g.
 * `{type: COMMAND, command: {}}`, which is also what every update carries before the first result.
 */
import type { CheckStatusInfo } from '../proto/types.js';
import type { ProbeType } from './definition.js';
import type { ProbeOutcome } from './schedule.js';

/** `{type, <type>: {}}`: a check with no result (yet). */
export function emptyCheckStatus(type: ProbeType): CheckStatusInfo {
  switch (type) {
    case 'COMMAND':
      return { type, command: {} };
    case 'HTTP':
      return { type, http: {} };
    case 'TCP':
      return { type, tcp: {} };
  }
}

function sameStatus(a: CheckStatusInfo, b: CheckStatusInfo): boolean {
  return (
    a.type === b.type &&
    (a.command === undefined) === (b.command === undefined) &&
    a.command?.exit_code === b.command?.exit_code &&
    (a.http === undefined) === (b.http === undefined) &&
    a.http?.status_code === b.http?.status_code &&
    (a.tcp === undefined) === (b.tcp === undefined) &&
    a.tcp?.succeeded === b.tcp?.succeeded
  );
}

export class CheckStatusTracker {
  readonly #type: ProbeType;
  #current: CheckStatusInfo;

  constructor(type: ProbeType) {
    this.#type = type;
    this.#current = emptyCheckStatus(type);
  }

  /** The latest result (empty until the first). */
  get current(): CheckStatusInfo {
    return this.#current;
  }

  /** The new status when this outcome changes it, else undefined. */
  observe(outcome: ProbeOutcome): CheckStatusInfo | undefined {
    const next = outcome.kind === 'error' ? emptyCheckStatus(this.#type) : outcome.status;
    if (sameStatus(next, this.#current)) return undefined;
    this.#current = next;
    return next;
  }
}
