// Injected HTTP answers (503 storms, 404 at startup, 4xx) for the executor endpoint. The
// stream and restart faults live with the state they act on, in local-agent.ts.
import * as is from '../validate.js';
import type { CallType } from '../proto/types.js';
import { STATUS_TEXT } from './http-handler.js';

/** Which calls a forced status applies to. */
export type FaultTarget = 'subscribe' | 'update' | 'all';

export interface RespondStatusOptions {
  /** Default `'all'` (any request on the executor route, even one whose body does not decode). */
  calls?: FaultTarget;
  /** Response body; default libprocess' text for the status (e.g. `503 Service Unavailable.`). */
  body?: string;
  /** Extra response headers. */
  headers?: Readonly<Record<string, string>>;
}

interface Rule {
  readonly status: number;
  remaining: number;
  readonly target: FaultTarget;
  readonly body: string;
  readonly headers: Readonly<Record<string, string>>;
}

export interface ForcedReply {
  readonly status: number;
  readonly body: string;
  readonly headers: Readonly<Record<string, string>>;
}

const HTTP_STATUS: is.Check<number> = { expected: 'an HTTP status from 100 to 599', test: is.integer(100, 599).test };
const COUNT: is.Check<number> = { expected: 'a positive integer or Infinity', test: (value): value is number => value === Infinity || is.positiveInteger.test(value) };

/** The queue of forced answers; the first matching rule answers and counts down. */
export class StatusFaults {
  #rules: Rule[] = [];

  add(status: number, count: number, options: RespondStatusOptions = {}): void {
    is.required(status, 'status', HTTP_STATUS);
    is.required(count, 'count', COUNT);
    const target = is.optional(options.calls, 'calls', is.oneOf(['subscribe', 'update', 'all'])) ?? 'all';
    this.#rules.push({
      status,
      remaining: count,
      target,
      body: options.body ?? STATUS_TEXT[status] ?? '',
      headers: { ...(options.headers ?? {}) },
    });
  }

  clear(): void {
    this.#rules = [];
  }

  get active(): boolean {
    return this.#rules.length > 0;
  }

  /** Whether a rule needs the call's type (so the caller knows to decode before asking). */
  get needsCallType(): boolean {
    return this.#rules.some((r) => r.target !== 'all');
  }

  /** Takes one answer for a request whose call type is `type` (undefined: not decodable). */
  take(type: CallType | number | undefined): ForcedReply | undefined {
    const index = this.#rules.findIndex(
      (r) => r.target === 'all' || (r.target === 'subscribe' && type === 'SUBSCRIBE') || (r.target === 'update' && type === 'UPDATE'),
    );
    if (index === -1) return undefined;
    const rule = this.#rules[index]!;
    rule.remaining--;
    if (rule.remaining <= 0) this.#rules.splice(index, 1);
    return { status: rule.status, body: rule.body, headers: rule.headers };
  }
}
