import { formatMs, percentiles } from './latency.js';
import type { LocalRunResult } from './run-local.js';

export interface SummaryContext {
  readonly title: string;
  readonly expect: string;
}

/** The human summary of a `local` run. */
export function formatSummary(result: LocalRunResult, context: SummaryContext): string {
  const lines: string[] = [];
  const seconds = result.wallMs / 1000;
  const ended = result.tasks - result.unfinished;
  lines.push(`\n${context.title}`);
  lines.push(
    `  tasks            ${ended}/${result.tasks} ended in ${seconds.toFixed(2)} s → ${(ended / Math.max(seconds, 1e-9)).toFixed(1)} tasks/s`,
  );
  const states = [...result.byState.entries()].sort((a, b) => b[1] - a[1]).map(([s, n]) => `${s} ${n}`);
  if (result.unfinished > 0) states.push(`not ended ${result.unfinished}`);
  lines.push(
    result.subscribed
      ? `  executor start   subscribed ${formatMs(result.startupMs)} after launch`
      : '  executor start   never subscribed',
  );
  lines.push(`  states           ${states.join(', ') || '(none)'}`);
  for (const [label, samples] of [
    ['LAUNCH→RUNNING ', result.launchToRunningMs],
    ['LAUNCH→terminal', result.launchToEndMs],
  ] as const) {
    const p = percentiles(samples);
    lines.push(
      p === undefined
        ? `  ${label}  (no samples)`
        : `  ${label}  p50 ${formatMs(p.p50)}  p95 ${formatMs(p.p95)}  p99 ${formatMs(p.p99)}  max ${formatMs(p.max)}`,
    );
  }
  lines.push(`  wire             calls ${result.wire.calls ?? '(none)'}, events ${result.wire.events ?? '(none)'}`);
  const refused = result.refused.map((r) => `${r.count} × ${r.type} ${r.status} ${r.reason.length > 120 ? `${r.reason.slice(0, 120)}…` : r.reason}`);
  lines.push(`  refused calls    ${refused.length === 0 ? 'none' : refused.join('; ')}`);
  const c = result.counters;
  lines.push(
    `  agent            ${c.accepted} updates accepted, ${c.duplicates} duplicates, ${c.acksSent} acknowledgements sent`,
  );
  const metrics = result.metrics;
  if (metrics !== undefined) {
    const updates = [...metrics.updates].map(([state, n]) => `${state} ${n}`).join(', ');
    lines.push(`  metrics          ${metrics.url}: ${metrics.launched} launched; updates ${updates || '(none)'}`);
    // The executor counts what it sent, the agent what it accepted: once every task ended the two
    // agree on the terminal states, or a metric (or the agent) is wrong.
    const complete = result.unfinished === 0 && !result.timedOut && !result.interrupted;
    for (const [state, agentCount] of complete ? result.byState : []) {
      const ours = metrics.updates.get(state) ?? 0;
      if (ours !== agentCount) lines.push(`  ! metrics count ${ours} ${state} updates, the agent saw ${agentCount} tasks end so`);
    }
  } else if (result.metricsUrl !== undefined) {
    lines.push(`  metrics          ${result.metricsUrl} (the final scrape failed)`);
  }
  const exit = result.executorExit;
  lines.push(
    `  executor         ${exit === undefined ? 'did not exit' : exit.signal !== null ? `killed by ${exit.signal}` : `exited ${exit.code}`}`,
  );
  for (const line of result.executorStderrTail) lines.push(`  | ${line}`);
  for (const u of result.unexpected) {
    lines.push(`  ! ${u.taskId}: ${u.state}${u.message !== undefined ? ` — ${u.message}` : ''}`);
  }
  const cut = result.unexpectedCount - result.unexpected.length;
  if (cut > 0) lines.push(`  … and ${cut} more`);
  if (result.timedOut) lines.push('  ! the run timed out');
  if (result.interrupted) lines.push('  ! the run was interrupted');
  lines.push(result.ok ? `  result           OK: every task ended ${context.expect}` : `  result           FAILED (expected every task to end ${context.expect})`);
  return `${lines.join('\n')}\n`;
}

/**
 * `--results`: one line per task, in launch order: its state, then its result or its message.
 * `width` (a terminal's columns): each line is cut to fit, with "…"; without it (a pipe, a file)
 * lines are whole, for grep and scripts.
 */
export function formatResults(result: LocalRunResult, width?: number): string {
  const lines = ['', 'Results'];
  for (const o of result.outcomes) {
    const what = o.state === 'TASK_FINISHED' ? (o.data ?? o.message ?? '') : (o.message ?? o.data ?? '');
    const line = `  ${o.taskId}  ${o.state ?? 'not ended'}${what === '' ? '' : `  ${what.replace(/\n/g, '\\n')}`}`;
    lines.push(width !== undefined && width > 1 && line.length > width ? `${line.slice(0, width - 1)}…` : line);
  }
  if (result.outcomes.length === 0) lines.push('  (no task was launched)');
  return `${lines.join('\n')}\n`;
}
