// 5. Latency over the full wire path, measured at the agent (this process): from writing the
// LAUNCH event to having decoded the executor's TASK_RUNNING / terminal UPDATE.
//   - at idle: one task at a time (noop, and the ~5 ms fixed-work task), a short random gap between;
//   - at 80 % load: open-loop Poisson arrivals of the ~5 ms task at 0.8 × the capacity measured
//     just before (a saturated batch): LAUNCH→RUNNING then includes the wait for a free thread;
//   - KILL→TASK_KILLED for busy CPU tasks (spin, a synchronous loop): with grace 0 (the worker
//     thread is terminated at once) and with the default 3 s grace (the job notices the abort).
import type { KillPolicy } from '../src/proto/types.js';
import { calibrate } from './lib/calibrate.js';
import { profileFlags, table, type BenchContext, type SectionOutput, type TargetResult } from './lib/context.js';
import { fmtCount, fmtMs, sig, summarize, type Summary } from './lib/stats.js';
import { sleep } from './lib/timing.js';
import { payload, WireRig, type TaskTiming } from './lib/wire.js';

interface LatencyRow {
  readonly scenario: string;
  readonly measure: string;
  readonly summary: Summary;
}

/** A seeded uniform [0, 1) source: the same arrival pattern every run. */
function lcg(seed: number): () => number {
  let x = seed >>> 0;
  return () => {
    x = (Math.imul(x, 1_664_525) + 1_013_904_223) >>> 0;
    return x / 2 ** 32;
  };
}

async function sequential(rig: WireRig, count: number, data: Buffer): Promise<TaskTiming[]> {
  const random = lcg(7);
  const timings: TaskTiming[] = [];
  for (let i = 0; i < count; i++) {
    timings.push(await rig.launch(data, { watch: true }).timing!);
    await sleep(1 + Math.floor(random() * 3));
  }
  return timings;
}

async function openLoop(rig: WireRig, ratePerSec: number, durationMs: number, data: Buffer): Promise<TaskTiming[]> {
  const random = lcg(11);
  const arrivals: number[] = [];
  for (let t = -Math.log(1 - random()) * (1000 / ratePerSec); t < durationMs; t += -Math.log(1 - random()) * (1000 / ratePerSec)) arrivals.push(t);
  const pending: Promise<TaskTiming>[] = [];
  const start = performance.now();
  let i = 0;
  while (i < arrivals.length) {
    const now = performance.now() - start;
    while (i < arrivals.length && arrivals[i]! <= now) {
      pending.push(rig.launch(data, { watch: true }).timing!);
      i++;
    }
    if (i < arrivals.length) await sleep(Math.max(0, arrivals[i]! - (performance.now() - start)));
  }
  return Promise.all(pending);
}

async function kills(rig: WireRig, count: number, killPolicy: KillPolicy | undefined): Promise<number[]> {
  const spin = payload('spin', { ms: 60_000 });
  const latencies: number[] = [];
  for (let i = 0; i < count; i++) {
    const { taskId, timing } = rig.launch(spin, { watch: true });
    await rig.untilRunning(taskId);
    await sleep(20);
    const t0 = performance.now();
    rig.agent.killTask(taskId, killPolicy);
    const t = await timing!;
    if (t.state !== 'TASK_KILLED') throw new Error(`kill: ${taskId} ended ${String(t.state)}`);
    latencies.push(t.endedAt! - t0);
    // A terminated worker is replaced in the background: let the new thread start.
    await sleep(killPolicy?.grace_period?.nanoseconds === 0 ? 150 : 20);
  }
  return latencies;
}

export async function run(ctx: BenchContext): Promise<SectionOutput> {
  const threads = ctx.threads;
  const work = calibrate(5);
  const fixed = payload('primes', { limit: work.limit });
  const noop = payload('noop');
  const rig = await WireRig.start({ kind: 'ours', threads, nodeFlags: profileFlags(ctx, 'latency') });
  const rows: LatencyRow[] = [];
  const add = (scenario: string, timings: TaskTiming[]): void => {
    rows.push({ scenario, measure: 'LAUNCH→RUNNING', summary: summarize(timings.map((t) => t.runningAt! - t.launchedAt)) });
    rows.push({ scenario, measure: 'LAUNCH→FINISHED', summary: summarize(timings.map((t) => t.endedAt! - t.launchedAt)) });
  };
  let capacity = 0;
  let offered = 0;
  try {
    await rig.batch(ctx.quick ? 300 : 1000, noop, { settleMs: 0 });
    await rig.batch(threads * 4, fixed, { settleMs: 0 });
    await sequential(rig, 20, noop);
    add('idle, noop', await sequential(rig, ctx.quick ? 120 : 1000, noop));
    add(`idle, ${work.targetMs} ms task (T₁ ${sig(work.t1Ms)} ms)`, await sequential(rig, ctx.quick ? 40 : 300, fixed));
    const saturated = await rig.batch(ctx.quick ? 150 : 800, fixed, { settleMs: 100 });
    capacity = saturated.tasksPerSec;
    offered = 0.8 * capacity;
    const loaded = await openLoop(rig, offered, ctx.quick ? 1_500 : 8_000, fixed);
    add(`80 % load (${fmtCount(offered)}/s of a capacity of ${fmtCount(capacity)}/s), ${work.targetMs} ms task`, loaded);
    ctx.log(`latency: capacity ${fmtCount(capacity)}/s; ${rows.map((r) => `${r.scenario} ${r.measure} p99 ${fmtMs(r.summary.p99)}`).join('; ')}`);
    const killCount = ctx.quick ? 8 : 40;
    rows.push({ scenario: 'busy spin task, kill grace 0 (thread terminated)', measure: 'KILL→KILLED', summary: summarize(await kills(rig, killCount, { grace_period: { nanoseconds: 0 } })) });
    rows.push({ scenario: 'busy spin task, default grace 3 s (job stops itself)', measure: 'KILL→KILLED', summary: summarize(await kills(rig, killCount, undefined)) });
    ctx.log(`kill: ${rows.slice(-2).map((r) => `${r.scenario} p99 ${fmtMs(r.summary.p99)}`).join('; ')}`);
  } finally {
    await rig.stop();
  }
  const markdown = table(
    ['scenario', 'measure', 'n', 'p50', 'p95', 'p99', 'max'],
    rows.map((r) => [r.scenario, r.measure, String(r.summary.n), fmtMs(r.summary.p50), fmtMs(r.summary.p95), fmtMs(r.summary.p99), fmtMs(r.summary.max)]),
  );
  const idleRunning = rows.find((r) => r.scenario === 'idle, noop' && r.measure === 'LAUNCH→RUNNING')!.summary;
  const kill0 = rows.find((r) => r.scenario.includes('grace 0'))!.summary;
  const targets: TargetResult[] = [
    {
      id: 'launch-to-running-p99-idle',
      target: '≤ 2 ms',
      value: idleRunning.p99,
      measured: fmtMs(idleRunning.p99),
      met: idleRunning.p99 <= 2,
      how: `${idleRunning.n} noop tasks one at a time, LAUNCH written → TASK_RUNNING decoded at the agent`,
    },
    {
      id: 'kill-to-killed-p99',
      target: '≤ 20 ms',
      value: kill0.p99,
      measured: fmtMs(kill0.p99),
      met: kill0.p99 <= 20,
      how: `${kill0.n} busy spin tasks killed with grace 0, KILL written → TASK_KILLED decoded at the agent`,
    },
  ];
  return { data: { threads, work, capacityPerSec: capacity, offeredPerSec: offered, rows }, markdown, targets };
}
