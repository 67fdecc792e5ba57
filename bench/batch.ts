// 9. Batch tasks: N items of ~1 ms of fixed CPU work (primes, calibrated in this run, T₁
// measured) over the full wire path, carried three ways:
//   - in batch tasks of 100 and of 1000 items (`{"job", "batch": [...]}`, cpus = threads each);
//   - as N single tasks (what a framework does without batches: a Mesos task per item);
//   - on bare worker threads, no pool, no protocol (the machine's limit).
//   efficiency = (N·T₁ / threads) / wall, and each ÷ the bare threads' one in the same run.
// The goal: batches make 1 ms work as efficient as the machine allows (≥ 0.95 of bare threads),
// where single tasks of that size lose to the per-task cost (cpu-efficiency's 1 ms row).
import { calibrate, singleTaskMs } from './lib/calibrate.js';
import { profileFlags, table, type BenchContext, type SectionOutput, type TargetResult } from './lib/context.js';
import { fmtCount, fmtPct, median, sig } from './lib/stats.js';
import { batchPayload, payload, WireRig } from './lib/wire.js';
import { reference } from './cpu-efficiency.js';

const TARGET_MS = 1;
const GOAL = 0.95;
const BATCH_SIZES = [100, 1000] as const;

interface ModeRow {
  readonly mode: string;
  readonly tasks: number;
  readonly wallMs: number;
  readonly itemsPerSec: number;
  readonly efficiency: number;
  readonly relativeToBare: number;
  readonly execMainCpuUsPerItem: number;
  readonly foreignCpuShare: number;
}

export async function run(ctx: BenchContext): Promise<SectionOutput> {
  const threads = ctx.threads;
  const repeats = ctx.quick ? 1 : 3;
  // About 1 s (quick) or 5 s (full) of work on `threads` threads, a whole number of the big batch.
  const items = Math.max(2000, Math.round(((ctx.quick ? 1000 : 5000) * threads) / TARGET_MS / 1000) * 1000);
  const work = calibrate(TARGET_MS);
  const input = { limit: work.limit };
  const rig = await WireRig.start({ kind: 'ours', threads, nodeFlags: profileFlags(ctx, 'batch') });
  const runs: Record<string, Array<{ t1: number; wallMs: number; bareWallMs: number; mainCpuUs: number; foreign: number; tasks: number }>> = {};
  try {
    // Warm: the job, the pool's threads and the chunk path.
    await rig.batch(threads * 4, payload('primes', input), { settleMs: 0 });
    await rig.batch(2, batchPayload('primes', Array.from({ length: 200 }, () => input)), { settleMs: 0, cpus: threads });
    const modes: Array<{ mode: string; tasks: number; data: Buffer; cpus?: number }> = [
      ...BATCH_SIZES.map((size) => ({ mode: `batches of ${size}`, tasks: items / size, data: batchPayload('primes', Array.from({ length: size }, () => input)), cpus: threads })),
      { mode: 'single tasks', tasks: items, data: payload('primes', input) },
    ];
    for (let r = 0; r < repeats; r++) {
      for (const m of modes) {
        const t1 = singleTaskMs(work.limit, ctx.quick ? 100 : 300);
        const b = await rig.batch(m.tasks, m.data, { settleMs: 0, ...(m.cpus !== undefined ? { cpus: m.cpus } : {}) });
        if (b.failed > 0) throw new Error(`batch: ${m.mode}: ${b.failed} tasks failed`);
        const bare = await reference(threads, work.limit, items);
        (runs[m.mode] ??= []).push({
          t1,
          wallMs: b.wallMs,
          bareWallMs: bare.wallMs,
          mainCpuUs: (b.execMainCpuUsPerTask * m.tasks) / items,
          foreign: Math.max(b.foreignCpuShare, bare.foreignCpuShare),
          tasks: m.tasks,
        });
      }
    }
  } finally {
    await rig.stop();
  }
  const rows: ModeRow[] = Object.entries(runs).map(([mode, list]) => {
    const effs = list.map((x) => (items * x.t1) / threads / x.wallMs);
    const bares = list.map((x) => (items * x.t1) / threads / x.bareWallMs);
    const efficiency = median(effs);
    const bareEfficiency = median(bares);
    const row: ModeRow = {
      mode,
      tasks: list[0]!.tasks,
      wallMs: median(list.map((x) => x.wallMs)),
      itemsPerSec: (items * 1000) / median(list.map((x) => x.wallMs)),
      efficiency,
      relativeToBare: median(effs.map((e, i) => e / bares[i]!)),
      execMainCpuUsPerItem: median(list.map((x) => x.mainCpuUs)),
      foreignCpuShare: median(list.map((x) => x.foreign)),
    };
    ctx.log(`batch: ${mode} (${row.tasks} tasks, ${items} items of T₁ ${sig(work.t1Ms)} ms): efficiency ${sig(efficiency)}, bare threads ${sig(bareEfficiency)}, ratio ${sig(row.relativeToBare)}`);
    return row;
  });
  const markdown = table(
    ['items carried as', 'Mesos tasks', 'items/s', 'efficiency (N·T₁/threads)/wall', 'ours ÷ bare threads', 'executor main-thread CPU per item', 'foreign CPU (median)'],
    rows.map((r) => [r.mode, String(r.tasks), fmtCount(r.itemsPerSec), sig(r.efficiency).toString(), sig(r.relativeToBare).toString(), `${sig(r.execMainCpuUsPerItem)} µs`, fmtPct(r.foreignCpuShare)]),
  );
  const targets: TargetResult[] = BATCH_SIZES.flatMap((size) => {
    const r = rows.find((x) => x.mode === `batches of ${size}`);
    if (r === undefined) return [];
    return [
      {
        id: `batch-${size}-vs-bare-1ms`,
        target: `≥ ${GOAL}`,
        value: r.relativeToBare,
        measured: `${sig(r.relativeToBare)} (${sig(r.efficiency)}; single tasks ${sig(rows.find((x) => x.mode === 'single tasks')?.relativeToBare ?? Number.NaN)})`,
        met: r.relativeToBare >= GOAL,
        how: `${items} primes items of T₁ ${sig(work.t1Ms)} ms in ${r.tasks} batch tasks of ${size} (cpus ${threads} each) over the full wire path on ${threads} threads ÷ the same items on bare worker threads, median of ${repeats} run(s)`,
      },
    ];
  });
  return { data: { threads, items, limit: work.limit, t1Ms: work.t1Ms, rows, runs }, markdown, targets };
}
