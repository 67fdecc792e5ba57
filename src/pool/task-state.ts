/**
 * The life of one task, as a pure state machine: methods take what happened and return the
 * effects to carry out (status updates, timers, signals). No I/O, no timers, no clock: the
 * caller passes `now`. Every path to an end goes through {@link TaskLifecycle.#end}, which
 * refuses a second one: whatever the order of events (a kill racing the result, a shutdown
 * during a kill, a worker crash after escalation, ...), a task gets exactly ONE terminal update.
 *
 * ```
 *   new --accept--> queued --dispatch--> dispatched --started--> running
 *                     |                      |                      |
 *                     | kill                 +-------- kill --------+--> killing
 *                     v                      |                      |     | (grace over: terminateWorker)
 *                   ended <-- end(outcome) --+----------------------+-----+
 * ```
 * Updates: STARTING on accept; RUNNING on started (or just before the terminal one, for a run
 * whose thread was lost before its "started" reached us); KILLING on the first kill of a started task when the
 * framework understands it; then one of FINISHED, FAILED, KILLED.
 */
import type { CheckedStatus } from '../checks/task-checks.js';
import type { TaskStatusReason } from '../proto/types.js';
import { shrinkDeadline } from './kill-policy.js';

export type TaskPhase = 'new' | 'queued' | 'dispatched' | 'running' | 'killing' | 'ended';
export type TerminalState = 'TASK_FINISHED' | 'TASK_FAILED' | 'TASK_KILLED';

/** Why a task is being killed. */
export type KillCause =
  | { readonly kind: 'request' }
  | { readonly kind: 'shutdown' }
  /** Another task of its group ended FAILED or KILLED (the default executor's group rule). */
  | { readonly kind: 'group'; readonly taskId: string; readonly state: TerminalState }
  /**
   * `TaskInfo.max_completion_time` passed. Upstream's command executor kills with a zero grace
   * period, sends no TASK_KILLING, and reports TASK_FAILED (REASON_MAX_COMPLETION_TIME_REACHED).
   */
  | { readonly kind: 'deadline'; readonly limitMs: number }
  /** Its health check failed `consecutive_failures` times in a row (src/checks); killed as a KILL would be. */
  | { readonly kind: 'healthCheck'; readonly consecutiveFailures: number; readonly reason: string };

/** How a job's run ended, as the pool saw it. */
export type Outcome =
  /** `message`: a batch's summary ("100 items done", where its results are). */
  | { readonly kind: 'succeeded'; readonly data: Uint8Array; readonly message?: string }
  /** `data`: a batch's per-item results, failed items included. */
  | { readonly kind: 'failed'; readonly message: string; readonly reason?: TaskStatusReason; readonly data?: Uint8Array }
  /** The job gave up after its signal aborted. */
  | { readonly kind: 'stopped'; readonly message: string }
  /** Its worker thread was terminated by kill escalation. */
  | { readonly kind: 'terminated' };

/** A status update to send: the fields checks read and write (`healthy`, `check_status` set by them as it goes out). */
export interface StatusEffect extends CheckedStatus {
  readonly type: 'status';
}

export type Effect =
  | StatusEffect
  /** Take it out of the executor's queue (it never reached a worker). */
  | { readonly type: 'dequeue' }
  /** Ask the job to stop (its ctx.signal aborts). */
  | { readonly type: 'abortJob'; readonly reason: string }
  /** (Re)arm the escalation timer to fire at this clock time. */
  | { readonly type: 'armEscalation'; readonly at: number }
  /** The grace period is over: terminate the worker thread running it. */
  | { readonly type: 'terminateWorker' }
  /** The task is over; the terminal update is the status effect just before. */
  | { readonly type: 'ended'; readonly state: TerminalState; readonly reason?: TaskStatusReason };

export interface KillRequest {
  readonly cause: KillCause;
  readonly graceMs: number;
  readonly now: number;
  /** Send TASK_KILLING first (the framework has the TASK_KILLING_STATE capability). */
  readonly sendKilling: boolean;
}

interface KillState {
  readonly cause: KillCause;
  readonly startedAt: number;
  /** The grace in force (the smallest asked for), for messages. */
  graceMs: number;
  deadline: number;
  escalated: boolean;
}

function causeText(cause: KillCause): string {
  switch (cause.kind) {
    case 'request':
      return 'killed on request';
    case 'shutdown':
      return 'killed: the executor is shutting down';
    case 'group':
      return `killed: task ${JSON.stringify(cause.taskId)} of its group ended ${cause.state}`;
    case 'deadline':
      return `max_completion_time of ${cause.limitMs} ms reached`;
    case 'healthCheck':
      return `killed: its health check failed ${cause.consecutiveFailures} consecutive times (${cause.reason})`;
  }
}

export class TaskLifecycle {
  #phase: TaskPhase = 'new';
  #runningSent = false;
  #kill: KillState | undefined;
  #terminal: TerminalState | undefined;

  get phase(): TaskPhase {
    return this.#phase;
  }

  /** The terminal state sent, once ended. */
  get terminal(): TerminalState | undefined {
    return this.#terminal;
  }

  /** True once a kill has started (until and after the end). */
  get killing(): boolean {
    return this.#kill !== undefined;
  }

  /** When escalation is due, while killing and not yet escalated. */
  get escalationDeadline(): number | undefined {
    return this.#kill !== undefined && !this.#kill.escalated && this.#phase !== 'ended' ? this.#kill.deadline : undefined;
  }

  /** Progress becomes a TASK_RUNNING update only while running and not being killed. */
  get acceptsProgress(): boolean {
    return this.#phase === 'running';
  }

  /** The task was accepted and queued: TASK_STARTING. */
  accept(): Effect[] {
    if (this.#phase !== 'new') return [];
    this.#phase = 'queued';
    return [{ type: 'status', state: 'TASK_STARTING' }];
  }

  /** Handed to the worker pool. */
  dispatch(): Effect[] {
    if (this.#phase === 'queued') this.#phase = 'dispatched';
    return [];
  }

  /** A worker thread began the job. */
  started(): Effect[] {
    if (this.#phase !== 'dispatched') return [];
    this.#phase = 'running';
    return this.#runningOnce();
  }

  kill(request: KillRequest): Effect[] {
    const { cause, graceMs, now } = request;
    switch (this.#phase) {
      case 'ended':
        return [];
      case 'new':
      case 'queued':
        this.#kill = { cause, startedAt: now, graceMs: 0, deadline: now, escalated: false };
        return [{ type: 'dequeue' }, ...this.#endKilled(`${causeText(cause)} before it started`)];
      case 'dispatched':
      case 'running': {
        this.#phase = 'killing';
        this.#kill = { cause, startedAt: now, graceMs: Math.max(0, graceMs), deadline: now + Math.max(0, graceMs), escalated: false };
        const effects: Effect[] = [];
        if (request.sendKilling && cause.kind !== 'deadline') effects.push({ type: 'status', state: 'TASK_KILLING', message: causeText(cause) });
        effects.push({ type: 'abortJob', reason: causeText(cause) });
        effects.push(...this.#escalateIfDue(now));
        return effects;
      }
      case 'killing': {
        const kill = this.#kill!;
        if (kill.escalated) return [];
        const deadline = shrinkDeadline(kill.deadline, kill.startedAt, Math.max(0, graceMs));
        if (deadline >= kill.deadline) return [];
        kill.deadline = deadline;
        kill.graceMs = Math.max(0, graceMs);
        return this.#escalateIfDue(now);
      }
    }
  }

  /** The escalation timer fired (it may be stale: the deadline moved or the task ended). */
  escalate(now: number): Effect[] {
    if (this.#phase !== 'killing') return [];
    return this.#escalateIfDue(now);
  }

  /** The job's run is over (the worker answered, or the pool rejected the run). */
  end(outcome: Outcome): Effect[] {
    if (this.#phase === 'ended') return [];
    if (this.#kill !== undefined) {
      return this.#endKilled(`${causeText(this.#kill.cause)}; ${this.#killedHow(outcome)}`);
    }
    // A result never overtakes "started" (one ordered channel per thread), but a thread's loss
    // can come before its "started" was read: such a task still gets RUNNING before the end.
    const effects: Effect[] = this.#phase === 'dispatched' || this.#phase === 'running' ? this.#runningOnce() : [];
    switch (outcome.kind) {
      case 'succeeded':
        effects.push(...this.#end('TASK_FINISHED', outcome.message, undefined, outcome.data));
        break;
      case 'failed':
        effects.push(...this.#end('TASK_FAILED', outcome.message, outcome.reason, outcome.data));
        break;
      case 'stopped':
        effects.push(...this.#end('TASK_FAILED', outcome.message));
        break;
      case 'terminated':
        effects.push(...this.#end('TASK_FAILED', 'its worker thread was terminated'));
        break;
    }
    return effects;
  }

  #killedHow(outcome: Outcome): string {
    switch (outcome.kind) {
      case 'stopped':
        return 'the job stopped within its grace period';
      case 'succeeded':
        return 'the job finished before it noticed the kill; its result was discarded';
      case 'failed':
        return `the job ended with an error while being killed: ${outcome.message}`;
      case 'terminated':
        return `the job did not stop within its ${this.#kill!.graceMs} ms grace period, so its worker thread was terminated`;
    }
  }

  /** The end of a killed task: TASK_KILLED, except past its max_completion_time (TASK_FAILED). */
  #endKilled(message: string): Effect[] {
    return this.#kill?.cause.kind === 'deadline'
      ? this.#end('TASK_FAILED', message, 'REASON_MAX_COMPLETION_TIME_REACHED')
      : this.#end('TASK_KILLED', message);
  }

  #escalateIfDue(now: number): Effect[] {
    const kill = this.#kill!;
    if (kill.escalated) return [];
    if (now < kill.deadline) return [{ type: 'armEscalation', at: kill.deadline }];
    kill.escalated = true;
    return [{ type: 'terminateWorker' }];
  }

  /** TASK_RUNNING, at most once (callers never ask once a kill has started). */
  #runningOnce(): Effect[] {
    if (this.#runningSent) return [];
    this.#runningSent = true;
    return [{ type: 'status', state: 'TASK_RUNNING' }];
  }

  #end(state: TerminalState, message?: string, reason?: TaskStatusReason, data?: Uint8Array): Effect[] {
    this.#phase = 'ended';
    this.#terminal = state;
    const status: StatusEffect = {
      type: 'status',
      state,
      ...(message !== undefined ? { message } : {}),
      ...(reason !== undefined ? { reason } : {}),
      ...(data !== undefined ? { data } : {}),
    };
    return [status, { type: 'ended', state, ...(reason !== undefined ? { reason } : {}) }];
  }
}
