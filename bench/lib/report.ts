// results.md: the machine, every section's tables, and the targets.
import type { SectionRecord } from './section-record.js';
import { table, type TargetResult } from './context.js';
import type { MachineInfo } from './machine.js';

export interface ReportInput {
  readonly machine: MachineInfo;
  readonly quick: boolean;
  readonly threads: number;
  readonly durationMs: number;
  readonly records: readonly SectionRecord[];
  readonly targets: readonly TargetResult[];
}

export function renderMarkdown(input: ReportInput): string {
  const m = input.machine;
  const lines: string[] = [];
  lines.push(`# Benchmark results${input.quick ? ' (quick)' : ''}`);
  lines.push('');
  lines.push(
    `Machine: ${m.cores} cores, ${m.cpuModel}${m.cpuMHz > 0 ? ` @ ${m.cpuMHz} MHz` : ''}, ${m.memoryGiB} GiB, ${m.platform} (Linux ${m.kernel}); ` +
      `Node ${m.node} (V8 ${m.v8}); ${input.threads} worker threads; load average ${m.loadAverage1mAtStart} at start; ${m.date}. ` +
      `Run: \`npm run ${input.quick ? 'bench:quick' : 'bench'}\`, ${(input.durationMs / 1000).toFixed(0)} s.`,
  );
  const dates = input.records.map((r) => r.date).filter((d): d is string => d !== undefined).sort();
  if (dates.length > 1 && Date.parse(dates.at(-1)!) - Date.parse(dates[0]!) > 20 * 60_000) {
    lines.push('');
    lines.push(
      `Sections ran at different times (\`--only … --merge\`): ${input.records.map((r) => `${r.name} ${r.date?.slice(0, 16).replace('T', ' ') ?? '?'}`).join(', ')} (UTC).`,
    );
  }
  lines.push('');
  if (input.targets.length > 0) {
    lines.push('## Targets');
    lines.push('');
    lines.push(
      table(
        ['target', 'goal', 'measured', 'met', 'how'],
        input.targets.map((t) => [t.id, t.target, t.measured, t.met ? 'yes' : '**no**', t.how]),
      ),
    );
    lines.push('');
  }
  for (const record of input.records) {
    lines.push(`## ${record.title}`);
    lines.push('');
    if (record.error !== undefined) {
      lines.push('```');
      lines.push(`FAILED: ${record.error.split('\n')[0]}`);
      lines.push('```');
    } else {
      lines.push(record.output!.markdown);
    }
    lines.push('');
  }
  return `${lines.join('\n')}\n`;
}
