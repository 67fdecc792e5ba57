// The reliability soak: the real executor process (our CLI: driver + pool + worker threads) under
// a LocalAgent that restarts again and again while thousands of tasks of mixed jobs (worker
// faults included) run, with ACKs withheld around the restarts and 503 storms on UPDATE. At the
// end it checks, task by task, what Mesos promises: exactly one terminal update, accepted and
// acknowledged; no update lost; none applied twice; nothing left running; and that the executor's
// memory stayed bounded. `npm run soak` runs the full size (test/soak/run.ts); the integration
// test test/integration/reliability-soak.test.ts runs a short one.
//
// What "lost" means, observably: the pool sends, for every task it accepts, TASK_STARTING, then
// TASK_RUNNING once a worker starts the job (the fault jobs all start), then one terminal update;
// TASK_ERROR alone for a refused payload. So a lost update shows as a task whose accepted statuses
// are not exactly that sequence (or that never ends). On top, the executor itself logs at shutdown
// whether every update it recorded was acknowledged ("shutdown complete", acknowledged: true):
// its view and the agent's must agree.
//
// Launches: LocalAgent follows upstream: a LAUNCH written into a stream that dies before the
// executor reads it is lost, and the task becomes TASK_LOST (agent-made, REASON_AGENT_RESTARTED)
// at the next SUBSCRIBE unless the executor lists it. The soak launches only while the agent sees
// the executor subscribed, so this happens only when a restart races a launch. Such tasks are
// counted apart ("lost launches"), checked to have had no executor update at all (else the
// executor failed to list a task it had), and relaunched under a new id, as a scheduler would.
import { seededRandom } from '../helpers/fake-clock.js';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { LocalAgent, type ExecutorHandle } from '../../src/agent/index.js';
import type { ContentType } from '../../src/protocol/codec.js';
import { isTerminalState, type TaskState, type TaskStatus } from '../../src/proto/types.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const FAULT_JOBS = fileURLToPath(new URL('../fixtures/jobs/faults.js', import.meta.url));

export interface SoakOptions {
  /** Tasks to run to the end (relaunches of lost launches not counted). */
  tasks: number;
  /** Agent restarts spread over the run. */
  restarts: number;
  threads: number;
  seed: number;
  contentType?: ContentType;
  /** Connection-refused time of each restart, uniform in [min, max] ms. Default [100, 2000]. */
  downMs?: readonly [number, number];
  /** 503-to-everything time after each restart. Default [0, 300]. */
  recoverMs?: readonly [number, number];
  /**
   * The re-registration window after that (SUBSCRIBE-only; an executor not back by its end is
   * killed). Default [2000, 2500]: the agent's default `--executor_reregistration_timeout` is
   * 2 s, and an executor whose SUBSCRIBE met the recovery's 503 sends the next one 1 s later, as
   * upstream's executors do, so a shorter window is one a loaded machine can miss.
   */
  reregisterMs?: readonly [number, number];
  /** Normal operation between restarts. Default [300, 900]. */
  gapMs?: readonly [number, number];
  /** Most tasks launched and not yet ended. Default 400. */
  maxInFlight?: number;
  /** Give up (and report) after this long. Default 9 minutes. */
  timeoutMs?: number;
  /** Progress lines. */
  log?: (line: string) => void;
}

/** How a task was meant to end. */
type Expect = 'TASK_FINISHED' | 'TASK_FAILED' | 'TASK_KILLED' | 'TASK_ERROR' | 'FINISHED_OR_KILLED';

interface JobKind {
  readonly name: string;
  readonly weight: number;
  readonly expect: Expect;
  readonly data: (rng: () => number) => Buffer;
  readonly memMb?: number;
  /** Killed by the soak: once RUNNING ('running'), or at a random moment after launch ('race'). */
  readonly kill?: 'running' | 'race';
  readonly reason?: string;
}

const json = (job: string, input?: unknown): Buffer => Buffer.from(JSON.stringify(input === undefined ? { job } : { job, input }));

/** The job mix: mostly work, a few percent worker faults, bad payloads, kills and kill races. */
export const JOB_MIX: readonly JobKind[] = [
  { name: 'noop', weight: 300, expect: 'TASK_FINISHED', data: () => json('noop') },
  { name: 'primes', weight: 200, expect: 'TASK_FINISHED', data: (r) => json('primes', { limit: 1000 + Math.floor(r() * 20_000) }) },
  { name: 'sha256', weight: 100, expect: 'TASK_FINISHED', data: () => json('sha256', { bytes: 1024, rounds: 20 }) },
  { name: 'sleep', weight: 100, expect: 'TASK_FINISHED', data: (r) => json('sleep', { ms: 1 + Math.floor(r() * 20) }) },
  { name: 'echo', weight: 60, expect: 'TASK_FINISHED', data: (r) => json('echo', { n: r(), s: 'ü€😀' }) },
  { name: 'fail', weight: 40, expect: 'TASK_FAILED', data: () => json('fail', { message: 'soak failure' }) },
  { name: 'throws', weight: 30, expect: 'TASK_FAILED', data: () => json('throws', { message: 'soak throw' }) },
  { name: 'exits', weight: 12, expect: 'TASK_FAILED', data: () => json('exits') },
  { name: 'asyncThrow', weight: 12, expect: 'TASK_FAILED', data: () => json('asyncThrow') },
  { name: 'oom', weight: 5, expect: 'TASK_FAILED', data: () => json('oom'), memMb: 32, reason: 'REASON_CONTAINER_LIMITATION_MEMORY' },
  { name: 'nonCloneable', weight: 8, expect: 'TASK_FAILED', data: () => json('nonCloneable') },
  { name: 'hang', weight: 10, expect: 'TASK_KILLED', data: () => json('hang'), kill: 'running' },
  { name: 'cooperative', weight: 15, expect: 'TASK_KILLED', data: () => json('cooperative'), kill: 'running' },
  { name: 'kill-race', weight: 40, expect: 'FINISHED_OR_KILLED', data: (r) => json('sleep', { ms: Math.floor(r() * 40) }), kill: 'race' },
  { name: 'bad-payload', weight: 25, expect: 'TASK_ERROR', data: (r) => BAD[Math.floor(r() * BAD.length)]! },
];

const BAD: readonly Buffer[] = [
  Buffer.from([0x7b, 0xff, 0xfe, 0x7d]),
  Buffer.from('{"job": '),
  Buffer.from('[1,2]'),
  json('../x'),
  json('node:fs'),
  json('__proto__'),
  Buffer.from('{"job":"noop","__proto__":{"polluted":true}}'),
];

interface Tracked {
  readonly id: string;
  readonly kind: JobKind;
  readonly launchedAt: number;
  killAt: number | undefined;
  lastKillAt: number;
  killsSent: number;
  executorUpdates: number;
  ended: boolean;
}

export interface RssSample {
  readonly atMs: number;
  readonly rssMb: number;
}

export interface SoakReport {
  readonly ok: boolean;
  readonly violations: string[];
  readonly durationMs: number;
  readonly tasks: number;
  readonly restarts: number;
  readonly lostLaunches: number;
  readonly byState: Record<string, number>;
  readonly byKind: Record<string, Record<string, number>>;
  readonly faultsInjected: number;
  readonly failedFromFaults: number;
  readonly killsSent: number;
  readonly agent: Record<string, number>;
  readonly acksWithheldWindows: number;
  readonly storms503: number;
  readonly executorExit: { code: number | null; signal: string | null } | undefined;
  readonly executorAcknowledgedAll: boolean | undefined;
  readonly rss: { firstMb: number; peakMb: number; lastMb: number; samples: number };
  readonly lostUpdates: number;
  readonly duplicatedUpdates: number;
  readonly nonTerminal: number;
}


const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function readRssMb(pid: number): number | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    return match === null ? undefined : Number(match[1]) / 1024;
  } catch {
    return undefined;
  }
}

const FAULT_KINDS = new Set(['fail', 'throws', 'exits', 'asyncThrow', 'oom', 'nonCloneable']);

/** Runs the soak. Resolves with the report (never throws for a violated invariant: see `ok`). */
export async function runSoak(options: SoakOptions): Promise<SoakReport> {
  const started = performance.now();
  const rng = seededRandom(options.seed);
  const between = (range: readonly [number, number]): number => range[0] + Math.floor(rng() * (range[1] - range[0] + 1));
  const log = options.log ?? (() => {});
  const downMs = options.downMs ?? [100, 2000];
  const recoverMs = options.recoverMs ?? [0, 300];
  const reregisterMs = options.reregisterMs ?? [2000, 2500];
  const gapMs = options.gapMs ?? [300, 900];
  const maxInFlight = options.maxInFlight ?? 400;
  const deadline = started + (options.timeoutMs ?? 9 * 60_000);
  const violations: string[] = [];
  const violation = (text: string): void => {
    if (violations.length < 50) violations.push(text);
    else if (violations.length === 50) violations.push('… (more violations not listed)');
  };

  const agent = new LocalAgent({
    frameworkInfo: { checkpoint: true },
    subscriptionBackoffMaxMs: 250,
    shutdownGracePeriodMs: 15_000,
    heartbeatIntervalMs: 500,
    recordCalls: false,
    recordStatuses: true,
  });
  await agent.start();

  const tracked = new Map<string, Tracked>();
  const ackedUuids = new Set<string>();
  let lostLaunches = 0;
  let duplicatedUpdates = 0;
  let ended = 0;
  const relaunch: JobKind[] = [];

  agent.on('statusUpdate', (info) => {
    const t = tracked.get(info.taskId);
    if (t === undefined) return;
    if (info.source !== 'agent') t.executorUpdates++;
  });
  agent.on('acknowledged', (info) => {
    if (info.delivered) ackedUuids.add(Buffer.from(info.uuid).toString('hex'));
  });
  agent.on('taskTerminal', ({ taskId, status }) => {
    const t = tracked.get(taskId);
    if (t === undefined || t.ended) return;
    t.ended = true;
    ended++;
    if (status.source === 'SOURCE_AGENT') {
      if (status.state === 'TASK_LOST' && status.reason === 'REASON_AGENT_RESTARTED') {
        lostLaunches++;
        relaunch.push(t.kind);
      } else {
        violation(`${taskId}: agent-made ${String(status.state)} (${String(status.reason)})`);
      }
    }
  });

  let handle: ExecutorHandle | undefined;
  const rss: RssSample[] = [];
  let rssTimer: NodeJS.Timeout | undefined;
  let killTimer: NodeJS.Timeout | undefined;
  let restartsDone = 0;
  let withheldWindows = 0;
  let storms = 0;
  let killsSent = 0;
  let launchedOriginal = 0;
  let seq = 0;
  let executorAcknowledgedAll: boolean | undefined;
  let exit: { code: number | null; signal: string | null } | undefined;

  const totalWeight = JOB_MIX.reduce((s, k) => s + k.weight, 0);
  const pick = (): JobKind => {
    let x = rng() * totalWeight;
    for (const k of JOB_MIX) {
      x -= k.weight;
      if (x < 0) return k;
    }
    return JOB_MIX[0]!;
  };

  const launch = (kind: JobKind): void => {
    const id = `soak-${++seq}-${kind.name}`;
    const now = performance.now();
    tracked.set(id, {
      id,
      kind,
      launchedAt: now,
      killAt: kind.kill === 'race' ? now + Math.floor(rng() * 40) : undefined,
      lastKillAt: -Infinity,
      killsSent: 0,
      executorUpdates: 0,
      ended: false,
    });
    agent.launchTask({
      task_id: id,
      data: kind.data(rng),
      ...(kind.memMb !== undefined ? { resources: [{ name: 'mem', type: 'SCALAR', scalar: { value: kind.memMb } }] } : {}),
    });
  };

  try {
    handle = await agent.launchExecutor({
      command: process.execPath,
      args: [MAIN, '--threads', String(options.threads), '--jobs', FAULT_JOBS, '--log-level', 'info', ...(options.contentType === 'application/json' ? ['--content-type', 'json'] : [])],
      maxOutputBytes: 16 * 1024 * 1024,
    });
    const pid = handle.pid;
    rssTimer = setInterval(() => {
      const mb = readRssMb(pid);
      if (mb !== undefined) rss.push({ atMs: performance.now() - started, rssMb: mb });
    }, 250);
    const first = Date.now();
    while (!agent.subscribed) {
      if (!handle.alive) throw new Error(`the executor exited before subscribing: ${handle.stderr}`);
      if (Date.now() - first > 20_000) throw new Error('the executor did not subscribe within 20 s');
      await sleep(10);
    }

    // Kills: 'running' kinds once the agent saw TASK_RUNNING; races at their moment. A KILL
    // written into a dead stream is lost (as upstream), so a task not ended is killed again.
    killTimer = setInterval(() => {
      if (!agent.subscribed) return;
      const now = performance.now();
      for (const t of tracked.values()) {
        if (t.ended || t.kind.kill === undefined || now - t.lastKillAt < 1000) continue;
        if (t.kind.kill === 'race' ? now < t.killAt! : agent.task(t.id)?.state !== 'TASK_RUNNING') continue;
        t.lastKillAt = now;
        if (agent.killTask(t.id, { grace_period: { nanoseconds: t.kind.name === 'hang' ? 0 : 50_000_000 } })) {
          t.killsSent++;
          killsSent++;
        }
      }
    }, 20);

    // The launcher: only while subscribed, at most maxInFlight live, paced over the restarts.
    const launcher = (async () => {
      while (launchedOriginal < options.tasks || relaunch.length > 0 || ended < tracked.size) {
        if (performance.now() > deadline) return;
        const paced = options.restarts === 0 ? options.tasks : Math.ceil(((restartsDone + 1) / (options.restarts + 1)) * options.tasks);
        const inFlight = tracked.size - ended;
        if (!agent.subscribed || inFlight >= maxInFlight) {
          await sleep(5);
          continue;
        }
        let batch = 0;
        while (batch < 25 && relaunch.length > 0) {
          launch(relaunch.shift()!);
          batch++;
        }
        while (batch < 25 && launchedOriginal < Math.min(paced, options.tasks) && tracked.size - ended < maxInFlight) {
          launch(pick());
          launchedOriginal++;
          batch++;
        }
        await sleep(batch === 0 ? 10 : 2);
      }
    })();

    // The restarts.
    for (let k = 0; k < options.restarts; k++) {
      if (performance.now() > deadline) break;
      await sleep(between(gapMs));
      if (rng() < 0.2) {
        agent.respondStatus(503, 5 + Math.floor(rng() * 40), { calls: 'update' });
        storms++;
      }
      agent.withholdAcks(true);
      withheldWindows++;
      await sleep(between([0, 300]));
      const down = between(downMs);
      await agent.restart({ downMs: down, recoverMs: between(recoverMs), reregisterMs: between(reregisterMs) });
      restartsDone++;
      // Keep withholding a while after the restart; then deliver the held ACKs or drop them
      // (dropped ones come back through the next SUBSCRIBE's replay; the last restart delivers).
      await sleep(between([0, 300]));
      const last = k === options.restarts - 1;
      agent.withholdAcks(false, { deliver: last || rng() < 0.5 });
      agent.clearFaults();
      if (k % 10 === 9 || last) {
        log(`restart ${restartsDone}/${options.restarts}: ${ended}/${options.tasks} tasks ended, ${agent.counters.subscribes} subscribes, rss ${rss.at(-1)?.rssMb.toFixed(0) ?? '?'} MB`);
      }
    }
    agent.withholdAcks(false, { deliver: true });
    await launcher;
    if (ended < tracked.size) violation(`timed out with ${tracked.size - ended} tasks not ended`);

    // Every update the executor recorded must be acknowledged: it says so when it shuts down.
    const exited = await agent.shutdownExecutor();
    exit = exited === undefined ? undefined : { code: exited.code, signal: exited.signal };
    // The pool logs "not every status update was acknowledged in time" when its wait at
    // shutdown ends with updates still unacknowledged (its "shutdown complete" line is lost to
    // the CLI's process.exit, see the report). So: it shut down, and did not say that.
    const stderr = handle.stderr;
    executorAcknowledgedAll = stderr.includes('"msg":"shutting down"') && !stderr.includes('not every status update was acknowledged');
  } finally {
    if (rssTimer !== undefined) clearInterval(rssTimer);
    if (killTimer !== undefined) clearInterval(killTimer);
  }

  // ---- the invariants, task by task ----
  const byState: Record<string, number> = {};
  const byKind: Record<string, Record<string, number>> = {};
  let lostUpdates = 0;
  let nonTerminal = 0;
  let faultsInjected = 0;
  let failedFromFaults = 0;
  for (const t of tracked.values()) {
    const statuses: readonly TaskStatus[] = agent.task(t.id)?.statuses ?? [];
    const last = statuses.at(-1);
    const state = String(last?.state ?? 'none');
    byState[state] = (byState[state] ?? 0) + 1;
    (byKind[t.kind.name] ??= {})[state] = (byKind[t.kind.name]![state] ?? 0) + 1;
    if (last?.source === 'SOURCE_AGENT') {
      // A lost launch (relaunched); anything else agent-made was reported when it happened.
      if (last.state === 'TASK_LOST' && t.executorUpdates > 0) {
        violation(`${t.id}: TASK_LOST by the agent although the executor had sent ${t.executorUpdates} updates for it`);
      }
      continue;
    }
    const problems = checkTaskStatuses(t.kind.name, statuses);
    for (const problem of problems) {
      violation(`${t.id}: ${problem}`);
      if (problem.includes('applied twice')) duplicatedUpdates++;
      else if (problem.includes('never ended')) nonTerminal++;
      else if (problem.includes('are not')) lostUpdates++;
    }
    if (FAULT_KINDS.has(t.kind.name)) {
      faultsInjected++;
      if (last?.state === 'TASK_FAILED') failedFromFaults++;
    }
    const lastUuid = last?.uuid === undefined ? '' : Buffer.from(last.uuid).toString('hex');
    if (last !== undefined && isTerminalState(last.state) && !ackedUuids.has(lastUuid)) {
      violation(`${t.id}: terminal update never acknowledged on a live stream`);
    }
  }
  const counters = agent.counters;
  for (const name of ['dropped', 'ignored', 'unknownTask', 'rejected'] as const) {
    if (counters[name] !== 0) violation(`agent counter ${name} = ${counters[name]}, expected 0`);
  }
  if (failedFromFaults !== faultsInjected) violation(`${faultsInjected} faults injected but ${failedFromFaults} TASK_FAILED from them`);
  if (restartsDone !== options.restarts) violation(`only ${restartsDone} of ${options.restarts} restarts happened`);
  if (exit?.code !== 0) violation(`executor exit ${JSON.stringify(exit)}`);
  if (executorAcknowledgedAll !== true) violation(`the executor did not report every update acknowledged at shutdown (${String(executorAcknowledgedAll)})`);
  const finishedTasks = [...tracked.values()].filter((t) => t.ended && agent.task(t.id)?.statuses.at(-1)?.source !== 'SOURCE_AGENT').length;
  if (finishedTasks !== options.tasks) violation(`${finishedTasks} tasks ran to an executor-made end, expected ${options.tasks}`);

  const rssMbs = rss.map((s) => s.rssMb);
  const rssReport = {
    firstMb: Math.round(rssMbs[0] ?? 0),
    peakMb: Math.round(Math.max(0, ...rssMbs)),
    lastMb: Math.round(rssMbs.at(-1) ?? 0),
    samples: rssMbs.length,
  };
  await agent.stop();
  return {
    ok: violations.length === 0,
    violations,
    durationMs: Math.round(performance.now() - started),
    tasks: finishedTasks,
    restarts: restartsDone,
    lostLaunches,
    byState,
    byKind,
    faultsInjected,
    failedFromFaults,
    killsSent,
    agent: { ...counters } as unknown as Record<string, number>,
    acksWithheldWindows: withheldWindows,
    storms503: storms,
    executorExit: exit,
    executorAcknowledgedAll,
    rss: rssReport,
    lostUpdates,
    duplicatedUpdates,
    nonTerminal,
  };
}

/**
 * The problems (empty: none) with the statuses the agent accepted for one task of the job kind
 * `kindName` (see JOB_MIX): applied twice (a uuid twice, two terminal updates), never ended, an
 * update after the terminal one, the wrong end, or a sequence with an update missing.
 */
export function checkTaskStatuses(kindName: string, statuses: ReadonlyArray<Pick<TaskStatus, 'state' | 'uuid' | 'reason' | 'message'>>): string[] {
  const kind = JOB_MIX.find((k) => k.name === kindName);
  if (kind === undefined) return [`unknown job kind ${kindName}`];
  const problems: string[] = [];
  const states = statuses.map((s) => s.state);
  const uuids = statuses.map((s) => (s.uuid === undefined ? '' : Buffer.from(s.uuid).toString('hex')));
  const terminal = statuses.filter((s) => isTerminalState(s.state));
  if (new Set(uuids).size !== uuids.length || terminal.length > 1) problems.push(`applied twice: ${states.join(',')}`);
  const last = statuses.at(-1);
  if (terminal.length === 0 || last === undefined) {
    problems.push(`(${kind.name}) never ended: ${states.join(',')}`);
    return problems;
  }
  if (!isTerminalState(last.state)) problems.push(`an update after the terminal one: ${states.join(',')}`);
  const expected = expectedStates(kind, last.state);
  if (expected === undefined) {
    problems.push(`(${kind.name}) ended ${String(last.state)}, expected ${kind.expect} (${last.message ?? ''})`);
  } else if (terminal.length === 1 && !sequenceMatches(states, expected)) {
    problems.push(`(${kind.name}) statuses ${states.join(',')} are not ${expected.join(',')}`);
  }
  if (kind.reason !== undefined && last.reason !== kind.reason) problems.push(`reason ${String(last.reason)}, expected ${kind.reason}`);
  return problems;
}

/**
 * The statuses a task of this kind must have had, for the terminal state it reached
 * (undefined: that state is wrong for the kind). `R*` stands for any number of TASK_RUNNING.
 */
function expectedStates(kind: JobKind, terminal: TaskState | number): Array<TaskState | 'R*' | 'R+'> | undefined {
  if (kind.expect === 'TASK_ERROR') return terminal === 'TASK_ERROR' ? ['TASK_ERROR'] : undefined;
  if (kind.expect === 'FINISHED_OR_KILLED') {
    // Killed before a worker took it: STARTING, KILLED. After: STARTING, RUNNING…, KILLED.
    if (terminal === 'TASK_FINISHED') return ['TASK_STARTING', 'R+', 'TASK_FINISHED'];
    if (terminal === 'TASK_KILLED') return ['TASK_STARTING', 'R*', 'TASK_KILLED'];
    return undefined;
  }
  if (terminal !== kind.expect) return undefined;
  // Every other kind is started by a worker before it ends (kills are sent once RUNNING).
  return ['TASK_STARTING', 'R+', terminal];
}

function sequenceMatches(states: ReadonlyArray<TaskState | number>, expected: ReadonlyArray<TaskState | 'R*' | 'R+'>): boolean {
  let i = 0;
  for (const step of expected) {
    if (step === 'R*' || step === 'R+') {
      let n = 0;
      while (states[i] === 'TASK_RUNNING') {
        i++;
        n++;
      }
      if (step === 'R+' && n === 0) return false;
    } else {
      if (states[i] !== step) return false;
      i++;
    }
  }
  return i === states.length;
}

/** The report as the lines `npm run soak` prints. */
export function formatReport(r: SoakReport, fuzzCases?: number): string {
  const lines = [
    `soak: ${r.ok ? 'OK' : 'FAILED'} in ${(r.durationMs / 1000).toFixed(1)} s`,
    `  tasks run          ${r.tasks} (plus ${r.lostLaunches} lost launches relaunched)`,
    `  restarts survived  ${r.restarts} (ACKs withheld around each; ${r.storms503} UPDATE 503 storms)`,
    `  final states       ${Object.entries(r.byState).map(([s, n]) => `${s} ${n}`).join(', ')}`,
    `  worker faults      ${r.faultsInjected} injected → ${r.failedFromFaults} TASK_FAILED; ${r.byKind['hang']?.['TASK_KILLED'] ?? 0} hung jobs killed; ${r.killsSent} KILLs sent`,
    `  by job             ${Object.entries(r.byKind).map(([k, states]) => `${k} ${Object.entries(states).map(([s, n]) => `${s.replace('TASK_', '')}:${n}`).join('/')}`).join(', ')}`,
    `  agent              ${r.agent['accepted']} updates accepted, ${r.agent['updatesReplayed']} replayed via SUBSCRIBE, ${r.agent['duplicates']} duplicates deduplicated, ${r.agent['acksDropped']} ACKs lost to restarts, ${r.agent['subscribes']} SUBSCRIBEs`,
    `  lost               ${r.lostUpdates}`,
    `  duplicated         ${r.duplicatedUpdates}`,
    `  non-terminal       ${r.nonTerminal}`,
    `  executor           exit ${JSON.stringify(r.executorExit)}, every update acknowledged at shutdown: ${String(r.executorAcknowledgedAll)}`,
    `  executor RSS       first ${r.rss.firstMb} MB, peak ${r.rss.peakMb} MB, last ${r.rss.lastMb} MB (${r.rss.samples} samples)`,
  ];
  if (fuzzCases !== undefined) lines.push(`  fuzz cases         ${fuzzCases}`);
  for (const v of r.violations) lines.push(`  VIOLATION ${v}`);
  return lines.join('\n');
}
