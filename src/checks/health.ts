/**
 * A health check's interpretation of probe outcomes, as upstream's HealthChecker
 * (src/checks/health_checker.cpp): pure, the caller passes `now`.
 *
 * - A success is reported (healthy = true) when it is the first one, or the first after failures;
 *   later successes are silent. After the first success the grace period no longer applies.
 * - A failure (an error, or a result interpreted as failure) before the first success and within
 *   `grace_period_seconds` of the start is ignored: no update, not counted.
 * - Every other failure is counted and reported (healthy = false), each one: upstream forwards
 *   every unhealthy update. The one that reaches `consecutive_failures` also asks for the kill
 *   (with 0, the first counted failure does).
 */
import { STATUS_CODES } from 'node:http';
import type { CheckStatusInfo } from '../proto/types.js';
import type { ProbeOutcome } from './schedule.js';

export type HealthVerdict =
  /** `report`: the first success, or the first after failures (send healthy = true). */
  | { readonly kind: 'passed'; readonly report: boolean }
  | { readonly kind: 'ignored'; readonly reason: string }
  | { readonly kind: 'failed'; readonly reason: string; readonly consecutiveFailures: number; readonly kill: boolean };

export interface HealthJudgeOptions {
  readonly gracePeriodMs: number;
  readonly consecutiveFailures: number;
  /** When health checking began (the grace period counts from here). */
  readonly startedAt: number;
}

export class HealthJudge {
  readonly #options: HealthJudgeOptions;
  #initializing = true;
  #failures = 0;

  constructor(options: HealthJudgeOptions) {
    this.#options = options;
  }

  get consecutiveFailures(): number {
    return this.#failures;
  }

  judge(outcome: ProbeOutcome, now: number): HealthVerdict {
    const failure = outcome.kind === 'error' ? outcome.message : statusFailure(outcome.status);
    if (failure === undefined) {
      const report = this.#initializing || this.#failures > 0;
      this.#initializing = false;
      this.#failures = 0;
      return { kind: 'passed', report };
    }
    const { gracePeriodMs, consecutiveFailures, startedAt } = this.#options;
    if (this.#initializing && gracePeriodMs > 0 && now - startedAt <= gracePeriodMs) {
      return { kind: 'ignored', reason: failure };
    }
    this.#failures++;
    return { kind: 'failed', reason: failure, consecutiveFailures: this.#failures, kill: this.#failures >= consecutiveFailures };
  }
}

/** upstream `interpretCheckStatusInfo`: why a performed check counts as a failure, or undefined. */
export function statusFailure(status: CheckStatusInfo): string | undefined {
  switch (status.type) {
    case 'COMMAND': {
      const code = status.command?.exit_code ?? 0;
      return code === 0 ? undefined : `Command exited with status ${code}`;
    }
    case 'HTTP': {
      const code = status.http?.status_code ?? 0;
      return code >= 200 && code < 400 ? undefined : `Unexpected HTTP response code: ${code}${STATUS_CODES[code] === undefined ? '' : ` ${STATUS_CODES[code]}`}`;
    }
    case 'TCP':
      return status.tcp?.succeeded === true ? undefined : 'TCP connection failed';
    default:
      return undefined;
  }
}
