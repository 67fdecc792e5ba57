/**
 * One task's check and health check, as upstream's command executor runs them beside its task
 * (src/launcher/executor.cpp): started when the task runs, stopped for good when it is killed or
 * ends, paused while the executor is disconnected from the agent (as the default executor does),
 * resumed when it subscribes again.
 *
 * It also decides the check fields of every update the task sends ({@link TaskChecks.outgoing}):
 * - a task with a check carries `check_status` in every update: the empty result of its type in
 *   the updates made from scratch (TASK_STARTING, the first TASK_RUNNING, TASK_KILLING, the
 *   terminal one, as upstream's `createTaskStatus`), the latest result in our progress updates
 *   (TASK_RUNNING with a message: ours, not upstream's, so they shadow nothing);
 * - `healthy` rides on TASK_RUNNING updates once known, and is false on the terminal update of a
 *   task killed by its health check (upstream sets no reason there);
 * - a health or check update repeats the last update sent, with a new reason
 *   (REASON_TASK_HEALTH_CHECK_STATUS_UPDATED / REASON_TASK_CHECK_STATUS_UPDATED) and the new
 *   `healthy` / `check_status`, as upstream does with its `lastTaskStatus`.
 */
import type { Clock } from '../clock.js';
import type { CheckStatusInfo, TaskInfo, TaskState, TaskStatusReason } from '../proto/types.js';
import { isTerminalState } from '../proto/types.js';
import { CheckStatusTracker, emptyCheckStatus } from './check-status.js';
import { resolveCheck, resolveHealthCheck, type ProbeType, type ResolvedCheck, type ResolvedHealthCheck } from './definition.js';
import { HealthJudge } from './health.js';
import { probeFor, type ProbeRuntime } from './probes.js';
import { CheckSchedule, type Probe, type ProbeOutcome } from './schedule.js';

/** The fields of a status update that checks read and write. */
export interface CheckedStatus {
  readonly state: TaskState;
  readonly message?: string;
  readonly reason?: TaskStatusReason;
  readonly data?: Uint8Array;
  readonly healthy?: boolean;
  readonly check_status?: CheckStatusInfo;
}

export type HealthResult = 'passed' | 'failed' | 'ignored';
export type CheckResult = 'completed' | 'failed';

export interface TaskChecksHost {
  /** Sends a health or check update (complete: not passed through `outgoing` again). */
  send(status: CheckedStatus): void;
  /** `consecutive_failures` reached: kill the task as a KILL without a policy would. */
  kill(info: { readonly type: ProbeType; readonly consecutiveFailures: number; readonly reason: string }): void;
  /** Every health-check outcome, for metrics and logs. */
  healthResult?(info: { readonly type: ProbeType; readonly result: HealthResult; readonly reason?: string; readonly durationMs: number }): void;
  /** Every check outcome. */
  checkResult?(info: { readonly type: ProbeType; readonly result: CheckResult; readonly durationMs: number }): void;
}

export interface TaskChecksRuntime extends ProbeRuntime {
  readonly clock: Clock;
  /** Replaces the probes (tests drive the schedule without processes or sockets). */
  readonly probe?: (kind: 'check' | 'health', type: ProbeType) => Probe;
}

export class TaskChecks {
  readonly #host: TaskChecksHost;
  readonly #clock: Clock;
  readonly #check: { readonly type: ProbeType; readonly schedule: CheckSchedule; readonly tracker: CheckStatusTracker } | undefined;
  readonly #health: { readonly type: ProbeType; readonly schedule: CheckSchedule; readonly definition: ResolvedHealthCheck; judge?: HealthJudge } | undefined;
  #healthy: boolean | undefined;
  #last: CheckedStatus | undefined;
  #killedByHealthCheck = false;
  #stopped = false;

  /** The checks of a task whose definitions passed validation (taskChecksProblem); undefined when it has none. */
  static for(task: Pick<TaskInfo, 'check' | 'health_check'>, runtime: TaskChecksRuntime, host: TaskChecksHost): TaskChecks | undefined {
    const check = task.check === undefined ? undefined : resolveCheck(task.check);
    const health = task.health_check === undefined ? undefined : resolveHealthCheck(task.health_check);
    if (check?.ok === false || health?.ok === false) throw new Error('TaskChecks.for: the task has an invalid check; validate it first');
    if (check === undefined && health === undefined) return undefined;
    return new TaskChecks(check?.value, health?.value, runtime, host);
  }

  private constructor(check: ResolvedCheck | undefined, health: ResolvedHealthCheck | undefined, runtime: TaskChecksRuntime, host: TaskChecksHost) {
    this.#host = host;
    this.#clock = runtime.clock;
    const probe = (kind: 'check' | 'health', definition: ResolvedCheck): Probe =>
      runtime.probe?.(kind, definition.probe.type) ?? probeFor(definition.probe, runtime);
    if (check !== undefined) {
      const type = check.probe.type;
      this.#check = {
        type,
        tracker: new CheckStatusTracker(type),
        schedule: new CheckSchedule({
          clock: runtime.clock,
          timing: check.timing,
          name: `${type} check`,
          probe: probe('check', check),
          onOutcome: (outcome, durationMs) => this.#onCheck(outcome, durationMs),
        }),
      };
    }
    if (health !== undefined) {
      const type = health.probe.type;
      this.#health = {
        type,
        definition: health,
        schedule: new CheckSchedule({
          clock: runtime.clock,
          timing: health.timing,
          name: `${type} health check`,
          probe: probe('health', health),
          onOutcome: (outcome, durationMs) => this.#onHealth(outcome, durationMs),
        }),
      };
    }
  }

  get killedByHealthCheck(): boolean {
    return this.#killedByHealthCheck;
  }

  /** The latest health verdict reported (undefined before the first). */
  get healthy(): boolean | undefined {
    return this.#healthy;
  }

  /** The task runs: the delays start now (and the grace period). `paused` while disconnected. */
  start(paused: boolean): void {
    if (this.#stopped) return;
    if (this.#health !== undefined && this.#health.judge === undefined) {
      const { gracePeriodMs, consecutiveFailures } = this.#health.definition;
      this.#health.judge = new HealthJudge({ gracePeriodMs, consecutiveFailures, startedAt: this.#clock.now() });
      this.#health.schedule.start(paused);
    }
    this.#check?.schedule.start(paused);
  }

  pause(): void {
    this.#check?.schedule.pause();
    this.#health?.schedule.pause();
  }

  resume(): void {
    if (this.#stopped) return;
    this.#check?.schedule.resume();
    this.#health?.schedule.resume();
  }

  /** For good (killed or ended): nothing is probed or reported after this. */
  stop(): void {
    this.#stopped = true;
    this.#check?.schedule.stop();
    this.#health?.schedule.stop();
  }

  /** The update `status` as it must go out, with its check fields; remembered as the last one. */
  outgoing<T extends CheckedStatus>(status: T): T {
    const out: { -readonly [K in keyof CheckedStatus]: CheckedStatus[K] } = { ...status };
    const progress = status.state === 'TASK_RUNNING' && this.#last?.state === 'TASK_RUNNING';
    if (this.#check !== undefined) out.check_status = progress ? this.#check.tracker.current : emptyCheckStatus(this.#check.type);
    if (progress && this.#healthy !== undefined) out.healthy = this.#healthy;
    if (isTerminalState(status.state) && this.#killedByHealthCheck) out.healthy = false;
    this.#last = out;
    return out as T;
  }

  #onCheck(outcome: ProbeOutcome, durationMs: number): void {
    const check = this.#check!;
    this.#host.checkResult?.({ type: check.type, result: outcome.kind === 'result' ? 'completed' : 'failed', durationMs });
    const changed = check.tracker.observe(outcome);
    if (changed === undefined || this.#stopped) return;
    this.#update({ reason: 'REASON_TASK_CHECK_STATUS_UPDATED', check_status: changed });
  }

  #onHealth(outcome: ProbeOutcome, durationMs: number): void {
    const health = this.#health!;
    const verdict = health.judge!.judge(outcome, this.#clock.now());
    const reason = verdict.kind === 'passed' ? undefined : verdict.reason;
    this.#host.healthResult?.({ type: health.type, result: verdict.kind, ...(reason !== undefined ? { reason } : {}), durationMs });
    if (this.#stopped) return;
    if (verdict.kind === 'passed') {
      if (!verdict.report) return;
      this.#healthy = true;
      this.#update({ reason: 'REASON_TASK_HEALTH_CHECK_STATUS_UPDATED', healthy: true });
      return;
    }
    if (verdict.kind === 'ignored') return;
    this.#healthy = false;
    this.#update({ reason: 'REASON_TASK_HEALTH_CHECK_STATUS_UPDATED', healthy: false });
    if (verdict.kill) {
      this.#killedByHealthCheck = true;
      this.stop();
      this.#host.kill({ type: health.type, consecutiveFailures: verdict.consecutiveFailures, reason: verdict.reason });
    }
  }

  #update(change: Pick<CheckedStatus, 'reason' | 'healthy' | 'check_status'>): void {
    const last = this.#last;
    // Checks start with TASK_RUNNING, which is then the last update: there is always one.
    if (last === undefined) return;
    const status: CheckedStatus = {
      ...last,
      ...change,
      ...(this.#check !== undefined ? { check_status: change.check_status ?? this.#check.tracker.current } : {}),
      ...(this.#healthy !== undefined ? { healthy: this.#healthy } : {}),
    };
    this.#last = status;
    this.#host.send(status);
  }
}
