// 3. Baselines in the same run: our executor, the inline executor (the job runs inside
// launchTask on the main thread) and the process-per-task executor (node spawned per task),
// each an executor process under its own LocalAgent on the same wire, for noop tasks and
// fixed-work tasks (primes) of about 1, 20 and 100 ms calibrated in this run. Interleaved
// per repeat (ours, inline, process-per-task), medians.
import { profileFlags, table, type BenchContext, type SectionOutput, type TargetResult } from './lib/context.js';
import { calibrate, type FixedWork } from './lib/calibrate.js';
import { fmtCount, fmtPct, fmtRatio, medianOf, sig } from './lib/stats.js';
import { EXECUTOR_LABEL, payload, WireRig, type ExecutorKind } from './lib/wire.js';

export const KINDS: readonly ExecutorKind[] = ['ours', 'inline', 'process-per-task'];

export interface BaselineCell {
  readonly kind: ExecutorKind;
  readonly size: string;
  /** Task size asked for (0: noop). */
  readonly targetMs: number;
  readonly t1Ms: number;
  readonly tasks: number;
  readonly repeats: number;
  readonly tasksPerSec: number;
  /** (M·T₁/threads)/wall against the whole machine; NaN for noop. */
  readonly efficiency: number;
  /** Executor process CPU per task, µs, including the processes it spawned. */
  readonly cpuUsPerTask: number;
  readonly mainCpuUsPerTask: number;
  readonly foreignCpuShare: number;
}

interface Plan {
  readonly size: string;
  readonly targetMs: number;
  readonly counts: Partial<Record<ExecutorKind, number>>;
}

function plans(quick: boolean): Plan[] {
  const q = (quickN: number, fullN: number): number => (quick ? quickN : fullN);
  return [
    { size: 'noop', targetMs: 0, counts: { ours: q(2000, 20000), 'ours-probed': 0, inline: q(2000, 20000), 'process-per-task': q(12, 120) } },
    { size: '1 ms', targetMs: 1, counts: { ours: q(600, 5000), 'ours-probed': 0, inline: q(300, 2500), 'process-per-task': q(12, 120) } },
    { size: '20 ms', targetMs: 20, counts: { ours: q(30, 300), 'ours-probed': 0, inline: q(16, 150), 'process-per-task': q(8, 80) } },
    { size: '100 ms', targetMs: 100, counts: { ours: q(8, 60), 'ours-probed': 0, inline: q(4, 30), 'process-per-task': q(4, 30) } },
  ];
}

export async function run(ctx: BenchContext): Promise<SectionOutput> {
  const repeats = ctx.quick ? 1 : 3;
  const threads = ctx.threads;
  const work = new Map<number, FixedWork>();
  for (const p of plans(ctx.quick)) if (p.targetMs > 0) work.set(p.targetMs, calibrate(p.targetMs));
  ctx.log(`calibrated: ${[...work.values()].map((w) => `${w.targetMs} ms → primes ${w.limit} (T₁ ${sig(w.t1Ms)} ms)`).join(', ')}`);

  const rigs = new Map<ExecutorKind, WireRig>();
  const cells: BaselineCell[] = [];
  try {
    for (const kind of KINDS) rigs.set(kind, await WireRig.start({ kind, threads, nodeFlags: profileFlags(ctx, `baseline-${kind}`) }));
    // Warm-up: JIT, worker threads, connections.
    for (const kind of KINDS) {
      const rig = rigs.get(kind)!;
      await rig.batch(kind === 'process-per-task' ? 2 : 300, payload('noop'), { settleMs: 0 });
      for (const w of work.values()) if (w.targetMs <= 20) await rig.batch(kind === 'process-per-task' ? 2 : 4, payload('primes', { limit: w.limit }), { settleMs: 0 });
    }
    for (const plan of plans(ctx.quick)) {
      const w = work.get(plan.targetMs);
      const data = w === undefined ? payload('noop') : payload('primes', { limit: w.limit });
      const samples = new Map<ExecutorKind, BaselineCell[]>(KINDS.map((k) => [k, []]));
      for (let r = 0; r < repeats; r++) {
        for (const kind of KINDS) {
          const count = plan.counts[kind] ?? 0;
          const b = await rigs.get(kind)!.batch(count, data);
          if (b.failed > 0) throw new Error(`baselines: ${kind} ${plan.size}: ${b.failed} tasks failed`);
          samples.get(kind)!.push({
            kind,
            size: plan.size,
            targetMs: plan.targetMs,
            t1Ms: w?.t1Ms ?? 0,
            tasks: count,
            repeats,
            tasksPerSec: b.tasksPerSec,
            efficiency: w === undefined ? Number.NaN : (count * w.t1Ms) / threads / b.wallMs,
            cpuUsPerTask: b.execCpuUsPerTask + b.execChildrenCpuUsPerTask,
            mainCpuUsPerTask: b.execMainCpuUsPerTask,
            foreignCpuShare: b.foreignCpuShare,
          });
        }
      }
      for (const kind of KINDS) {
        const cell = medianOf(samples.get(kind)!);
        cells.push(cell);
        ctx.log(`baseline ${plan.size} ${kind}: ${fmtCount(cell.tasksPerSec)} tasks/s, efficiency ${sig(cell.efficiency)}, ${sig(cell.cpuUsPerTask)} µs/task`);
      }
    }
  } finally {
    for (const rig of rigs.values()) await rig.stop();
  }

  const cell = (kind: ExecutorKind, size: string): BaselineCell => cells.find((c) => c.kind === kind && c.size === size)!;
  const rows: string[][] = [];
  for (const plan of plans(ctx.quick)) {
    const ours = cell('ours', plan.size);
    for (const kind of KINDS) {
      const c = cell(kind, plan.size);
      rows.push([
        plan.size + (plan.targetMs > 0 ? ` (T₁ ${sig(c.t1Ms)} ms)` : ''),
        EXECUTOR_LABEL[kind],
        String(c.tasks),
        fmtCount(c.tasksPerSec),
        Number.isNaN(c.efficiency) ? '–' : sig(c.efficiency, 3).toString(),
        kind === 'ours' ? '1×' : fmtRatio(ours.tasksPerSec / c.tasksPerSec),
        fmtCount(c.cpuUsPerTask),
        fmtPct(c.foreignCpuShare),
      ]);
    }
    if (plan.targetMs > 0) {
      const t1 = cell('ours', plan.size).t1Ms;
      rows.push([plan.size, `ideal (${threads} threads, T₁ each)`, '', fmtCount((threads * 1000) / t1), '1', '', '', '']);
    }
  }
  const markdown = table(
    ['task size', 'executor', 'tasks', 'tasks/s', `efficiency (of ${threads} cores)`, 'ours ÷ this (tasks/s)', 'executor CPU µs/task (incl. children)', 'foreign CPU'],
    rows,
  );
  const oursNoop = cell('ours', 'noop');
  const pptNoop = cell('process-per-task', 'noop');
  const ratio = oursNoop.tasksPerSec / pptNoop.tasksPerSec;
  const targets: TargetResult[] = [
    {
      id: 'noop-vs-process-per-task',
      target: '≥ 100×',
      value: ratio,
      measured: fmtRatio(ratio),
      met: ratio >= 100,
      how: `noop tasks/s, ours ${fmtCount(oursNoop.tasksPerSec)} vs process-per-task ${fmtCount(pptNoop.tasksPerSec)}, same wire, same run`,
    },
  ];
  return { data: { threads, repeats, calibration: [...work.values()], cells }, markdown, targets };
}
