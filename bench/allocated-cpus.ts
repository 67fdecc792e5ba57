// 10. Allocated cpus: is a task whose cpus Mesos allocated ever queued in the executor? Over the
// full wire path, an executor without --threads (its concurrency follows the allocation: the
// ExecutorInfo's 0.1 cpus plus every live task's) gets 2 × cores tasks of 1 cpu each at once:
// more cpus than the host has cores, as an agent configured so would allocate. Measured at the
// agent: LAUNCH written → TASK_RUNNING decoded.
//   - dispatch: the same executor's LAUNCH→RUNNING for one task at a time (idle), the floor;
//   - a task counts as queued when its TASK_RUNNING came later than QUEUED_MS (half a task's
//     duration) after its LAUNCH: it waited for another task to end, not for a thread to start;
//   - the target's tasks `sleep` TASK_MS, so that the figure is the queue's and not the CPU's: with
//     `spin` (a synchronous loop) 2 × cores threads share the cores with the executor's main
//     thread, which then sends TASK_RUNNING late although nothing waited in a queue (shown apart);
//   - round 1 is cold (the pool grows its threads to the allocation), the next rounds warm;
//   - the same with `--threads <cores>` (a fixed size, the old default), where half must queue.
import { availableParallelism } from 'node:os';
import { profileFlags, table, type BenchContext, type SectionOutput, type TargetResult } from './lib/context.js';
import { fmtMs, summarize, type Summary } from './lib/stats.js';
import { sleep } from './lib/timing.js';
import { payload, WireRig, type TaskTiming } from './lib/wire.js';

const TASK_MS = 200;
const QUEUED_MS = TASK_MS / 2;
const EXECUTOR_CPUS = 0.1;

interface Row {
  readonly scenario: string;
  readonly tasks: number;
  /** LAUNCH→RUNNING. */
  readonly running: Summary;
  /** LAUNCH→RUNNING beyond the idle dispatch's median. */
  readonly excess: Summary;
  readonly queued: number;
}

async function rounds(rig: WireRig, job: 'sleep' | 'spin', count: number, tasks: number): Promise<TaskTiming[][]> {
  const data = payload(job, { ms: TASK_MS });
  const out: TaskTiming[][] = [];
  for (let r = 0; r < count; r++) {
    const timings = Array.from({ length: tasks }, () => rig.launch(data, { watch: true, cpus: 1 }).timing!);
    out.push(await Promise.all(timings));
    // The executor takes in the last ACKs before the next burst.
    await sleep(50);
  }
  return out;
}

async function dispatchFloor(rig: WireRig, count: number): Promise<number[]> {
  const noop = payload('noop');
  const latencies: number[] = [];
  for (let i = 0; i < count; i++) {
    const t = await rig.launch(noop, { watch: true, cpus: 1 }).timing!;
    latencies.push(t.runningAt! - t.launchedAt);
    await sleep(2);
  }
  return latencies;
}

function row(scenario: string, timings: readonly TaskTiming[], floorMs: number): Row {
  const running = timings.map((t) => t.runningAt! - t.launchedAt);
  return {
    scenario,
    tasks: timings.length,
    running: summarize(running),
    excess: summarize(running.map((ms) => Math.max(0, ms - floorMs))),
    queued: running.filter((ms) => ms > QUEUED_MS).length,
  };
}

interface Measured {
  readonly floor: Summary;
  readonly sleeps: TaskTiming[][];
  readonly spins: TaskTiming[][];
}

async function measure(ctx: BenchContext, concurrency: 'follow-cpus' | 'fixed', tasks: number, sleepRounds: number, spinRounds: number): Promise<Measured> {
  const cores = availableParallelism();
  const rig = await WireRig.start({
    kind: 'ours',
    threads: cores,
    concurrency,
    nodeFlags: profileFlags(ctx, `allocated-cpus-${concurrency}`),
    agent: { executorInfo: { resources: [{ name: 'cpus', type: 'SCALAR', scalar: { value: EXECUTOR_CPUS } }] } },
  });
  try {
    await dispatchFloor(rig, 20);
    const floor = summarize(await dispatchFloor(rig, ctx.quick ? 50 : 300));
    const sleeps = await rounds(rig, 'sleep', sleepRounds, tasks);
    const spins = await rounds(rig, 'spin', spinRounds, tasks);
    return { floor, sleeps, spins };
  } finally {
    await rig.stop();
  }
}

export async function run(ctx: BenchContext): Promise<SectionOutput> {
  const cores = availableParallelism();
  const tasks = 2 * cores;
  const count = ctx.quick ? 3 : 10;
  const follow = await measure(ctx, 'follow-cpus', tasks, count, ctx.quick ? 2 : 5);
  const fixed = await measure(ctx, 'fixed', tasks, ctx.quick ? 1 : 3, 0);
  const floorMs = follow.floor.p50;
  const plural = (n: number): string => `${n} round${n === 1 ? '' : 's'}`;
  const rows: Row[] = [
    row('sleep, no --threads, round 1 (cold: the pool grows to the allocation)', follow.sleeps[0]!, floorMs),
    ...(count > 1 ? [row(`sleep, no --threads, rounds 2–${count} (warm)`, follow.sleeps.slice(1).flat(), floorMs)] : []),
    row(`sleep, --threads ${cores} (fixed size), ${plural(fixed.sleeps.length)}`, fixed.sleeps.flat(), fixed.floor.p50),
    row(`spin, no --threads, ${plural(follow.spins.length)} (${tasks} spinning threads on ${cores} cores)`, follow.spins.flat(), floorMs),
  ];
  const all = row('sleep, no --threads, every round', follow.sleeps.flat(), floorMs);
  ctx.log(
    `allocated-cpus: dispatch p50 ${fmtMs(floorMs)}; ${rows.map((r) => `${r.scenario}: ${r.queued}/${r.tasks} late, LAUNCH→RUNNING p99 ${fmtMs(r.running.p99)}`).join('; ')}`,
  );
  const markdown = [
    `${tasks} tasks of 1 cpu each (${cores} cores) launched at once, each ${TASK_MS} ms long; ExecutorInfo ${EXECUTOR_CPUS} cpus, so ${EXECUTOR_CPUS + tasks} cpus allocated. ` +
      `Idle dispatch (one noop task at a time): LAUNCH→RUNNING p50 ${fmtMs(follow.floor.p50)}, p99 ${fmtMs(follow.floor.p99)}. ` +
      `Late: TASK_RUNNING more than ${QUEUED_MS} ms after LAUNCH (half a task). With \`sleep\` a late task waited in the queue; ` +
      `with \`spin\` the main thread shares the cores with ${tasks} busy threads, so RUNNING can be late with nothing queued.`,
    '',
    table(
      ['scenario', 'tasks', 'late', 'LAUNCH→RUNNING p50', 'p99', 'max', 'beyond dispatch p99'],
      rows.map((r) => [r.scenario, String(r.tasks), String(r.queued), fmtMs(r.running.p50), fmtMs(r.running.p99), fmtMs(r.running.max), fmtMs(r.excess.p99)]),
    ),
  ].join('\n');
  const targets: TargetResult[] = [
    {
      id: 'allocated-cpus-queued',
      target: '0 tasks queued',
      value: all.queued,
      measured: `${all.queued} of ${all.tasks} (p99 ${fmtMs(all.excess.p99)} beyond dispatch)`,
      met: all.queued === 0,
      how: `${count} rounds of ${tasks} × 1-cpu ${TASK_MS} ms sleeps at once, no --threads; queued = LAUNCH→RUNNING > ${QUEUED_MS} ms`,
    },
  ];
  return {
    data: { cores, tasks, taskMs: TASK_MS, queuedMs: QUEUED_MS, executorCpus: EXECUTOR_CPUS, floor: follow.floor, fixedFloor: fixed.floor, rows, all },
    markdown,
    targets,
  };
}
