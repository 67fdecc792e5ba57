import { cut, field, keep, listField, OUTPUT_WIDTH } from './fit.js';
import { formatMs, formatRate, percentiles } from './latency.js';
import type { LocalRunResult } from './run-local.js';

export interface SummaryContext {
  readonly title: string;
  readonly expect: string;
}

/**
 * The human summary of a `local` run, within {@link OUTPUT_WIDTH} columns: a field wraps under its
 * label, a line that cannot wrap (a task's message, the executor's stderr) is cut with "…". One
 * style for figures: every duration in ms and every rate in tasks/s, to 3 significant digits.
 */
export function formatSummary(result: LocalRunResult, context: SummaryContext): string {
  const lines: string[] = [''];
  const ended = result.tasks - result.unfinished;
  lines.push(cut(context.title));
  const rate = formatRate(ended / Math.max(result.wallMs / 1000, 1e-9));
  lines.push(...field('tasks', `${ended}/${result.tasks} ended in ${keep(formatMs(result.wallMs))} → ${keep(rate)}`));
  const states = [...result.byState.entries()].sort((a, b) => b[1] - a[1]).map(([s, n]) => keep(s, String(n)));
  if (result.unfinished > 0) states.push(keep('not ended', String(result.unfinished)));
  lines.push(...field('executor start', result.subscribed ? `subscribed ${keep(formatMs(result.startupMs))} after launch` : 'never subscribed'));
  lines.push(...field('states', states.join(', ') || '(none)'));
  for (const [label, samples] of [
    ['LAUNCH→RUNNING', result.launchToRunningMs],
    ['LAUNCH→terminal', result.launchToEndMs],
  ] as const) {
    const p = percentiles(samples);
    const at = (name: string, ms: number): string => keep(name, formatMs(ms));
    lines.push(...field(label, p === undefined ? '(no samples)' : [at('p50', p.p50), at('p95', p.p95), at('p99', p.p99), at('max', p.max)].join(', ')));
  }
  lines.push(...field('wire', `calls ${result.wire.calls ?? '(none)'}, events ${result.wire.events ?? '(none)'}`));
  const refused = result.refused.map((r) => `${r.count} × ${r.type} ${r.status} ${r.reason}`);
  lines.push(...(refused.length === 0 ? field('refused calls', 'none') : listField('refused calls', refused)));
  const c = result.counters;
  lines.push(...field('agent', `${c.accepted} updates accepted, ${c.duplicates} duplicates, ${c.acksSent} acknowledgements sent`));
  const metrics = result.metrics;
  if (metrics !== undefined) {
    const updates = [...metrics.updates].map(([state, n]) => keep(state, String(n))).join(', ');
    lines.push(...field('metrics', `${metrics.url} after shutdown: ${metrics.launched} launched; updates ${updates || '(none)'}`));
    // The executor counts what it sent, the agent what it accepted: after a clean stop (every
    // update acknowledged) the two agree on the terminal states, or a metric (or the agent) is wrong.
    const comparable = result.executorExit?.code === 0;
    for (const [state, agentCount] of comparable ? result.byState : []) {
      const ours = metrics.updates.get(state) ?? 0;
      if (ours !== agentCount) lines.push(cut(`  ! metrics count ${ours} ${state} updates, the agent saw ${agentCount} tasks end so`));
    }
  } else if (result.metricsUrl !== undefined) {
    lines.push(...field('metrics', `${result.metricsUrl} (no final metrics: the executor did not stop cleanly)`));
  }
  const exit = result.executorExit;
  lines.push(...field('executor', exit === undefined ? 'did not exit' : exit.signal !== null ? `killed by ${exit.signal}` : `exited ${exit.code}`));
  for (const line of result.executorStderrTail) lines.push(cut(`  | ${line}`));
  for (const u of result.unexpected) {
    lines.push(cut(`  ! ${u.taskId}: ${u.state}${u.message !== undefined ? ` — ${u.message}` : ''}`));
  }
  const more = result.unexpectedCount - result.unexpected.length;
  if (more > 0) lines.push(`  … and ${more} more`);
  if (result.timedOut) lines.push('  ! the run timed out');
  if (result.interrupted) lines.push('  ! the run was interrupted');
  lines.push(...field('result', result.ok ? `OK: every task ended ${context.expect}` : `FAILED (expected every task to end ${context.expect})`));
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
