// 7. Scale: 100k noop tasks through one executor process (20k in --quick), with a bounded
// window of tasks in flight (1000: the framework launches as tasks end, as a scheduler with
// finite offers does), so that RSS after 10k and after 100k compares the executor's steady
// state, not a backlog: growth < 5 % means nothing accumulates per task. RSS and heap are read
// after a full GC (node --expose-gc, probe "gc"); the outbox (unacknowledged updates) is
// sampled every 500 ms during the run. Then: resubscribing carrying 10k unacknowledged updates
// (the agent withholds ACKs, then restarts), against the same restart with an empty outbox.
import { table, type BenchContext, type SectionOutput, type TargetResult } from './lib/context.js';
import { readRss } from './lib/proc.js';
import { fmtCount, fmtMs, fmtPct } from './lib/stats.js';
import { sleep } from './lib/timing.js';
import { BENCH_JOBS } from './lib/paths.js';
import { payload, WireRig } from './lib/wire.js';

interface Report {
  readonly memory: NodeJS.MemoryUsage;
  readonly outbox: number;
  readonly unacknowledgedTasks: number;
  readonly liveTasks: number;
}

interface Checkpoint {
  readonly tasks: number;
  readonly rssBytes: number;
  readonly procRssBytes: number;
  readonly heapUsedBytes: number;
  /** Heap used of each worker thread after its own full GC. */
  readonly workerHeapUsedBytes: readonly number[];
  readonly externalBytes: number;
  readonly outbox: number;
  readonly liveTasks: number;
}

interface Resubscribe {
  readonly unacknowledged: number;
  /** SUBSCRIBE calls the agent received after the restart (more than 1: attempts superseded). */
  readonly subscribeCalls: number;
  /** restart() resolved → the first SUBSCRIBE decoded by the agent. */
  readonly toFirstSubscribeMs: number;
  /** → the last SUBSCRIBE (the one that stayed). */
  readonly toLastSubscribeMs: number;
  /** → the last SUBSCRIBED sent (after the agent replayed every carried update). */
  readonly toSubscribedMs: number;
  /** → the executor reports an empty outbox (every carried update acknowledged and processed). */
  readonly toOutboxEmptyMs: number;
  /** The last SUBSCRIBE received → outbox empty: the cost of carrying the updates, without backoff. */
  readonly carryMs: number;
  readonly carriedUpdates: number;
}

/** A full GC in every worker thread (the bench `gc` job, one per thread at once) and in the main thread, then the figures. */
async function checkpoint(rig: WireRig, tasks: number): Promise<Checkpoint> {
  await sleep(300);
  const gcs = Array.from({ length: rig.threads }, () => rig.launch(payload('gc', { holdMs: 50 }), { watch: true }).timing!);
  const workerHeapUsedBytes = (await Promise.all(gcs)).map((t) => (JSON.parse(Buffer.from(t.data ?? []).toString('utf8') || '{}') as { heapUsed?: number }).heapUsed ?? Number.NaN);
  const r = await rig.probe<Report>('gc');
  return {
    tasks,
    rssBytes: r.memory.rss,
    procRssBytes: readRss(rig.executor.pid),
    heapUsedBytes: r.memory.heapUsed,
    workerHeapUsedBytes,
    externalBytes: r.memory.external + r.memory.arrayBuffers,
    outbox: r.outbox,
    liveTasks: r.liveTasks,
  };
}

async function resubscribe(ctx: BenchContext, updates: number): Promise<Resubscribe> {
  // The agent's default MESOS_SUBSCRIPTION_BACKOFF_MAX (2 s). With a maximum shorter than the
  // time the agent takes to answer a SUBSCRIBE carrying 10k updates (it replays them first),
  // each backoff attempt supersedes the SUBSCRIBE in flight and the executor may never get
  // back in: see docs/performance.md.
  const rig = await WireRig.start({ kind: 'ours-probed', threads: ctx.threads, agent: { frameworkInfo: { checkpoint: true } } });
  try {
    const agent = rig.agent;
    await rig.batch(300, payload('noop'), { settleMs: 100 });
    const tasks = Math.ceil(updates / 3);
    if (updates > 0) {
      agent.withholdAcks(true);
      const withheld0 = agent.counters.acksWithheld;
      await rig.batch(tasks, payload('noop'), { settleMs: 0 });
      while (agent.counters.acksWithheld - withheld0 < tasks * 3) await sleep(10);
      await sleep(200);
      agent.withholdAcks(false);
    }
    const outbox = (await rig.probe<Report>('report')).outbox;
    const subscribeCalls: number[] = [];
    const subscribedAt: number[] = [];
    let carriedUpdates = 0;
    agent.on('call', (record) => {
      if (record.type !== 'SUBSCRIBE') return;
      subscribeCalls.push(performance.now());
      carriedUpdates = record.call?.subscribe?.unacknowledged_updates?.length ?? 0;
    });
    agent.on('subscribed', () => subscribedAt.push(performance.now()));
    const subscribed = agent.nextEvent('subscribed', { timeoutMs: 60_000 });
    // Timed from the moment SUBSCRIBE is served again (the re-registration window opens); the
    // window lasts upstream's 2 s whatever the executor does, and the probe's answers (MESSAGE
    // calls) get 503 until it ends, so "outbox empty" cannot be seen before then.
    const back = new Promise<number>((resolve) => {
      const onPhase = (phase: string): void => {
        if (phase !== 'recovering') return;
        agent.off('phase', onPhase);
        resolve(performance.now());
      };
      agent.on('phase', onPhase);
    });
    const restarted = agent.restart({});
    const t0 = await back;
    await subscribed;
    // Probes every 20 ms until one answers "outbox empty". A framework message has no delivery
    // guarantee: the executor's first call after the restart meets the connection the restart
    // reset, and that answer is dropped; the next ones go through.
    const empty = await new Promise<number>((resolve, reject) => {
      let done = false;
      let sent = 0;
      const fire = (): void => {
        if (done) return;
        if (sent++ > 1_000) {
          reject(new Error('resubscribe: the executor never reported an empty outbox'));
          return;
        }
        rig.probe<Report>('report', 5_000).then(
          (r) => {
            if (!done && r.outbox === 0) {
              done = true;
              resolve(performance.now());
            }
          },
          () => {},
        );
        setTimeout(fire, 20);
      };
      fire();
    });
    await restarted;
    const last = subscribeCalls.filter((t) => t <= empty).at(-1)!;
    return {
      unacknowledged: outbox,
      subscribeCalls: subscribeCalls.filter((t) => t <= empty).length,
      toFirstSubscribeMs: subscribeCalls[0]! - t0,
      toLastSubscribeMs: last - t0,
      toSubscribedMs: subscribedAt.filter((t) => t <= empty).at(-1)! - t0,
      toOutboxEmptyMs: empty - t0,
      carryMs: empty - last,
      carriedUpdates,
    };
  } finally {
    await rig.stop();
  }
}

export async function run(ctx: BenchContext): Promise<SectionOutput> {
  const total = ctx.quick ? 10_000 : 100_000;
  // RSS is read after each of these counts; the target compares the first with the last (×10).
  const marks = ctx.quick ? [1_000, 2_500, 5_000, 10_000] : [10_000, 20_000, 40_000, 60_000, 80_000, 100_000];
  const window = 1_000;
  const rig = await WireRig.start({ kind: 'ours-probed', threads: ctx.threads, nodeFlags: ['--expose-gc'], args: ['--jobs', BENCH_JOBS] });
  const noop = payload('noop');
  const checkpoints: Checkpoint[] = [];
  let maxOutbox = 0;
  let maxLive = 0;
  let tasksPerSec = 0;
  try {
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const r = await rig.probe<Report>('report');
        maxOutbox = Math.max(maxOutbox, r.outbox);
        maxLive = Math.max(maxLive, r.liveTasks);
        await sleep(500);
      }
    })();
    const t0 = performance.now();
    let done = 0;
    let busyMs = 0;
    for (const mark of marks) {
      const b = await rig.batch(mark - done, noop, { window, settleMs: 0 });
      busyMs += b.wallMs;
      done = mark;
      const c = await checkpoint(rig, done);
      checkpoints.push(c);
      ctx.log(`scale: ${fmtCount(done)} tasks, RSS ${(c.rssBytes / 2 ** 20).toFixed(1)} MiB, heap ${(c.heapUsedBytes / 2 ** 20).toFixed(1)} MiB, workers ${c.workerHeapUsedBytes.map((h) => (h / 2 ** 20).toFixed(1)).join('/')} MiB, ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    }
    tasksPerSec = (total * 1000) / busyMs;
    sampling = false;
    await sampler;
    if (rig.failed > 0) throw new Error(`scale: ${rig.failed} tasks failed`);
  } finally {
    await rig.stop();
  }
  const c1 = checkpoints[0]!;
  const c2 = checkpoints.at(-1)!;
  const growth = (c2.rssBytes - c1.rssBytes) / c1.rssBytes;
  const heapGrowth = (c2.heapUsedBytes - c1.heapUsedBytes) / c1.heapUsedBytes;
  const later = checkpoints.slice(1).map((c) => c.rssBytes);

  // Medians over repeats: the reconnect delay is random (up to the backoff maximum).
  const pick = (runs: Resubscribe[]): Resubscribe => runs.sort((a, b) => a.toOutboxEmptyMs - b.toOutboxEmptyMs)[Math.floor((runs.length - 1) / 2)]!;
  const empties: Resubscribe[] = [];
  const fulls: Resubscribe[] = [];
  for (let r = 0; r < (ctx.quick ? 1 : 3); r++) {
    empties.push(await resubscribe(ctx, 0));
    fulls.push(await resubscribe(ctx, 10_000));
  }
  const empty = pick(empties);
  const full = pick(fulls);
  ctx.log(`resubscribe: empty outbox ${fmtMs(empty.toOutboxEmptyMs)}, ${full.unacknowledged} unacknowledged ${fmtMs(full.toOutboxEmptyMs)}`);

  const mib = (b: number): string => `${(b / 2 ** 20).toFixed(1)} MiB`;
  const markdown = [
    table(
      ['after', 'RSS (after GC)', 'main heap used', 'worker heaps used', 'external + array buffers', 'outbox', 'live tasks'],
      checkpoints.map((c) => [
        `${fmtCount(c.tasks)} tasks`,
        mib(c.rssBytes),
        mib(c.heapUsedBytes),
        c.workerHeapUsedBytes.map(mib).join(', '),
        mib(c.externalBytes),
        String(c.outbox),
        String(c.liveTasks),
      ]),
    ),
    '',
    `RSS growth from ${fmtCount(c1.tasks)} to ${fmtCount(c2.tasks)} tasks: **${fmtPct(growth)}** (main heap used: ${fmtPct(heapGrowth)}); ` +
      `RSS range over the checkpoints after the first: ${mib(Math.min(...later))} to ${mib(Math.max(...later))}; ` +
      `${window} tasks in flight at most; largest outbox sampled during the run: ${maxOutbox} updates (${maxLive} live tasks); ${fmtCount(tasksPerSec)} tasks/s.`,
    '',
    table(
      ['resubscribe after an agent restart', 'carried updates', 'SUBSCRIBE calls', '→ first SUBSCRIBE received', '→ last SUBSCRIBE received', '→ SUBSCRIBED', '→ executor outbox empty', 'last SUBSCRIBE → outbox empty'],
      [empty, full].map((r) => [
        r.unacknowledged === 0 ? 'empty outbox (control)' : `${fmtCount(r.unacknowledged)} unacknowledged updates`,
        String(r.carriedUpdates),
        String(r.subscribeCalls),
        fmtMs(r.toFirstSubscribeMs),
        fmtMs(r.toLastSubscribeMs),
        fmtMs(r.toSubscribedMs),
        fmtMs(r.toOutboxEmptyMs),
        fmtMs(r.carryMs),
      ]),
    ),
    '',
    '(Times from the agent serving SUBSCRIBE again after `LocalAgent.restart()` (the 2 s re-registration window opens), median run by total time; `MESOS_SUBSCRIPTION_BACKOFF_MAX` = 2 s, the default. ' +
      'More than one SUBSCRIBE: a backoff attempt superseded a SUBSCRIBE still waiting for its answer, and the agent replayed the carried updates again.)',
  ].join('\n');
  const carryCostMs = full.toOutboxEmptyMs - empty.toOutboxEmptyMs;
  const targets: TargetResult[] = [
    {
      id: 'rss-growth-10k-to-100k',
      target: '< 5 %',
      value: growth,
      measured: `${fmtPct(growth)} (${mib(c1.rssBytes)} → ${mib(c2.rssBytes)})`,
      met: growth < 0.05,
      how: `RSS after a full GC inside the executor after ${fmtCount(c1.tasks)} and ${fmtCount(c2.tasks)} noop tasks, ${window} in flight at most`,
    },
    {
      // Both runs end when the agent's re-registration window does (the LocalAgent, like a real
      // agent, answers the calls of a recovering executor 503 until then, and our probe is such
      // a call): what carrying the updates costs is the difference to the control.
      id: 'resubscribe-10k-unacked',
      target: '≤ 1 s',
      value: carryCostMs,
      measured: `${fmtMs(Math.max(0, carryCostMs))} more than the empty outbox (${fmtMs(full.toOutboxEmptyMs)} vs ${fmtMs(empty.toOutboxEmptyMs)})`,
      met: carryCostMs <= 1000,
      how: `restart() resolved → SUBSCRIBE carrying ${full.unacknowledged} updates → all ACKed and the executor's outbox empty, minus the same with an empty outbox (both wait for the agent's re-registration window; ${full.subscribeCalls} SUBSCRIBE calls; → SUBSCRIBED ${fmtMs(full.toSubscribedMs)} vs ${fmtMs(empty.toSubscribedMs)})`,
    },
  ];
  return { data: { total, window, checkpoints, growth, heapGrowth, maxOutbox, maxLive, tasksPerSec, resubscribe: { empty, full, empties, fulls } }, markdown, targets };
}
