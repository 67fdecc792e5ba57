// chart.svg, written by hand (no dependency): throughput (log scale) and CPU efficiency against
// task size, ours vs the two baselines vs the ideal, from the against-baselines section (same run), plus
// the bare-thread machine limit from the efficiency section where the sizes match.
import type { BaselineCell } from '../against-baselines.js';
import type { EfficiencyRow } from '../cpu-efficiency.js';
import type { SectionRecord } from './section-record.js';
import type { MachineInfo } from './machine.js';
import type { ExecutorKind } from './wire.js';

interface Series {
  readonly label: string;
  readonly color: string;
  readonly dash?: string;
  /** y per x category (undefined: no point). */
  readonly values: ReadonlyArray<number | undefined>;
}

const W = 980;
const H = 420;
const PANEL_W = 400;
const PANEL_H = 250;
const TOP = 80;
const LEFT = [70, 550];

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const fmt = (v: number): string => (v >= 1000 ? `${Math.round(v / 100) / 10}k` : v >= 10 ? String(Math.round(v)) : String(Math.round(v * 100) / 100));

function panel(x0: number, title: string, categories: readonly string[], series: readonly Series[], y: { min: number; max: number; log: boolean; ticks: readonly number[]; tickLabel: (v: number) => string }): string {
  const out: string[] = [];
  const yOf = (v: number): number => {
    const t = y.log ? (Math.log10(v) - Math.log10(y.min)) / (Math.log10(y.max) - Math.log10(y.min)) : (v - y.min) / (y.max - y.min);
    return TOP + PANEL_H - Math.max(0, Math.min(1, t)) * PANEL_H;
  };
  const step = PANEL_W / categories.length;
  const xOf = (i: number): number => x0 + step * (i + 0.5);
  out.push(`<text x="${x0 + PANEL_W / 2}" y="${TOP - 14}" text-anchor="middle" class="title">${esc(title)}</text>`);
  out.push(`<rect x="${x0}" y="${TOP}" width="${PANEL_W}" height="${PANEL_H}" class="frame"/>`);
  for (const tick of y.ticks) {
    const ty = yOf(tick);
    out.push(`<line x1="${x0}" x2="${x0 + PANEL_W}" y1="${ty}" y2="${ty}" class="grid"/>`);
    out.push(`<text x="${x0 - 6}" y="${ty + 4}" text-anchor="end" class="tick">${esc(y.tickLabel(tick))}</text>`);
  }
  categories.forEach((c, i) => out.push(`<text x="${xOf(i)}" y="${TOP + PANEL_H + 18}" text-anchor="middle" class="tick">${esc(c)}</text>`));
  out.push(`<text x="${x0 + PANEL_W / 2}" y="${TOP + PANEL_H + 38}" text-anchor="middle" class="axis">task size (fixed work, one thread)</text>`);
  for (const s of series) {
    const points = s.values.map((v, i) => (v === undefined || !Number.isFinite(v) || v <= 0 ? undefined : ([xOf(i), yOf(v), v] as const)));
    let path = '';
    for (const p of points) {
      if (p === undefined) continue;
      path += `${path === '' ? 'M' : 'L'}${p[0].toFixed(1)},${p[1].toFixed(1)} `;
    }
    if (path !== '') out.push(`<path d="${path.trim()}" fill="none" stroke="${s.color}" stroke-width="2.5"${s.dash !== undefined ? ` stroke-dasharray="${s.dash}"` : ''}/>`);
    for (const p of points) {
      if (p === undefined) continue;
      out.push(`<circle cx="${p[0].toFixed(1)}" cy="${p[1].toFixed(1)}" r="3.5" fill="${s.color}"><title>${esc(`${s.label}: ${fmt(p[2])}`)}</title></circle>`);
    }
  }
  return out.join('\n');
}

export function renderChart(records: readonly SectionRecord[], machine: MachineInfo, threads: number): string | undefined {
  const baselines = records.find((r) => r.name === 'against-baselines')?.output?.data as { cells: BaselineCell[] } | undefined;
  if (baselines === undefined) return undefined;
  const efficiency = records.find((r) => r.name === 'cpu-efficiency')?.output?.data as { rows: EfficiencyRow[] } | undefined;
  const sizes = [...new Set(baselines.cells.map((c) => c.size))];
  const fixedSizes = sizes.filter((s) => s !== 'noop');
  const cell = (kind: ExecutorKind, size: string): BaselineCell | undefined => baselines.cells.find((c) => c.kind === kind && c.size === size);
  const kinds: Array<[ExecutorKind, string, string]> = [
    ['ours', 'pool executor (ours)', '#1f6feb'],
    ['inline', 'inline (job in launchTask)', '#e8912d'],
    ['process-per-task', 'process per task', '#cf222e'],
  ];
  const idealTput = sizes.map((s) => {
    const c = cell('ours', s);
    return c === undefined || c.t1Ms <= 0 ? undefined : (threads * 1000) / c.t1Ms;
  });
  const throughput: Series[] = [
    ...kinds.map(([kind, label, color]) => ({ label, color, values: sizes.map((s) => cell(kind, s)?.tasksPerSec) })),
    { label: `ideal (${threads} threads)`, color: '#57606a', dash: '6 4', values: idealTput },
  ];
  const all = throughput.flatMap((s) => s.values).filter((v): v is number => v !== undefined && v > 0);
  const lo = 10 ** Math.floor(Math.log10(Math.min(...all)));
  const hi = 10 ** Math.ceil(Math.log10(Math.max(...all)));
  const decades: number[] = [];
  for (let v = lo; v <= hi * 1.0001; v *= 10) decades.push(v);

  const bare = fixedSizes.map((s) => {
    const t = cell('ours', s)?.targetMs;
    return efficiency?.rows.find((r) => r.targetMs === t)?.referenceEfficiency;
  });
  const eff: Series[] = [
    ...kinds.map(([kind, label, color]) => ({ label, color, values: fixedSizes.map((s) => cell(kind, s)?.efficiency) })),
    { label: 'ideal', color: '#57606a', dash: '6 4', values: fixedSizes.map(() => 1) },
    ...(bare.some((v) => v !== undefined) ? [{ label: 'bare threads (machine limit)', color: '#8250df', dash: '2 3', values: bare }] : []),
  ];

  const legend = [...throughput, ...eff.filter((s) => s.label.startsWith('bare'))];
  // Two rows of three: labels never run off the edge.
  const legendItems = legend
    .map((s, i) => {
      const x = 70 + (i % 3) * 290;
      const y = 18 + Math.floor(i / 3) * 20;
      return `<line x1="${x}" x2="${x + 24}" y1="${y}" y2="${y}" stroke="${s.color}" stroke-width="2.5"${s.dash !== undefined ? ` stroke-dasharray="${s.dash}"` : ''}/><text x="${x + 30}" y="${y + 4}" class="legend">${esc(s.label)}</text>`;
    })
    .join('\n');
  const caption = `${machine.cores} cores, ${machine.cpuModel}, Node ${machine.node}, ${threads} worker threads; full wire path (LocalAgent ↔ executor process); ${machine.date.slice(0, 10)}`;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="-apple-system, Segoe UI, Helvetica, Arial, sans-serif">
<style>
.title { font-size: 14px; font-weight: 600; fill: #24292f; }
.tick { font-size: 11px; fill: #57606a; }
.axis { font-size: 11px; fill: #57606a; }
.legend { font-size: 12px; fill: #24292f; }
.caption { font-size: 11px; fill: #57606a; }
.frame { fill: none; stroke: #d0d7de; }
.grid { stroke: #eaeef2; }
</style>
<rect width="${W}" height="${H}" fill="#ffffff"/>
${legendItems}
${panel(LEFT[0]!, 'Throughput (tasks/s, log scale)', sizes, throughput, { min: lo, max: hi, log: true, ticks: decades, tickLabel: fmt })}
${panel(LEFT[1]!, `CPU efficiency: (M·T₁/${threads})/wall`, fixedSizes, eff, { min: 0, max: 1.05, log: false, ticks: [0, 0.25, 0.5, 0.75, 1], tickLabel: (v) => v.toFixed(2) })}
<text x="${W / 2}" y="${H - 14}" text-anchor="middle" class="caption">${esc(caption)}</text>
</svg>
`;
}
