// 6. Responsiveness: the event-loop delay of the executor's main thread while every worker is
// busy, measured INSIDE the executor process (perf_hooks.monitorEventLoopDelay, 1 ms
// resolution, from SUBSCRIBED; executors/probe.ts), for ours and for the inline baseline under
// the same load: ~100 ms fixed-work tasks keeping all threads busy for the whole window. Also
// the round trip of a framework message (agent → executor → agent) sent every 50 ms meanwhile:
// what any event (a KILL, an ACKNOWLEDGED) waits for before the executor sees it.
import { calibrate } from './lib/calibrate.js';
import { table, type BenchContext, type SectionOutput, type TargetResult } from './lib/context.js';
import { fmtMs, summarize, type Summary } from './lib/stats.js';
import { sleep } from './lib/timing.js';
import { EXECUTOR_LABEL, payload, WireRig, type ExecutorKind } from './lib/wire.js';

interface Eld {
  readonly resolutionMs: number;
  readonly samples: number;
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly max: number;
  readonly mean: number;
}

interface Row {
  readonly kind: ExecutorKind;
  readonly tasks: number;
  readonly windowMs: number;
  readonly eld: Eld;
  readonly ping: Summary;
}

async function measure(kind: ExecutorKind, threads: number, limit: number, t1Ms: number, windowMs: number): Promise<Row> {
  const rig = await WireRig.start({ kind, threads, env: { BENCH_ELD: '1' } });
  try {
    const slots = kind === 'inline' ? 1 : threads;
    // Enough work to keep every slot busy past the window (the inline one: exactly the window).
    const tasks = kind === 'inline' ? Math.ceil(windowMs / t1Ms) : slots * (Math.ceil(windowMs / t1Ms) + 2);
    const data = payload('primes', { limit });
    // The monitor was reset at SUBSCRIBED; its first tick after a reset only starts the clock,
    // so let it tick before the loop may block (else a blocked loop would go unrecorded).
    await sleep(50);
    const start = performance.now();
    for (let i = 0; i < tasks; i++) rig.launch(data);
    const pings: Promise<{ rttMs: number }>[] = [];
    while (performance.now() - start < windowMs) {
      pings.push(rig.probe('ping', 120_000));
      await sleep(50);
    }
    const { eld } = await rig.probe<{ eld: Eld }>('eld', 120_000);
    const rtts = (await Promise.all(pings)).map((p) => p.rttMs);
    await rig.untilTerminals(tasks, 120_000);
    return { kind, tasks, windowMs, eld, ping: summarize(rtts) };
  } finally {
    await rig.stop();
  }
}

export async function run(ctx: BenchContext): Promise<SectionOutput> {
  const threads = ctx.threads;
  const work = calibrate(100);
  const windowMs = ctx.quick ? 1_000 : 5_000;
  const rows: Row[] = [];
  for (const kind of ['ours-probed', 'inline'] as const) {
    const row = await measure(kind, threads, work.limit, work.t1Ms, windowMs);
    rows.push(row);
    ctx.log(`responsiveness ${kind}: event-loop delay p99 ${fmtMs(row.eld.p99)} (max ${fmtMs(row.eld.max)}), message round trip p99 ${fmtMs(row.ping.p99)}`);
  }
  const markdown = table(
    ['executor', 'busy window', 'event-loop delay p50', 'p99', 'max', 'samples', 'MESSAGE round trip p50', 'p99', 'max'],
    rows.map((r) => [
      EXECUTOR_LABEL[r.kind],
      `${fmtMs(r.windowMs)}, ${r.tasks} × ${Math.round(work.t1Ms)} ms tasks`,
      fmtMs(r.eld.p50),
      fmtMs(r.eld.p99),
      fmtMs(r.eld.max),
      String(r.eld.samples),
      fmtMs(r.ping.p50),
      fmtMs(r.ping.p99),
      fmtMs(r.ping.max),
    ]),
  );
  const ours = rows.find((r) => r.kind === 'ours-probed')!;
  const targets: TargetResult[] = [
    {
      id: 'event-loop-lag-p99-busy',
      target: '≤ 10 ms',
      value: ours.eld.p99,
      measured: `${fmtMs(ours.eld.p99)} (inline baseline: ${fmtMs(rows.find((r) => r.kind === 'inline')!.eld.p99)})`,
      met: ours.eld.p99 <= 10,
      how: `monitorEventLoopDelay (1 ms resolution) inside the executor process over ${fmtMs(windowMs)} with all ${threads} workers busy`,
    },
  ];
  return { data: { threads, work, rows }, markdown, targets };
}
