/**
 * When a check runs, as upstream's CheckerProcess schedules it (src/checks/checker_process.cpp):
 * the first probe `delay` after start, each next one `interval` after the previous one finished
 * or timed out, a probe cut off after `timeout` (none when undefined) and reported as an error.
 *
 * ```
 * idle --start--> waiting --timer--> probing --outcome/timeout--> waiting ...
 *                    ^  \                 \
 *           resume   |   +--pause--> paused <+--pause (the probe is aborted, its outcome dropped)
 *                    +---------------- paused
 * any --stop--> stopped (for good)
 * ```
 * Unlike upstream, a pause cancels the pending timer and aborts the probe in flight (upstream lets
 * both run and drops what they bring), so a pause followed by a resume never leaves two loops.
 * Resume probes at once, as upstream does, except before the first probe: then the rest of the
 * initial delay still applies (the task was given that long to come up).
 * Everything runs on the injected {@link Clock}; the probe itself only gets an AbortSignal.
 */
import type { Clock } from '../clock.js';
import { formatDuration } from '../protocol/duration.js';
import type { CheckStatusInfo } from '../proto/types.js';
import type { Timing } from './definition.js';

/** What one probe brought: a result (the check was performed), or why none could be had. */
export type ProbeOutcome =
  | { readonly kind: 'result'; readonly status: CheckStatusInfo }
  | { readonly kind: 'error'; readonly message: string };

/** Runs one probe; must settle (never reject) and stop its work when `signal` aborts. */
export type Probe = (signal: AbortSignal) => Promise<ProbeOutcome>;

export type SchedulePhase = 'idle' | 'waiting' | 'probing' | 'paused' | 'stopped';

export interface ScheduleOptions {
  readonly clock: Clock;
  readonly timing: Timing;
  /** For the timeout message: `HTTP health check timed out after 20secs`. */
  readonly name: string;
  readonly probe: Probe;
  /** Each probe's outcome, with how long it took. Not called once paused or stopped. */
  readonly onOutcome: (outcome: ProbeOutcome, durationMs: number) => void;
}

export class CheckSchedule {
  readonly #options: ScheduleOptions;
  #phase: SchedulePhase = 'idle';
  #timer: unknown;
  #timeoutTimer: unknown;
  #abort: AbortController | undefined;
  /** Bumped whenever a probe's outcome must no longer count (pause, stop, timeout). */
  #generation = 0;
  #firstDueAt: number | undefined;
  #probes = 0;

  constructor(options: ScheduleOptions) {
    this.#options = options;
  }

  get phase(): SchedulePhase {
    return this.#phase;
  }

  /** Probes started so far. */
  get probes(): number {
    return this.#probes;
  }

  /** Starts the loop: the first probe after the delay. `paused`: start paused (disconnected). */
  start(paused = false): void {
    if (this.#phase !== 'idle') return;
    const { clock, timing } = this.#options;
    this.#firstDueAt = clock.now() + timing.delayMs;
    if (paused) this.#phase = 'paused';
    else this.#arm(timing.delayMs);
  }

  pause(): void {
    if (this.#phase !== 'waiting' && this.#phase !== 'probing') return;
    this.#cancel('paused');
    this.#phase = 'paused';
  }

  resume(): void {
    if (this.#phase !== 'paused') return;
    const now = this.#options.clock.now();
    this.#arm(this.#probes === 0 && this.#firstDueAt !== undefined ? Math.max(0, this.#firstDueAt - now) : 0);
  }

  /** For good: no probe starts and no outcome is reported after this. */
  stop(): void {
    if (this.#phase === 'stopped') return;
    this.#cancel('stopped');
    this.#phase = 'stopped';
  }

  #arm(ms: number): void {
    this.#phase = 'waiting';
    this.#timer = this.#options.clock.setTimeout(() => {
      this.#timer = undefined;
      this.#run();
    }, ms);
  }

  #run(): void {
    const { clock, timing, probe, name } = this.#options;
    this.#phase = 'probing';
    this.#probes++;
    const generation = ++this.#generation;
    const abort = new AbortController();
    this.#abort = abort;
    const startedAt = clock.now();
    const finish = (outcome: ProbeOutcome): void => {
      if (generation !== this.#generation || this.#phase !== 'probing') return;
      this.#generation++;
      if (this.#timeoutTimer !== undefined) clock.clearTimeout(this.#timeoutTimer);
      this.#timeoutTimer = undefined;
      this.#abort = undefined;
      this.#options.onOutcome(outcome, clock.now() - startedAt);
      // onOutcome may have paused or stopped us (a kill after consecutive failures).
      if (this.#phase === 'probing') this.#arm(timing.intervalMs);
    };
    if (timing.timeoutMs !== undefined) {
      const timeoutMs = timing.timeoutMs;
      this.#timeoutTimer = clock.setTimeout(() => {
        this.#timeoutTimer = undefined;
        // Upstream discards the probe and kills its process tree: the abort does both here.
        abort.abort(new Error('timed out'));
        finish({ kind: 'error', message: `${name} timed out after ${formatTimeout(timeoutMs)}` });
      }, timeoutMs);
    }
    let pending: Promise<ProbeOutcome>;
    try {
      pending = probe(abort.signal);
    } catch (error) {
      pending = Promise.resolve({ kind: 'error', message: error instanceof Error ? error.message : String(error) });
    }
    pending.then(finish, (error: unknown) => finish({ kind: 'error', message: error instanceof Error ? error.message : String(error) }));
  }

  #cancel(why: string): void {
    const { clock } = this.#options;
    this.#generation++;
    if (this.#timer !== undefined) clock.clearTimeout(this.#timer);
    if (this.#timeoutTimer !== undefined) clock.clearTimeout(this.#timeoutTimer);
    this.#timer = undefined;
    this.#timeoutTimer = undefined;
    this.#abort?.abort(new Error(why));
    this.#abort = undefined;
  }
}

function formatTimeout(ms: number): string {
  try {
    return formatDuration(ms);
  } catch {
    return `${ms}ms`;
  }
}
