// `local --json`: the run as one JSON document, for scripts and CI (the human summary is for
// people and may change its wording; these field names are kept).
import { percentiles, type Percentiles } from './latency.js';
import type { LaunchPlan } from './allocator.js';
import type { LocalRunResult } from './run-local.js';

export interface JsonSummary {
  readonly ok: boolean;
  readonly expect: string;
  /** `offers` (with the agent's resources) or `all-at-once`; a resource of 0 was not in the Infos. */
  readonly launch: LaunchPlan;
  readonly tasks: number;
  readonly ended: number;
  readonly unfinished: number;
  readonly wallMs: number;
  readonly tasksPerSecond: number;
  readonly executor: {
    readonly pid: number | null;
    readonly subscribed: boolean;
    readonly startupMs: number;
    readonly exit: { readonly code: number | null; readonly signal: string | null } | null;
  };
  readonly sandboxDir: string;
  readonly states: Readonly<Record<string, number>>;
  readonly latencyMs: { readonly launchToRunning: Percentiles | null; readonly launchToTerminal: Percentiles | null };
  readonly timedOut: boolean;
  readonly interrupted: boolean;
  readonly metrics: { readonly url: string; readonly launched: number; readonly updates: Readonly<Record<string, number>>; readonly unacknowledged: number } | null;
  /** Tasks not in the expected state: the first 20 (`unexpectedCount` says how many in all). */
  readonly unexpected: LocalRunResult['unexpected'];
  readonly unexpectedCount: number;
  /** Every task (with `--results`), else absent. */
  readonly results?: ReadonlyArray<{ taskId: string; state: string | null; message: string | null; data: string | null }>;
}

export function jsonSummary(result: LocalRunResult, expect: string, withResults: boolean): JsonSummary {
  const ended = result.tasks - result.unfinished;
  const seconds = result.wallMs / 1000;
  const exit = result.executorExit;
  return {
    ok: result.ok,
    expect,
    launch: result.launch,
    tasks: result.tasks,
    ended,
    unfinished: result.unfinished,
    wallMs: result.wallMs,
    tasksPerSecond: seconds > 0 ? ended / seconds : 0,
    executor: {
      pid: result.executorPid ?? null,
      subscribed: result.subscribed,
      startupMs: result.startupMs,
      exit: exit === undefined ? null : { code: exit.code, signal: exit.signal },
    },
    sandboxDir: result.sandboxDir,
    states: Object.fromEntries(result.byState),
    latencyMs: { launchToRunning: percentiles(result.launchToRunningMs) ?? null, launchToTerminal: percentiles(result.launchToEndMs) ?? null },
    timedOut: result.timedOut,
    interrupted: result.interrupted,
    metrics:
      result.metrics === undefined
        ? null
        : { url: result.metrics.url, launched: result.metrics.launched, updates: Object.fromEntries(result.metrics.updates), unacknowledged: result.metrics.unacknowledged },
    unexpected: result.unexpected,
    unexpectedCount: result.unexpectedCount,
    ...(withResults
      ? { results: result.outcomes.map((o) => ({ taskId: o.taskId, state: o.state ?? null, message: o.message ?? null, data: o.data ?? null })) }
      : {}),
  };
}
