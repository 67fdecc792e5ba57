// 2. Dispatch cost per layer, noop tasks, in one run:
//   (a)  raw piscina run() of a worker that does nothing (the pool as ours configures it), all
//        submitted at once, then with at most `threads` in flight as the PoolExecutor dispatches;
//   (a′) piscina run() of OUR worker entry, its result on the thread's channel as ours has it, `threads`
//        in flight, without the executor (splits (b)−(a) into worker protocol and bookkeeping);
//   (b)  the PoolExecutor with an in-process driver stub (no network);
//   (c)  the full wire path: the shipped executor command under a LocalAgent in this process,
//        real HTTP, RecordIO, protobuf, an UPDATE call and an ACKNOWLEDGED event per update;
//   and the wire floor (baselines/wire-floor-executor.ts): the protocol alone, no driver or pool.
// tasks/s, and the executor process's CPU per task: the whole process (main thread + workers,
// as process.cpuUsage counts it) and its main thread alone (/proc/<pid>/task/<pid>/stat).
import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import { PoolExecutor } from '../src/pool/index.js';
import type { TaskInfo } from '../src/proto/types.js';
import { StubDriver } from '../test/helpers/stub-driver.js';
import { isChannelAnnouncement, type RunRequest, type WorkerToMain } from '../workers/protocol.js';
import { profileFlags, table, type BenchContext, type SectionOutput, type TargetResult } from './lib/context.js';
import { NOOP_WORKER, POOL_WORKER } from './lib/paths.js';
import { readCpu, readSystemCpu, selfCpuMs } from './lib/proc.js';
import { fmtCount, fmtPct, fmtRatio, medianOf, sig } from './lib/stats.js';
import { sleep } from './lib/timing.js';
import { payload, WireRig } from './lib/wire.js';

export interface LayerSample {
  readonly tasksPerSec: number;
  readonly cpuUsPerTask: number;
  readonly mainCpuUsPerTask: number;
  readonly agentCpuUsPerTask: number;
  readonly foreignCpuShare: number;
}

interface LayerRow extends LayerSample {
  readonly layer: string;
  readonly description: string;
  readonly tasks: number;
  readonly repeats: number;
}

/** Measures `count` tasks run in this process by `go` (resolves when all ended). */
async function inProcess(count: number, go: () => Promise<void>): Promise<LayerSample> {
  await sleep(30);
  const pid = process.pid;
  const cpu0 = selfCpuMs();
  const main0 = readCpu(pid, pid).cpuMs;
  const sys0 = readSystemCpu();
  const t0 = performance.now();
  await go();
  const t1 = performance.now();
  const cpu1 = selfCpuMs();
  const main1 = readCpu(pid, pid).cpuMs;
  const sys1 = readSystemCpu();
  const cores = availableParallelism();
  return {
    tasksPerSec: (count * 1000) / (t1 - t0),
    cpuUsPerTask: ((cpu1 - cpu0) * 1000) / count,
    mainCpuUsPerTask: ((main1 - main0) * 1000) / count,
    agentCpuUsPerTask: 0,
    foreignCpuShare: Math.max(0, (sys1.busyMs - sys0.busyMs - (cpu1 - cpu0)) / ((t1 - t0) * cores)),
  };
}

function noopTasks(count: number, from: number): TaskInfo[] {
  const data = payload('noop');
  const agentId = { value: 'bench-S0' };
  return Array.from({ length: count }, (_, i) => ({ name: 'noop', task_id: { value: `b${from + i}` }, agent_id: agentId, data }));
}

export async function run(ctx: BenchContext): Promise<SectionOutput> {
  const count = ctx.quick ? 2_000 : 20_000;
  const repeats = ctx.quick ? 2 : 5;
  const threads = ctx.threads;

  const raw = new Piscina({ filename: NOOP_WORKER.href, minThreads: threads, maxThreads: threads, atomics: 'disabled' });
  const ourWorker = new Piscina({
    filename: POOL_WORKER.href,
    minThreads: threads,
    maxThreads: threads,
    atomics: 'disabled',
    workerData: { builtinJobs: true, jobModules: [] },
  });
  // As the PoolExecutor does: at most `threads` runs in flight, the next one posted when one ends.
  const windowed = async (n: number, runOne: (i: number) => Promise<unknown>): Promise<void> => {
    let next = 0;
    const lane = async (): Promise<void> => {
      while (next < n) await runOne(next++);
    };
    await Promise.all(Array.from({ length: threads }, lane));
  };
  // Our worker entry answers on its thread's channel (workers/channel.ts): announced on piscina's
  // port, it carries each run's messages and its result, addressed by run id.
  const results = new Map<number, () => void>();
  ourWorker.on('message', (message: unknown) => {
    if (!isChannelAnnouncement(message)) return;
    message.port.on('message', (m: WorkerToMain) => {
      if (m.type === 'result') results.get(m.runId)?.();
    });
    message.port.unref();
  });
  let runIds = 0;
  const runOurWorker = (n: number): Promise<void> =>
    windowed(n, async (i) => {
      const runId = ++runIds;
      const result = new Promise<void>((resolve) => results.set(runId, resolve));
      const request: RunRequest = { kind: 'run', runId, taskId: `p${i}`, job: 'noop', input: undefined, maxResultBytes: 1 << 20, maxFrameworkMessageBytes: 1 << 20 };
      await Promise.all([ourWorker.run(request), result]);
      results.delete(runId);
    });
  // All `count` tasks are launched at once: the queue bound (default 10 000) must not refuse them.
  const pool = await PoolExecutor.create({ threads, maxQueuedTasks: count });
  const stub = new StubDriver({ record: false });
  pool.registered(stub, { executor_id: { value: 'bench' } }, { user: 'bench', name: 'bench' }, { hostname: 'localhost' });
  let seq = 0;
  const runPool = async (n: number): Promise<void> => {
    const tasks = noopTasks(n, seq);
    seq += n;
    const target = stub.terminals + n;
    for (const task of tasks) pool.launchTask(stub, task);
    await stub.untilTerminals(target);
  };
  const rig = await WireRig.start({ kind: 'ours', threads, nodeFlags: profileFlags(ctx, 'dispatch-c') });
  const json = ctx.quick ? undefined : await WireRig.start({ kind: 'ours', threads, args: ['--content-type', 'json'] });
  // The protocol alone (baselines/wire-floor-executor.ts): what bounds (c) from below.
  const floor = await WireRig.start({ kind: 'wire-floor', threads, args: ['--http', 'request'] });
  const floorDispatch = ctx.quick ? undefined : await WireRig.start({ kind: 'wire-floor', threads, args: ['--http', 'dispatch'] });
  const wireRigs: Array<[string, WireRig]> = [
    ['c', rig],
    ...(json !== undefined ? [['c-json', json] as [string, WireRig]] : []),
    ['floor', floor],
    ...(floorDispatch !== undefined ? [['floor-dispatch', floorDispatch] as [string, WireRig]] : []),
  ];
  const noop = payload('noop');

  const samples: Record<string, LayerSample[]> = { a: [], 'a-window': [], 'a′': [], b: [], c: [], 'c-json': [], floor: [], 'floor-dispatch': [] };
  try {
    // Warm-up: JIT, thread start-up, connections.
    const warm = ctx.quick ? 600 : 2_000;
    await Promise.all(Array.from({ length: warm }, () => raw.run(null)));
    await runOurWorker(warm);
    await runPool(warm);
    for (const [, r] of wireRigs) await r.batch(warm, noop, { settleMs: 0 });
    for (let r = 0; r < repeats; r++) {
      samples['a']!.push(await inProcess(count, async () => void (await Promise.all(Array.from({ length: count }, () => raw.run(null))))));
      samples['a-window']!.push(await inProcess(count, () => windowed(count, () => raw.run(null))));
      samples['a′']!.push(await inProcess(count, () => runOurWorker(count)));
      samples['b']!.push(await inProcess(count, () => runPool(count)));
      for (const [layer, wire] of wireRigs) {
        const c = await wire.batch(count, noop);
        if (c.failed > 0) throw new Error(`dispatch ${layer}: ${c.failed} tasks failed`);
        samples[layer]!.push({ tasksPerSec: c.tasksPerSec, cpuUsPerTask: c.execCpuUsPerTask, mainCpuUsPerTask: c.execMainCpuUsPerTask, agentCpuUsPerTask: c.agentCpuUsPerTask, foreignCpuShare: c.foreignCpuShare });
      }
      ctx.log(`dispatch repeat ${r + 1}/${repeats}: ${Object.keys(samples).filter((k) => samples[k]!.length > r).map((k) => `${k} ${fmtCount(samples[k]![r]!.tasksPerSec)}/s ${sig(samples[k]![r]!.cpuUsPerTask)}µs`).join(', ')}`);
    }
  } finally {
    for (const [, wire] of wireRigs) await wire.stop();
    await pool.destroy();
    await raw.destroy();
    await ourWorker.destroy();
  }

  const descriptions: Record<string, string> = {
    a: '(a) raw piscina run(), noop worker, all submitted at once',
    'a-window': '(a) the same, at most `threads` in flight (as the PoolExecutor dispatches)',
    'a′': '(a′) + our worker entry and its thread channel (run ids; the result on the channel), `threads` in flight',
    b: '(b) PoolExecutor + in-process driver stub',
    c: '(c) full wire path, protobuf (LocalAgent ↔ executor process, ACKs)',
    'c-json': '(c) full wire path, JSON',
    floor: 'wire floor: the protocol alone (3 UPDATEs via undici request(), no driver, no pool)',
    'floor-dispatch': 'wire floor with undici dispatch() (no response body stream)',
  };
  const rows: LayerRow[] = Object.entries(samples)
    .filter(([, s]) => s.length > 0)
    .map(([layer, s]) => ({ layer, description: descriptions[layer]!, tasks: count, repeats: s.length, ...medianOf(s) }));
  const a = rows.find((r) => r.layer === 'a')!;
  const c = rows.find((r) => r.layer === 'c')!;
  let markdown = table(
    ['layer', 'tasks/s', 'throughput vs (a)', 'executor process CPU µs/task', 'of which main thread', 'CPU vs (a)', 'agent CPU µs/task', 'foreign CPU'],
    rows.map((r) => [
      r.description,
      fmtCount(r.tasksPerSec),
      fmtRatio(r.tasksPerSec / a.tasksPerSec),
      `${sig(r.cpuUsPerTask)}`,
      `${sig(r.mainCpuUsPerTask)}`,
      fmtRatio(r.cpuUsPerTask / a.cpuUsPerTask),
      r.agentCpuUsPerTask > 0 ? `${sig(r.agentCpuUsPerTask)}` : '–',
      fmtPct(r.foreignCpuShare),
    ]),
  );
  // How many worker threads one executor's main thread can feed with tasks of T ms: each task
  // costs the main thread `mainCpuUsPerTask`, so it saturates at T / that cost threads.
  const coresBusy = (taskMs: number): number => (taskMs * 1000) / c.mainCpuUsPerTask;
  const coreSizes = [1, 5, 20, 100];
  const coresTable = table(
    ['task size T', ...coreSizes.map((t) => `${t} ms`)],
    [['cores one executor can keep busy (T ÷ main-thread CPU per task, full protocol)', ...coreSizes.map((t) => sig(coresBusy(t)).toString())]],
  );
  const cpuRatio = c.cpuUsPerTask / a.cpuUsPerTask;
  const targets: TargetResult[] = [
    {
      id: 'executor-cpu-vs-piscina',
      target: '≤ 2×',
      value: cpuRatio,
      measured: `${sig(cpuRatio)}× (${sig(c.cpuUsPerTask)} vs ${sig(a.cpuUsPerTask)} µs)`,
      met: cpuRatio <= 2,
      how: `executor process CPU (all threads, /proc utime+stime) per noop task over the full protocol ÷ raw piscina's CPU per task, same run, median of ${c.repeats} × ${count} tasks`,
    },
    {
      id: 'main-thread-cpu-per-task',
      target: '≤ 60 µs',
      value: c.mainCpuUsPerTask,
      measured: `${sig(c.mainCpuUsPerTask)} µs`,
      met: c.mainCpuUsPerTask <= 60,
      how: `the executor's main-thread CPU (/proc task stat) per noop task over the full protocol, median of ${c.repeats} × ${count} tasks`,
    },
    {
      id: 'cores-busy-at-1ms',
      target: '≥ 16',
      value: coresBusy(1),
      measured: sig(coresBusy(1)).toString(),
      met: coresBusy(1) >= 16,
      how: 'worker threads one executor can keep busy with 1 ms tasks: 1 ms ÷ the main-thread CPU per task above',
    },
  ];
  markdown = `${markdown}\n\n${coresTable}`;
  return { data: { tasks: count, repeats, threads, rows }, markdown, targets };
}
