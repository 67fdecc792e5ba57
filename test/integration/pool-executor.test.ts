import { availableParallelism } from 'node:os';
// PoolExecutor with REAL worker threads against an in-process stub driver.
// Pools are small (2 threads: the CI machine has 2 cores) and jobs short.
import { strict as assert } from 'node:assert';
import { readdirSync, readFileSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import { BroadcastChannel } from 'node:worker_threads';
import { MesosExecutorError } from '../../src/errors.js';
import { PoolExecutor, type PoolExecutorEvents, type PoolExecutorOptions } from '../../src/pool/index.js';
import type { FrameworkInfo, TaskInfo } from '../../src/proto/types.js';
import { isTerminalState } from '../../src/proto/types.js';
import { MAX_MESSAGE_BYTES } from '../../src/protocol/utf8.js';
import { MAX_TIMER_DELAY_MS } from '../../src/clock.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { StubDriver } from '../helpers/stub-driver.js';
import { jobTask, killPolicy, task } from '../helpers/pool-tasks.js';
import { waitFor } from '../helpers/wait.js';

const FAULTS = new URL('../fixtures/jobs/faults.js', import.meta.url);
const CONFLICT = new URL('../fixtures/jobs/conflict.js', import.meta.url);
const BROKEN = new URL('../fixtures/jobs/broken.js', import.meta.url);
const TEXT = new URL('../fixtures/jobs/text.js', import.meta.url);
const SLOW_START = new URL('../fixtures/jobs/slow-start.js', import.meta.url);
const HOSTILE = new URL('../fixtures/jobs/hostile.js', import.meta.url);

const live = new Set<PoolExecutor>();
after(async () => {
  await Promise.all([...live].map((e) => e.destroy()));
});

type Recorded = { [K in keyof PoolExecutorEvents]: { event: K; info: Parameters<PoolExecutorEvents[K]>[0] } }[keyof PoolExecutorEvents];

interface Harness {
  readonly executor: PoolExecutor;
  readonly driver: StubDriver;
  readonly events: Recorded[];
  eventsOf<K extends keyof PoolExecutorEvents>(name: K): Array<Parameters<PoolExecutorEvents[K]>[0]>;
  /** Waits for the task's terminal update and returns it. */
  ended(taskId: string, timeoutMs?: number): Promise<NonNullable<ReturnType<StubDriver['terminal']>>>;
  running(taskId: string): Promise<void>;
  text(data: Uint8Array | undefined): string | undefined;
}

const EVENT_NAMES: Array<keyof PoolExecutorEvents> = [
  'taskAccepted', 'taskRejected', 'taskStarted', 'progress', 'taskEnded', 'killEscalated',
  'workerReplaced', 'frameworkMessage', 'frameworkMessageDropped', 'statusUpdate', 'shutdownStarted', 'shutdownCompleted',
];

/** Pool options, plus the shutdown grace period, which is the driver's (as the agent gives it). */
type HarnessOptions = PoolExecutorOptions & { readonly shutdownGracePeriodMs?: number };

async function harness(options: HarnessOptions = {}, frameworkInfo?: FrameworkInfo): Promise<Harness> {
  const { shutdownGracePeriodMs, ...poolOptions } = options;
  const executor = await PoolExecutor.create({ threads: 2, jobs: [FAULTS], ...poolOptions });
  live.add(executor);
  const driver = new StubDriver(shutdownGracePeriodMs !== undefined ? { shutdownGracePeriodMs } : {});
  const events: Recorded[] = [];
  for (const name of EVENT_NAMES) {
    executor.on(name, ((info: unknown) => events.push({ event: name, info } as Recorded)) as never);
  }
  executor.registered(driver, { executor_id: { value: 'e1' } }, frameworkInfo ?? { user: 'u', name: 'f' }, { hostname: 'h' });
  return {
    executor,
    driver,
    events,
    eventsOf: <K extends keyof PoolExecutorEvents>(name: K) =>
      events.filter((e) => e.event === name).map((e) => e.info as Parameters<PoolExecutorEvents[K]>[0]),
    ended: (taskId, timeoutMs = 5_000) => waitFor(() => driver.terminal(taskId), { timeoutMs, what: `a terminal update for ${taskId}` }),
    running: async (taskId) => {
      await waitFor(() => driver.states(taskId).includes('TASK_RUNNING'), { what: `${taskId} to run` });
    },
    text: (data) => (data === undefined ? undefined : Buffer.from(data).toString('utf8')),
  };
}

async function close(h: Harness): Promise<void> {
  await h.executor.destroy();
  live.delete(h.executor);
}

const KILLING_CAPABLE: FrameworkInfo = { user: 'u', name: 'f', capabilities: [{ type: 'TASK_KILLING_STATE' }] };

describe('PoolExecutor: concurrency that follows the Mesos resources', () => {
  const cores = availableParallelism();

  it('without threads, every task whose cpus were allocated runs at once, however many cores the host has', async () => {
    const h = await harness({ threads: undefined });
    try {
      const n = cores + 2;
      for (let i = 0; i < n; i++) h.executor.launchTask(h.driver, jobTask(`c${i}`, 'sleep', { ms: 60_000 }, { cpus: 1 }));
      for (let i = 0; i < n; i++) await h.running(`c${i}`);
      assert.equal(h.executor.queued, 0, 'nothing waits in the queue');
      assert.equal(h.executor.threads, n);
      // As tasks end, the concurrency falls back to what the live tasks were given, never below the cores.
      h.executor.killTask(h.driver, { value: 'c0' }, killPolicy(0));
      await h.ended('c0');
      assert.equal(h.executor.threads, Math.max(cores, n - 1));
    } finally {
      await close(h);
    }
  });

  it('a task whose cpus were allocated is never refused for a full queue: it does not wait in it', async () => {
    // With no room in the queue at all, every launch must be taken by a thread at once: the
    // admission counts the threads the launched task's own cpus give, as the dispatch does.
    const h = await harness({ threads: undefined, maxQueuedTasks: 0 });
    try {
      const n = cores + 2;
      for (let i = 0; i < n; i++) h.executor.launchTask(h.driver, jobTask(`q${i}`, 'sleep', { ms: 60_000 }, { cpus: 1 }));
      for (let i = 0; i < n; i++) await h.running(`q${i}`);
      assert.deepEqual(h.eventsOf('taskRejected'), []);
      // Past the allocation, the queue bound still refuses: a task without cpus needs a free thread.
      h.executor.launchTask(h.driver, jobTask('extra', 'sleep', { ms: 60_000 }));
      assert.equal((await h.ended('extra')).state, 'TASK_LOST');
    } finally {
      await close(h);
    }
  });

  it('the executor cpus count too, fractions are added before rounding up, and maxThreads caps it', async () => {
    const h = await harness({ threads: undefined, maxThreads: cores + 1 });
    try {
      h.executor.registered(h.driver, { executor_id: { value: 'e1' }, resources: [{ name: 'cpus', type: 'SCALAR', scalar: { value: 0.1 } }] }, { user: 'u', name: 'f' }, { hostname: 'h' });
      for (let i = 0; i < cores * 5; i++) h.executor.launchTask(h.driver, jobTask(`f${i}`, 'sleep', { ms: 60_000 }, { cpus: 0.2 }));
      // 0.1 + cores × 5 × 0.2 = cores + 0.1 cpus → cores + 1 at once, the cap.
      await waitFor(() => h.executor.running === cores + 1, { what: 'cores + 1 tasks in flight' });
      assert.equal(h.executor.threads, cores + 1);
      assert.equal(h.executor.queued, cores * 5 - cores - 1);
    } finally {
      await close(h);
    }
  });

  it('a fixed threads keeps its size, whatever the cpus', async () => {
    const h = await harness({ threads: 1 });
    try {
      h.executor.launchTask(h.driver, jobTask('x1', 'sleep', { ms: 60_000 }, { cpus: 1 }));
      h.executor.launchTask(h.driver, jobTask('x2', 'sleep', { ms: 60_000 }, { cpus: 1 }));
      await h.running('x1');
      assert.equal(h.executor.queued, 1);
      assert.equal(h.executor.threads, 1);
    } finally {
      await close(h);
    }
  });
});

describe('PoolExecutor: running tasks', () => {
  it('a freed thread gets the next queued task before the last one is reported (no idle gap for our update)', async () => {
    const h = await harness({ threads: 1 });
    try {
      const atFinished: Array<{ busyThreads: number; queued: number }> = [];
      h.driver.onUpdate((update) => {
        if (update.task_id.value === 'first' && update.state === 'TASK_FINISHED') atFinished.push({ busyThreads: h.executor.busyThreads, queued: h.executor.queued });
      });
      h.executor.launchTask(h.driver, jobTask('first', 'noop'));
      h.executor.launchTask(h.driver, jobTask('second', 'noop'));
      assert.equal((await h.ended('second')).state, 'TASK_FINISHED');
      // When the first task's TASK_FINISHED went out, the second was already on the thread.
      assert.deepEqual(atFinished, [{ busyThreads: 1, queued: 0 }]);
    } finally {
      await close(h);
    }
  });

  it("but a group member's end is reported first: a member killed by it never starts", async () => {
    const h = await harness({ threads: 1 });
    try {
      h.executor.launchTaskGroup(h.driver, [jobTask('g1', 'fail', { message: 'no' }), jobTask('g2', 'noop')]);
      const g2 = await h.ended('g2');
      assert.equal(g2.state, 'TASK_KILLED');
      assert.deepEqual(h.driver.states('g2'), ['TASK_STARTING', 'TASK_KILLED'], 'killed in the queue: never RUNNING');
      assert.match(g2.message!, /before it started$/);
    } finally {
      await close(h);
    }
  });

  it('a quick task: STARTING, RUNNING, FINISHED with the JSON result, and its events', async () => {
    const h = await harness();
    try {
      assert.equal(h.executor.launchTask(h.driver, jobTask('t1', 'primes', { limit: 1000 })), undefined);
      const end = await h.ended('t1');
      assert.deepEqual(h.driver.states('t1'), ['TASK_STARTING', 'TASK_RUNNING', 'TASK_FINISHED']);
      assert.equal(h.text(end.data), '{"limit":1000,"count":168}');
      assert.deepEqual(h.eventsOf('taskAccepted'), [{ taskId: 't1', job: 'primes' }]);
      assert.equal(h.eventsOf('taskStarted')[0]!.taskId, 't1');
      const [ended] = h.eventsOf('taskEnded');
      assert.equal(ended!.state, 'TASK_FINISHED');
      assert.ok(ended!.durationMs >= 0);
      assert.equal(h.executor.running, 0);
      assert.equal(h.executor.queued, 0);
      assert.equal(h.executor.threads, 2);
      assert.deepEqual(h.executor.jobs.slice(0, 3), ['asyncThrow', 'big', 'chatty']);
    } finally {
      await close(h);
    }
  });

  it('more CPU tasks than threads: launchTask returns at once with STARTING sent, at most 2 run at a time, all finish', async () => {
    const h = await harness();
    try {
      let concurrent = 0;
      let peak = 0;
      h.executor.on('taskStarted', () => {
        concurrent++;
        peak = Math.max(peak, concurrent);
      });
      h.executor.on('taskEnded', () => concurrent--);
      const ids = ['c1', 'c2', 'c3', 'c4', 'c5', 'c6'];
      for (const id of ids) {
        h.executor.launchTask(h.driver, jobTask(id, 'spin', { ms: 60 }));
        // Synchronously, before any await: STARTING is already with the driver.
        assert.deepEqual(h.driver.states(id), ['TASK_STARTING']);
      }
      assert.equal(h.executor.running, 2);
      assert.equal(h.executor.queued, 4);
      for (const id of ids) assert.equal((await h.ended(id)).state, 'TASK_FINISHED');
      assert.ok(peak <= 2, `peak concurrency ${peak}`);
      for (const started of h.eventsOf('taskStarted').slice(2)) assert.ok(started.queueWaitMs > 0);
    } finally {
      await close(h);
    }
  });

  it('a task with a mem resource runs on a worker of that heap limit', async () => {
    const h = await harness();
    try {
      h.executor.launchTask(h.driver, jobTask('m1', 'primes', { limit: 100 }, { memMb: 48 }));
      assert.equal((await h.ended('m1')).state, 'TASK_FINISHED');
    } finally {
      await close(h);
    }
  });

  it('60 distinct mem values make a few heap-limit pools, and idle ones are closed: the threads stay bounded', async () => {
    const h = await harness({ threads: 2 });
    try {
      const ids: string[] = [];
      for (let mem = 64; mem < 124; mem++) {
        ids.push(`mem${mem}`);
        h.executor.launchTask(h.driver, jobTask(`mem${mem}`, 'noop', undefined, { memMb: mem }));
      }
      for (const id of ids) assert.equal((await h.ended(id, 20_000)).state, 'TASK_FINISHED');
      // 64…123 MB round down to 4 buckets (64, 80, 96, 112); 2 of them are kept idle.
      assert.ok(h.executor.memoryPools <= 2, `${h.executor.memoryPools} memory pools`);
      // The shared pool's 2 threads, and at most 2 threads in each idle pool kept.
      await waitFor(() => h.executor.liveThreads <= 6, { what: `at most 6 live threads (${h.executor.liveThreads})` });
    } finally {
      await close(h);
    }
  });

  it('an input with __proto__ keys reaches the job as plain data and pollutes nothing', async () => {
    const h = await harness();
    try {
      h.executor.launchTask(h.driver, task('p1', '{"job":"echo","input":{"__proto__":{"polluted":true},"a":1}}'));
      const end = await h.ended('p1');
      assert.equal(h.text(end.data), '{"__proto__":{"polluted":true},"a":1}');
      assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
    } finally {
      await close(h);
    }
  });

  it('results without a JSON form or over the limit are TASK_FAILED saying so', async () => {
    const h = await harness({ maxResultBytes: 100 });
    try {
      h.executor.launchTask(h.driver, jobTask('n1', 'nonCloneable'));
      h.executor.launchTask(h.driver, jobTask('b1', 'big', { bytes: 101 }));
      h.executor.launchTask(h.driver, jobTask('b2', 'big', { bytes: 100 }));
      assert.equal((await h.ended('n1')).message, 'result is not JSON-serialisable: a function has no JSON form');
      assert.equal((await h.ended('b1')).message, 'result is 101 bytes of JSON, over the limit of 100 bytes');
      assert.equal((await h.ended('b2')).state, 'TASK_FINISHED');
    } finally {
      await close(h);
    }
  });

  it('a job that throws is TASK_FAILED with its message; bad input to a built-in too', async () => {
    const h = await harness();
    try {
      h.executor.launchTask(h.driver, jobTask('f1', 'fail', { message: 'no luck' }));
      h.executor.launchTask(h.driver, jobTask('f2', 'primes', { limit: -3 }));
      const f1 = await h.ended('f1');
      assert.deepEqual([f1.state, f1.message], ['TASK_FAILED', 'no luck']);
      assert.equal((await h.ended('f2')).message, 'primes: input.limit must be an integer from 0 to 10000000, got -3');
      assert.deepEqual(h.driver.states('f1'), ['TASK_STARTING', 'TASK_RUNNING', 'TASK_FAILED']);
    } finally {
      await close(h);
    }
  });
});

describe('PoolExecutor: message text', () => {
  it(`a job's error and progress text reach the driver well-formed and at most ${MAX_MESSAGE_BYTES} bytes`, async () => {
    const h = await harness({ jobs: [FAULTS, TEXT], progressIntervalMs: 1 });
    try {
      h.executor.launchTask(h.driver, jobTask('lone', 'throwsValue', '\ud83d'));
      h.executor.launchTask(h.driver, jobTask('num', 'throwsValue', 42));
      h.executor.launchTask(h.driver, jobTask('huge', 'throws', { message: `${'😀'.repeat(5_000)}` }));
      h.executor.launchTask(h.driver, jobTask('says', 'says', { message: `${'x'.repeat(4094)}😀 and more\ude00` }));
      assert.equal((await h.ended('lone')).message, 'job threw a non-error value: \ufffd');
      assert.equal((await h.ended('num')).message, 'job threw a non-error value: 42');
      const huge = (await h.ended('huge')).message ?? '';
      // 4093 bytes are left for text beside the ellipsis: 1023 whole emoji (4092), none split.
      assert.equal(huge, `${'😀'.repeat(1023)}…`);
      const progress = await waitFor(() => h.driver.updates.find((u) => u.task_id.value === 'says' && u.message !== undefined), { what: 'the progress update' });
      assert.equal(progress.message, `${'x'.repeat(4093)}…`);
      h.executor.killTask(h.driver, { value: 'says' });
      await h.ended('says');
      for (const u of h.driver.updates) {
        if (u.message === undefined) continue;
        assert.ok(u.message.isWellFormed(), `well-formed: ${u.task_id.value}`);
        assert.ok(Buffer.byteLength(u.message) <= MAX_MESSAGE_BYTES, `bounded: ${u.task_id.value}`);
      }
    } finally {
      await close(h);
    }
  });
});

describe('PoolExecutor: hostile results and errors', () => {
  it('a 50 MB string result under mem 128 is TASK_FAILED before any copy; the pool and its other tasks go on', async () => {
    const h = await harness({ jobs: [FAULTS, HOSTILE] });
    try {
      h.executor.launchTask(h.driver, jobTask('big', 'bigString', { chars: 50_000_000 }, { memMb: 128 }));
      h.executor.launchTask(h.driver, jobTask('beside', 'spin', { ms: 50 }));
      const end = await h.ended('big', 20_000);
      assert.equal(end.state, 'TASK_FAILED');
      assert.equal(end.message, 'result is at least 50000002 bytes of JSON, over the limit of 1048576 bytes');
      assert.equal((await h.ended('beside')).state, 'TASK_FINISHED');
      assert.deepEqual(h.eventsOf('workerReplaced'), []);
      // The same heap-limit lane runs the next task.
      h.executor.launchTask(h.driver, jobTask('after', 'primes', { limit: 100 }, { memMb: 128 }));
      assert.equal((await h.ended('after')).state, 'TASK_FINISHED');
    } finally {
      await close(h);
    }
  });

  // The sizes are V8's: with Node 20's heap accounting a 40 M-character string fits a 64 MB worker
  // and its JSON would not. Other majors size heaps differently (Node 24 aborts the whole process
  // while the JOB builds that string — the case the README says the heap limit cannot catch), so
  // this runs on Node 20, the version CI's whole suite runs on.
  it('a result within the byte limit that could not be serialised in the heap left is TASK_FAILED, not a process abort', { skip: process.versions.node.startsWith('20.') ? false : `sizes tuned to Node 20's heap, this is ${process.version}` }, async () => {
    const h = await harness({ jobs: [FAULTS, HOSTILE], maxResultBytes: 64 * 1024 * 1024 });
    try {
      h.executor.launchTask(h.driver, jobTask('heap', 'bigString', { chars: 40_000_000 }, { memMb: 64 }));
      const end = await h.ended('heap', 20_000);
      assert.equal(end.state, 'TASK_FAILED');
      assert.match(end.message!, /^result could take up to 153 MiB of heap to serialise, more than its worker thread has left \(\d+ MiB\)$/);
      assert.deepEqual(h.eventsOf('workerReplaced'), []);
    } finally {
      await close(h);
    }
  });

  it('a huge array result stops serialising at the limit', async () => {
    const h = await harness({ jobs: [FAULTS, HOSTILE] });
    try {
      h.executor.launchTask(h.driver, jobTask('arr', 'bigArray', { items: 2_000_000 }));
      const end = await h.ended('arr', 20_000);
      assert.equal(end.state, 'TASK_FAILED');
      assert.match(end.message!, /^result is over 1048576 bytes of JSON, the limit \(stopped at 10485\d\d bytes\)$/);
    } finally {
      await close(h);
    }
  });

  it('what a job throws is described without trusting it: TASK_FAILED saying what it was, no thread replaced', async () => {
    const h = await harness({ jobs: [FAULTS, HOSTILE] });
    try {
      const cases: Array<[string, string]> = [
        ['throwsUnprintableMessage', 'job threw an Error whose message cannot be converted to a string'],
        ['throwsMessageGetter', 'job threw an Error whose message cannot be read'],
        ['throwsRevokedProxy', 'job threw an object that cannot be read (a revoked Proxy?)'],
        ['resultToJsonThrows', 'result is not JSON-serialisable: job threw an object that cannot be read (a revoked Proxy?)'],
      ];
      for (const [job] of cases) h.executor.launchTask(h.driver, jobTask(job, job));
      for (const [job, message] of cases) {
        const end = await h.ended(job);
        assert.deepEqual([end.state, end.message], ['TASK_FAILED', message], job);
      }
      assert.deepEqual(h.eventsOf('workerReplaced'), []);
    } finally {
      await close(h);
    }
  });
});

describe('PoolExecutor: queue bounds', () => {
  it('past maxQueuedTasks a launch is TASK_LOST (TASK_DROPPED when PARTITION_AWARE) saying why; room again once the queue drains', async () => {
    const h = await harness({ threads: 1, maxQueuedTasks: 2 });
    try {
      h.executor.launchTask(h.driver, jobTask('busy', 'cooperative'));
      h.executor.launchTask(h.driver, jobTask('q1', 'noop'));
      h.executor.launchTask(h.driver, jobTask('q2', 'noop'));
      h.executor.launchTask(h.driver, jobTask('q3', 'noop'));
      assert.deepEqual(h.driver.of('q3').map((u) => [u.state, u.message]), [
        ['TASK_LOST', "the executor's queue is full: 2 tasks wait for a thread, the most is 2; the task was not started"],
      ]);
      assert.deepEqual(h.eventsOf('taskRejected').map((e) => [e.taskId, e.state]), [['q3', 'TASK_LOST']]);
      assert.equal(h.executor.queued, 2);
      h.executor.reregistered(h.driver, { hostname: 'h' }, { user: 'u', name: 'f', capabilities: [{ type: 'PARTITION_AWARE' }] });
      h.executor.launchTask(h.driver, jobTask('q4', 'noop'));
      assert.deepEqual(h.driver.states('q4'), ['TASK_DROPPED']);
      // A group that would not fit goes as one.
      h.executor.killTask(h.driver, { value: 'q2' });
      h.executor.launchTaskGroup(h.driver, [jobTask('g1', 'noop'), jobTask('g2', 'noop')]);
      assert.deepEqual([h.driver.states('g1'), h.driver.states('g2')], [['TASK_DROPPED'], ['TASK_DROPPED']]);
      h.executor.killTask(h.driver, { value: 'busy' });
      assert.equal((await h.ended('q1')).state, 'TASK_FINISHED');
      h.executor.launchTask(h.driver, jobTask('q5', 'noop'));
      assert.equal((await h.ended('q5')).state, 'TASK_FINISHED');
    } finally {
      await close(h);
    }
  });

  it('past maxQueuedBytes of task data a launch is refused too; tasks a free thread takes at once never count', async () => {
    const h = await harness({ threads: 1, maxQueuedBytes: 100 });
    try {
      // More data than b1 and b2 together, but a thread is free: not queued, not counted.
      h.executor.launchTask(h.driver, jobTask('busy', 'cooperative', { pad: 'x'.repeat(60) }));
      h.executor.launchTask(h.driver, jobTask('b1', 'echo', 'x'.repeat(40)));
      h.executor.launchTask(h.driver, jobTask('b2', 'echo', 'x'.repeat(40)));
      assert.deepEqual(h.driver.states('b1'), ['TASK_STARTING']);
      assert.deepEqual(h.driver.of('b2').map((u) => [u.state, u.message]), [
        ['TASK_LOST', "the executor's queue is full: 65 bytes of task data wait for a thread, and 65 more would pass the most, 100; the task was not started"],
      ]);
      // A kill of the queued task gives its bytes back.
      h.executor.killTask(h.driver, { value: 'b1' });
      h.executor.launchTask(h.driver, jobTask('b3', 'echo', 'x'.repeat(40)));
      assert.deepEqual(h.driver.states('b3'), ['TASK_STARTING']);
      h.executor.killTask(h.driver, { value: 'busy' });
      assert.equal((await h.ended('b3')).state, 'TASK_FINISHED');
    } finally {
      await close(h);
    }
  });
});

describe('PoolExecutor: bad payloads', () => {
  it('every kind of bad payload is TASK_ERROR (REASON_TASK_INVALID) with an exact message', async () => {
    const h = await harness({ maxPayloadBytes: 64 });
    try {
      const cases: Array<[TaskInfo, string | RegExp]> = [
        [{ ...task('x0', ''), data: undefined } as TaskInfo, 'task has no data: expected UTF-8 JSON {"job": <name>, "input": <any JSON>}'],
        [task('x1', new Uint8Array([0xc3, 0x28])), 'task data is not valid UTF-8'],
        [task('x2', '{"job":'), /^task data is not valid JSON: /],
        [task('x3', '[]'), 'task data must be a JSON object {"job": <name>, "input": <any JSON>}, got an array'],
        [task('x4', '{"input":1}'), 'task data has no "job" field; expected {"job": <name>, "input": <any JSON>}'],
        [task('x5', '{"job":1}'), 'task data\'s "job" must be a string, got a number'],
        [task('x6', '{"job":"primes2"}'), /^unknown job "primes2"; known: asyncThrow, big, chatty, cooperative, echo, exits, fail, hang, leaveThrow, nonCloneable, noop, oom, primes, progress, sha256, sleep, spin, tellScheduler, throws$/],
        [task('x7', { job: 'noop', input: 'x'.repeat(100) }), 'task data is 125 bytes, over the limit of 64 bytes'],
      ];
      for (const [info, message] of cases) {
        h.executor.launchTask(h.driver, info);
        const id = info.task_id.value;
        const updates = h.driver.of(id);
        assert.equal(updates.length, 1, id);
        assert.equal(updates[0]!.state, 'TASK_ERROR', id);
        assert.equal(updates[0]!.reason, 'REASON_TASK_INVALID', id);
        if (typeof message === 'string') assert.equal(updates[0]!.message, message, id);
        else assert.match(updates[0]!.message!, message, id);
      }
      assert.equal(h.eventsOf('taskRejected').length, cases.length);
      assert.equal(h.eventsOf('taskAccepted').length, 0);
    } finally {
      await close(h);
    }
  });
});

describe('PoolExecutor: max_completion_time', () => {
  it('0 means no limit (as upstream): the task runs to TASK_FINISHED', async () => {
    const h = await harness();
    try {
      h.executor.launchTask(h.driver, { ...jobTask('zero', 'sleep', { ms: 50 }), max_completion_time: { nanoseconds: 0 } });
      h.executor.launchTask(h.driver, { ...jobTask('zero-text', 'sleep', { ms: 50 }), max_completion_time: { nanoseconds: '0' } });
      assert.equal((await h.ended('zero')).state, 'TASK_FINISHED');
      assert.equal((await h.ended('zero-text')).state, 'TASK_FINISHED');
      assert.deepEqual(h.driver.states('zero'), ['TASK_STARTING', 'TASK_RUNNING', 'TASK_FINISHED']);
    } finally {
      await close(h);
    }
  });

  it('a negative value is TASK_ERROR (REASON_TASK_INVALID), as the master answers it; in a group, the whole group', async () => {
    const h = await harness();
    try {
      h.executor.launchTask(h.driver, { ...jobTask('neg', 'noop'), max_completion_time: { nanoseconds: -1 } });
      const [update] = h.driver.of('neg');
      assert.deepEqual([update?.state, update?.reason, update?.message], ['TASK_ERROR', 'REASON_TASK_INVALID', 'max_completion_time must not be negative, got -1 ns']);
      assert.equal(h.driver.of('neg').length, 1);
      h.executor.launchTaskGroup(h.driver, [jobTask('g-ok', 'noop'), { ...jobTask('g-neg', 'noop'), max_completion_time: { nanoseconds: '-5000000000' } }]);
      assert.deepEqual(
        ['g-ok', 'g-neg'].map((id) => [h.driver.terminal(id)?.state, h.driver.terminal(id)?.reason]),
        [['TASK_ERROR', 'REASON_TASK_GROUP_INVALID'], ['TASK_ERROR', 'REASON_TASK_GROUP_INVALID']],
      );
      assert.equal(h.driver.terminal('g-neg')?.message, 'max_completion_time must not be negative, got -5000000000 ns');
      assert.equal(h.eventsOf('taskAccepted').length, 0);
    } finally {
      await close(h);
    }
  });
});

describe('PoolExecutor: kills', () => {
  it('a queued task is TASK_KILLED at once and never runs', async () => {
    const h = await harness({ threads: 1 });
    try {
      h.executor.launchTask(h.driver, jobTask('busy', 'cooperative'));
      h.executor.launchTask(h.driver, jobTask('q1', 'echo', 'never'));
      assert.equal(h.executor.queued, 1);
      h.executor.killTask(h.driver, { value: 'q1' });
      // Synchronously.
      assert.deepEqual(h.driver.states('q1'), ['TASK_STARTING', 'TASK_KILLED']);
      assert.equal(h.driver.terminal('q1')!.message, 'killed on request before it started');
      assert.equal(h.executor.queued, 0);
      h.executor.killTask(h.driver, { value: 'busy' });
      await h.ended('busy');
      assert.equal(h.eventsOf('taskStarted').some((e) => e.taskId === 'q1'), false);
    } finally {
      await close(h);
    }
  });

  it('a busy task that ignores its signal: the thread is terminated after the grace, then TASK_KILLED; the pool goes on', async () => {
    const h = await harness({}, KILLING_CAPABLE);
    try {
      h.executor.launchTask(h.driver, jobTask('h1', 'hang'));
      await h.running('h1');
      h.executor.killTask(h.driver, { value: 'h1' }, killPolicy(50));
      assert.deepEqual(h.driver.states('h1'), ['TASK_STARTING', 'TASK_RUNNING', 'TASK_KILLING']);
      const end = await h.ended('h1');
      assert.equal(end.state, 'TASK_KILLED');
      assert.equal(end.message, 'killed on request; the job did not stop within its 50 ms grace period, so its worker thread was terminated');
      assert.deepEqual(h.eventsOf('killEscalated'), [{ taskId: 'h1', job: 'hang' }]);
      assert.deepEqual(h.eventsOf('workerReplaced'), [{ reason: 'kill', taskId: 'h1' }]);
      // Both threads are usable again.
      h.executor.launchTask(h.driver, jobTask('after1', 'spin', { ms: 20 }));
      h.executor.launchTask(h.driver, jobTask('after2', 'spin', { ms: 20 }));
      assert.equal((await h.ended('after1')).state, 'TASK_FINISHED');
      assert.equal((await h.ended('after2')).state, 'TASK_FINISHED');
    } finally {
      await close(h);
    }
  });

  it('a kill that reaches the worker just after it said "started": the job runs and is escalated, never reported stopped', async () => {
    // The race behind a flaky shutdown test: the worker posted "started", then checked for an
    // early abort; a kill landing between the two made a job that never ran look like one that
    // stopped within its grace. "started" now comes after the last check: the job is running.
    const h = await harness({ threads: 1, jobs: [SLOW_START] });
    const go = new BroadcastChannel('mpe-test-slow-start');
    try {
      h.executor.launchTask(h.driver, jobTask('s1', 'hangAfterSlowStart'));
      await h.running('s1');
      h.executor.killTask(h.driver, { value: 's1' }, killPolicy(50));
      // The abort is on the task port already: let the stalled worker go on.
      go.postMessage('go');
      const end = await h.ended('s1');
      assert.equal(end.state, 'TASK_KILLED');
      assert.equal(end.message, 'killed on request; the job did not stop within its 50 ms grace period, so its worker thread was terminated');
    } finally {
      go.close();
      await close(h);
    }
  });

  it('a kill while the task is on its way to a worker: it never starts, no RUNNING', async () => {
    const h = await harness({}, KILLING_CAPABLE);
    try {
      h.executor.launchTask(h.driver, jobTask('w1', 'sleep', { ms: 60_000 }));
      assert.equal(h.executor.running, 1);
      h.executor.killTask(h.driver, { value: 'w1' }, killPolicy(10_000));
      const end = await h.ended('w1');
      assert.deepEqual(h.driver.states('w1'), ['TASK_STARTING', 'TASK_KILLING', 'TASK_KILLED']);
      assert.equal(end.message, 'killed on request; the job stopped within its grace period');
      assert.equal(h.eventsOf('killEscalated').length, 0);
    } finally {
      await close(h);
    }
  });

  it('no TASK_KILLING without the framework capability; grace 0 escalates at once', async () => {
    const h = await harness();
    try {
      h.executor.launchTask(h.driver, jobTask('h2', 'hang'));
      await h.running('h2');
      h.executor.killTask(h.driver, { value: 'h2' }, killPolicy(0));
      await h.ended('h2');
      assert.deepEqual(h.driver.states('h2'), ['TASK_STARTING', 'TASK_RUNNING', 'TASK_KILLED']);
      assert.equal(h.eventsOf('killEscalated').length, 1);
    } finally {
      await close(h);
    }
  });

  it('TASK_KILLING follows the framework capabilities of the latest SUBSCRIBED (re-read on reregistered), as upstream', async () => {
    const h = await harness({}, KILLING_CAPABLE);
    try {
      // The framework re-registered without the capability while the agent restarted.
      h.executor.reregistered(h.driver, { hostname: 'h' }, { user: 'u', name: 'f' });
      h.executor.launchTask(h.driver, jobTask('c1', 'hang'));
      await h.running('c1');
      h.executor.killTask(h.driver, { value: 'c1' }, killPolicy(0));
      await h.ended('c1');
      assert.deepEqual(h.driver.states('c1'), ['TASK_STARTING', 'TASK_RUNNING', 'TASK_KILLED'], 'no TASK_KILLING once the capability is gone');
      // ... and back again.
      h.executor.reregistered(h.driver, { hostname: 'h' }, KILLING_CAPABLE);
      h.executor.launchTask(h.driver, jobTask('c2', 'hang'));
      await h.running('c2');
      h.executor.killTask(h.driver, { value: 'c2' }, killPolicy(0));
      await h.ended('c2');
      assert.deepEqual(h.driver.states('c2'), ['TASK_STARTING', 'TASK_RUNNING', 'TASK_KILLING', 'TASK_KILLED']);
    } finally {
      await close(h);
    }
  });

  it('cooperative jobs stop within the grace period: no escalation', async () => {
    const h = await harness();
    try {
      h.executor.launchTask(h.driver, jobTask('k1', 'cooperative'));
      // A CPU-bound built-in that polls ctx.aborted in its loop (never yields to its event loop).
      h.executor.launchTask(h.driver, jobTask('k2', 'spin', { ms: 60_000 }));
      await h.running('k1');
      await h.running('k2');
      const t0 = performance.now();
      h.executor.killTask(h.driver, { value: 'k1' }, killPolicy(30_000));
      h.executor.killTask(h.driver, { value: 'k2' }, killPolicy(30_000));
      for (const id of ['k1', 'k2']) {
        const end = await h.ended(id);
        assert.equal(end.state, 'TASK_KILLED');
        assert.equal(end.message, 'killed on request; the job stopped within its grace period');
      }
      assert.ok(performance.now() - t0 < 5_000);
      assert.equal(h.eventsOf('killEscalated').length, 0);
      assert.equal(h.eventsOf('workerReplaced').length, 0);
    } finally {
      await close(h);
    }
  });

  it('the grace period comes from the task when the KILL has none; a repeated kill only shrinks it', async () => {
    const h = await harness();
    try {
      h.executor.launchTask(h.driver, jobTask('g1', 'hang', undefined, { killGraceMs: 60_000 }));
      await h.running('g1');
      h.executor.killTask(h.driver, { value: 'g1' });
      // A longer grace changes nothing...
      h.executor.killTask(h.driver, { value: 'g1' }, killPolicy(120_000));
      assert.equal(h.eventsOf('killEscalated').length, 0);
      // ...a shorter one brings the escalation forward.
      h.executor.killTask(h.driver, { value: 'g1' }, killPolicy(20));
      const end = await h.ended('g1');
      assert.match(end.message!, /did not stop within its 20 ms grace period/);
      assert.equal(h.driver.of('g1').filter((u) => isTerminalState(u.state)).length, 1);
    } finally {
      await close(h);
    }
  });

  it('a kill grace past 2^31-1 ms is one long timer, not a 1 ms loop: it escalates once, when due', async () => {
    const clock = new FakeClock(0);
    const h = await harness({ clock });
    try {
      h.executor.launchTask(h.driver, jobTask('long', 'hang'));
      await h.running('long');
      const graceMs = 2 ** 31 + 60_000;
      h.executor.killTask(h.driver, { value: 'long' }, killPolicy(graceMs));
      assert.ok(clock.delays.every((d) => d <= MAX_TIMER_DELAY_MS), `timer delays ${clock.delays.join(', ')}`);
      clock.tick(graceMs - 1);
      assert.equal(h.eventsOf('killEscalated').length, 0, 'not before the grace is over');
      clock.tick(1);
      assert.equal(h.eventsOf('killEscalated').length, 1);
      const end = await h.ended('long');
      assert.equal(end.message, `killed on request; the job did not stop within its ${graceMs} ms grace period, so its worker thread was terminated`);
      assert.ok(clock.delays.length <= 4, `${clock.delays.length} timers set`);
    } finally {
      await close(h);
    }
  });

  it('a KILL for an unknown or ended task is ignored', async () => {
    const h = await harness();
    try {
      h.executor.launchTask(h.driver, jobTask('e1', 'noop'));
      await h.ended('e1');
      const before = h.driver.updates.length;
      h.executor.killTask(h.driver, { value: 'e1' });
      h.executor.killTask(h.driver, { value: 'nobody' });
      assert.equal(h.driver.updates.length, before);
    } finally {
      await close(h);
    }
  });

  it('a second LAUNCH of a live task id is ignored', async () => {
    const h = await harness();
    try {
      h.executor.launchTask(h.driver, jobTask('d1', 'cooperative'));
      h.executor.launchTask(h.driver, jobTask('d1', 'noop'));
      assert.deepEqual(h.driver.states('d1'), ['TASK_STARTING']);
      h.executor.killTask(h.driver, { value: 'd1' });
      assert.equal((await h.ended('d1')).state, 'TASK_KILLED');
    } finally {
      await close(h);
    }
  });
});

describe('PoolExecutor: progress', () => {
  it('a chatty job is rate-limited: spaced updates, the latest wins, nothing after the terminal update', async () => {
    const h = await harness({ progressIntervalMs: 100 });
    try {
      h.executor.launchTask(h.driver, jobTask('p1', 'chatty', { ms: 400 }));
      const end = await h.ended('p1');
      const calls = Number(h.text(end.data));
      const updates = h.driver.of('p1');
      const progress = updates.filter((u) => u.state === 'TASK_RUNNING' && u.message !== undefined);
      assert.ok(calls > 100, `the job reported ${calls} times`);
      assert.ok(progress.length >= 2 && progress.length <= 400 / 100 + 2, `${progress.length} progress updates`);
      for (let i = 1; i < progress.length; i++) {
        assert.ok(progress[i]!.at - progress[i - 1]!.at >= 99, `updates ${i - 1} and ${i} are ${progress[i]!.at - progress[i - 1]!.at} ms apart`);
      }
      // Coalesced: each update is a later tick than the previous one, with its data as JSON.
      const ticks = progress.map((u) => JSON.parse(h.text(u.data)!) as { count: number });
      for (let i = 1; i < ticks.length; i++) assert.ok(ticks[i]!.count > ticks[i - 1]!.count);
      assert.equal(updates[updates.length - 1], end);
      assert.equal(h.eventsOf('progress').length, progress.length);
    } finally {
      await close(h);
    }
  });

  it('the built-in progress job: each step is an update when the interval allows', async () => {
    const h = await harness({ progressIntervalMs: 0 });
    try {
      h.executor.launchTask(h.driver, jobTask('p2', 'progress', { steps: 3, ms: 5 }));
      await h.ended('p2');
      const progress = h.driver.of('p2').filter((u) => u.message !== undefined);
      assert.deepEqual(progress.map((u) => [u.message, h.text(u.data)]), [
        ['step 1/3', '{"step":1,"steps":3}'],
        ['step 2/3', '{"step":2,"steps":3}'],
        ['step 3/3', '{"step":3,"steps":3}'],
      ]);
    } finally {
      await close(h);
    }
  });
});

describe('PoolExecutor: worker faults', { concurrency: true }, () => {
  const faults: Array<{ job: string; message: string; reason?: string; loss: string; memMb?: number }> = [
    { job: 'throws', message: 'fixture error', loss: '' },
    { job: 'exits', message: 'the job ended its worker thread with process.exit(3); the thread was replaced', loss: 'exit' },
    { job: 'asyncThrow', message: 'the job left an uncaught exception on its worker thread: async boom; the thread was replaced', loss: 'crash' },
    {
      job: 'oom',
      memMb: 32,
      message: 'the job ran out of memory: its worker thread reached its heap limit of 32 MB and was replaced',
      reason: 'REASON_CONTAINER_LIMITATION_MEMORY',
      loss: 'oom',
    },
  ];
  for (const fault of faults) {
    it(`${fault.job}: TASK_FAILED with a clear message; a task running alongside still finishes`, { concurrency: true }, async () => {
      const h = await harness();
      try {
        h.executor.launchTask(h.driver, jobTask('bystander', 'sleep', { ms: 1_000 }));
        await h.running('bystander');
        h.executor.launchTask(h.driver, jobTask('victim', fault.job, undefined, fault.memMb === undefined ? {} : { memMb: fault.memMb }));
        const end = await h.ended('victim', 15_000);
        assert.equal(end.state, 'TASK_FAILED');
        assert.equal(end.message, fault.message);
        assert.equal(end.reason, fault.reason);
        assert.deepEqual(h.driver.states('victim'), ['TASK_STARTING', 'TASK_RUNNING', 'TASK_FAILED']);
        assert.deepEqual(h.eventsOf('workerReplaced'), fault.loss === '' ? [] : [{ reason: fault.loss, taskId: 'victim' }]);
        const bystander = await h.ended('bystander');
        assert.equal(bystander.state, 'TASK_FINISHED');
        assert.equal(h.text(bystander.data), '{"ms":1000}');
        // They really overlapped: the victim ended while the bystander was running.
        assert.ok(h.driver.updates.indexOf(end) < h.driver.updates.indexOf(bystander));
        // The pool is whole again.
        h.executor.launchTask(h.driver, jobTask('next', 'noop'));
        assert.equal((await h.ended('next')).state, 'TASK_FINISHED');
      } finally {
        await close(h);
      }
    });
  }
});

describe('PoolExecutor: leftovers and listeners', () => {
  it('a timer a finished job left behind still runs (live event loop) and its crash affects no task', async () => {
    const h = await harness({ threads: 1 });
    try {
      h.executor.launchTask(h.driver, jobTask('lt', 'leaveThrow'));
      assert.equal((await h.ended('lt')).state, 'TASK_FINISHED');
      // With Atomics.wait idling the worker, this timer would only fire inside the next task.
      await waitFor(() => h.eventsOf('workerReplaced').length > 0, { what: 'the idle worker crash' });
      assert.deepEqual(h.eventsOf('workerReplaced'), [{ reason: 'crash' }]);
      h.executor.launchTask(h.driver, jobTask('after', 'sleep', { ms: 40 }));
      assert.equal((await h.ended('after')).state, 'TASK_FINISHED');
    } finally {
      await close(h);
    }
  });

  it('a throwing listener does not break the task bookkeeping', async () => {
    const h = await harness();
    try {
      h.executor.on('statusUpdate', () => {
        throw new Error('bad listener');
      });
      h.executor.on('taskEnded', () => {
        throw new Error('bad listener');
      });
      h.executor.launchTask(h.driver, jobTask('l1', 'noop'));
      await h.ended('l1');
      assert.deepEqual(h.driver.states('l1'), ['TASK_STARTING', 'TASK_RUNNING', 'TASK_FINISHED']);
      await waitFor(() => h.executor.tasks === 0);
    } finally {
      await close(h);
    }
  });

  it('a fatal driver error destroys the pool', async () => {
    const h = await harness();
    assert.equal(h.executor.liveThreads, 2);
    await h.executor.error(h.driver, 'agent said no');
    assert.equal(h.executor.liveThreads, 0);
    live.delete(h.executor);
  });
});

describe('PoolExecutor: task groups', () => {
  it('one task FAILED: the rest of the group is killed', async () => {
    // A group runs all at once only when the pool has a thread for each task.
    const h = await harness({ threads: 3 });
    try {
      h.executor.launchTaskGroup(h.driver, [
        jobTask('ga', 'cooperative'),
        jobTask('gb', 'sleep', { ms: 60_000 }),
        jobTask('gc', 'fail', { message: 'group member failed' }),
      ]);
      assert.deepEqual(h.driver.taskIds(), ['ga', 'gb', 'gc']);
      assert.equal((await h.ended('gc')).message, 'group member failed');
      for (const id of ['ga', 'gb']) {
        const end = await h.ended(id);
        assert.equal(end.state, 'TASK_KILLED');
        assert.match(end.message!, /^killed: task "gc" of its group ended TASK_FAILED; /);
      }
    } finally {
      await close(h);
    }
  });

  it('a kill of one task takes the group down; other groups and tasks are untouched', async () => {
    const h = await harness({ threads: 2 });
    try {
      h.executor.launchTaskGroup(h.driver, [jobTask('ka', 'cooperative'), jobTask('kb', 'cooperative')]);
      h.executor.launchTaskGroup(h.driver, [jobTask('other', 'sleep', { ms: 50 })]);
      await h.running('ka');
      h.executor.killTask(h.driver, { value: 'ka' });
      assert.equal((await h.ended('ka')).state, 'TASK_KILLED');
      assert.match((await h.ended('kb')).message!, /^killed: task "ka" of its group ended TASK_KILLED/);
      assert.equal((await h.ended('other')).state, 'TASK_FINISHED');
    } finally {
      await close(h);
    }
  });

  it('a group whose tasks all succeed finishes', async () => {
    const h = await harness();
    try {
      h.executor.launchTaskGroup(h.driver, [jobTask('s1', 'noop'), jobTask('s2', 'primes', { limit: 10 }), jobTask('s3', 'noop')]);
      for (const id of ['s1', 's2', 's3']) assert.equal((await h.ended(id)).state, 'TASK_FINISHED');
    } finally {
      await close(h);
    }
  });

  it('one invalid task makes the whole group TASK_ERROR', async () => {
    const h = await harness();
    try {
      h.executor.launchTaskGroup(h.driver, [jobTask('v1', 'noop'), task('v2', '{"job":"nope"}')]);
      assert.deepEqual(h.driver.of('v1').map((u) => [u.state, u.reason, u.message]), [
        ['TASK_ERROR', 'REASON_TASK_GROUP_INVALID', 'task group is invalid: task "v2": unknown job "nope"; known: asyncThrow, big, chatty, cooperative, echo, exits, fail, hang, leaveThrow, nonCloneable, noop, oom, primes, progress, sha256, sleep, spin, tellScheduler, throws'],
      ]);
      assert.deepEqual(h.driver.states('v2'), ['TASK_ERROR']);
      assert.match(h.driver.terminal('v2')!.message!, /^unknown job "nope"/);
    } finally {
      await close(h);
    }
  });
});

describe('PoolExecutor: repeated task ids', () => {
  it('a group repeating a task id, or reusing a live one, is invalid; each id gets at most one update', async () => {
    const h = await harness();
    try {
      h.executor.launchTask(h.driver, jobTask('live', 'cooperative'));
      h.executor.launchTaskGroup(h.driver, [jobTask('r1', 'noop'), jobTask('r1', 'noop'), jobTask('live', 'noop')]);
      assert.deepEqual(h.driver.of('r1').map((u) => [u.state, u.reason]), [['TASK_ERROR', 'REASON_TASK_GROUP_INVALID']]);
      assert.match(h.driver.terminal('r1')!.message!, /^task group is invalid: task "r1": task id "r1" is used twice$/);
      assert.deepEqual(h.driver.states('live'), ['TASK_STARTING']);
      h.executor.killTask(h.driver, { value: 'live' });
      await h.ended('live');
    } finally {
      await close(h);
    }
  });

  it('a LAUNCH during shutdown reusing the id of a task being killed adds nothing', async () => {
    const h = await harness({ shutdownGracePeriodMs: 1_200, shutdownMarginMs: 1_000 });
    try {
      h.executor.launchTask(h.driver, jobTask('z', 'cooperative'));
      await h.running('z');
      assert.equal(h.executor.shutdown(h.driver), undefined, 'shutdown returns at once: the callback loop goes on');
      h.executor.launchTask(h.driver, jobTask('z', 'noop'));
      await h.executor.whenShutDown();
      assert.deepEqual(h.driver.states('z'), ['TASK_STARTING', 'TASK_RUNNING', 'TASK_KILLED']);
    } finally {
      await close(h);
    }
  });
});

describe('PoolExecutor: framework messages', () => {
  it('jobs send them through the driver; incoming ones reach the hook and the event', async () => {
    const received: string[] = [];
    const h = await harness({ onFrameworkMessage: (data) => received.push(Buffer.from(data).toString()) });
    try {
      h.executor.launchTask(h.driver, jobTask('fm', 'tellScheduler', 'hi from a job'));
      await h.ended('fm');
      assert.deepEqual(h.driver.frameworkMessages.map((d) => Buffer.from(d).toString()), ['hi from a job']);
      h.executor.frameworkMessage(h.driver, Buffer.from('from the scheduler'));
      assert.deepEqual(received, ['from the scheduler']);
      assert.equal(Buffer.from(h.eventsOf('frameworkMessage')[0]!.data).toString(), 'from the scheduler');
    } finally {
      await close(h);
    }
  });
});

describe('PoolExecutor: framework message bounds', () => {
  it('a message over maxFrameworkMessageBytes is dropped in the worker (never cloned over), with an event; a small one goes', async () => {
    const h = await harness({ jobs: [FAULTS, HOSTILE], maxFrameworkMessageBytes: 1024 });
    try {
      h.executor.launchTask(h.driver, jobTask('flood', 'floodScheduler', { count: 3, chars: 3 * 1024 * 1024 }));
      assert.equal((await h.ended('flood')).state, 'TASK_FINISHED');
      assert.deepEqual(h.driver.frameworkMessages.map((m) => Buffer.from(m).toString()), ['small']);
      assert.deepEqual(h.eventsOf('frameworkMessageDropped').map((e) => e.bytes), [3 * 1024 * 1024, 3 * 1024 * 1024, 3 * 1024 * 1024]);
    } finally {
      await close(h);
    }
  });
});

/** Live (not zombie) processes of a process group, from /proc. */
function groupMembers(pgid: number): number[] {
  const members: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (fields[0] !== 'Z' && Number(fields[2]) === pgid) members.push(Number(name));
    } catch {
      // It exited meanwhile.
    }
  }
  return members;
}

describe('PoolExecutor: child processes and stuck threads', { skip: process.platform !== 'linux' ? 'Linux only (/proc)' : false }, () => {
  it('ctx.spawn: the whole process group is killed before TASK_KILLED, even when the job ignored its kill and its thread was terminated', async () => {
    const h = await harness({ jobs: [FAULTS, HOSTILE] });
    let pgid = 0;
    try {
      h.executor.launchTask(h.driver, jobTask('sp', 'spawnAndHang'));
      pgid = Number(Buffer.from(await waitFor(() => h.driver.frameworkMessages[0], { what: 'the child pid' })).toString());
      await waitFor(() => groupMembers(pgid).length === 2, { what: 'sh and its sleep to run' });
      h.executor.killTask(h.driver, { value: 'sp' }, killPolicy(50));
      const end = await h.ended('sp');
      assert.equal(end.state, 'TASK_KILLED');
      // SIGKILL went out before the update; the kernel ends them at once after it.
      await waitFor(() => groupMembers(pgid).length === 0, { what: 'the group to be gone', timeoutMs: 2_000 });
    } finally {
      if (pgid > 0) {
        try {
          process.kill(-pgid, 'SIGKILL');
        } catch {
          // Gone, as it should be.
        }
      }
      await close(h);
    }
  });

  it('a thread that does not exit when terminated (blocked in execSync) keeps its slot until it does: never more than `threads` at once', async () => {
    const h = await harness({ threads: 1, jobs: [FAULTS, HOSTILE], terminateWaitMs: 100 });
    try {
      h.executor.launchTask(h.driver, jobTask('stuck', 'blockInExecSync', { seconds: 2 }));
      await h.running('stuck');
      h.executor.killTask(h.driver, { value: 'stuck' }, killPolicy(0));
      assert.equal((await h.ended('stuck')).state, 'TASK_KILLED');
      assert.equal(h.executor.lingeringThreads, 1);
      h.executor.launchTask(h.driver, jobTask('next', 'noop'));
      assert.equal(h.executor.queued, 1, 'not started while the stuck thread runs');
      assert.equal(h.executor.running, 0);
      assert.equal((await h.ended('next', 10_000)).state, 'TASK_FINISHED');
      assert.equal(h.executor.lingeringThreads, 0);
    } finally {
      await close(h);
    }
  });
});

describe('PoolExecutor: shutdown', () => {
  it('kills running and queued tasks, sends every terminal update, waits for acks, destroys the pool, stops the driver', async () => {
    // Kill grace: 1500 − 1000 (margin) − 200 (thread exit wait) = 300 ms.
    const h = await harness({ threads: 2, shutdownGracePeriodMs: 1_500, shutdownMarginMs: 1_000, terminateWaitMs: 200 });
    try {
      h.executor.launchTask(h.driver, jobTask('r1', 'hang'));
      h.executor.launchTask(h.driver, jobTask('r2', 'cooperative'));
      h.executor.launchTask(h.driver, jobTask('q1', 'noop'));
      h.executor.launchTask(h.driver, jobTask('q2', 'noop'));
      await h.running('r1');
      await h.running('r2');
      assert.equal(h.executor.queued, 2);
      h.executor.shutdown(h.driver);
      await h.executor.whenShutDown();
      for (const id of ['r1', 'r2', 'q1', 'q2']) {
        const terminal = h.driver.of(id).filter((u) => isTerminalState(u.state));
        assert.deepEqual(terminal.map((u) => u.state), ['TASK_KILLED'], id);
      }
      assert.match(h.driver.terminal('q1')!.message!, /^killed: the executor is shutting down before it started$/);
      assert.match(h.driver.terminal('r2')!.message!, /the job stopped within its grace period/);
      assert.match(h.driver.terminal('r1')!.message!, /did not stop within its 300 ms grace period/);
      assert.equal(h.driver.stopCalls, 1);
      assert.equal(h.driver.updatesAtStop, h.driver.updates.length);
      assert.equal(h.driver.ackWaits.length, 1);
      assert.ok(h.driver.ackWaits[0]! >= 100 && h.driver.ackWaits[0]! <= 1_500);
      assert.equal(h.executor.liveThreads, 0);
      assert.deepEqual(h.eventsOf('shutdownStarted'), [{ tasks: 4, killGraceMs: 300 }]);
      assert.equal(h.eventsOf('shutdownCompleted')[0]!.acknowledged, true);
      // Queued tasks never ran.
      assert.equal(h.eventsOf('taskStarted').some((e) => e.taskId.startsWith('q')), false);
    } finally {
      await close(h);
    }
  });

  it('a LAUNCH after SHUTDOWN is TASK_FAILED with REASON_EXECUTOR_TERMINATED; a second shutdown is the same one', async () => {
    const h = await harness();
    try {
      h.executor.shutdown(h.driver);
      const first = h.executor.whenShutDown();
      h.executor.launchTask(h.driver, jobTask('late', 'noop'));
      h.executor.launchTaskGroup(h.driver, [jobTask('late2', 'noop')]);
      h.executor.shutdown(h.driver);
      assert.equal(h.executor.whenShutDown(), first, 'a second SHUTDOWN joins the first');
      await first;
      assert.deepEqual(h.driver.of('late').map((u) => [u.state, u.reason, u.message]), [
        ['TASK_FAILED', 'REASON_EXECUTOR_TERMINATED', 'the executor is shutting down; the task was not started'],
      ]);
      assert.deepEqual(h.driver.states('late2'), ['TASK_FAILED']);
      assert.equal(h.driver.stopCalls, 1);
    } finally {
      await close(h);
    }
  });
});

describe('PoolExecutor: exactly one terminal update under a random mix', () => {
  for (const seed of [1, 2, 3]) {
    it(`seed ${seed}: jobs, kills and a shutdown`, async () => {
      const h = await harness({ threads: 2, shutdownGracePeriodMs: 1_200, shutdownMarginMs: 1_000, progressIntervalMs: 20 });
      try {
        let state = seed * 7919;
        const random = (): number => {
          state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
          return state / 2_147_483_648;
        };
        const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
        const jobs: Array<() => [string, unknown?]> = [
          () => ['noop'],
          () => ['sleep', { ms: Math.floor(random() * 40) }],
          () => ['spin', { ms: Math.floor(random() * 30) }],
          () => ['fail', { message: 'random failure' }],
          () => ['cooperative', { ms: Math.floor(random() * 80) }],
          () => ['hang'],
          () => ['progress', { steps: 3, ms: 5 }],
          () => ['throws'],
        ];
        const launched: string[] = [];
        for (let i = 0; i < 24; i++) {
          const roll = random();
          if (roll < 0.6 || launched.length === 0) {
            const id = `s${seed}-${i}`;
            const [job, input] = pick(jobs)();
            if (random() < 0.2) {
              h.executor.launchTaskGroup(h.driver, [jobTask(id, job, input), jobTask(`${id}b`, 'cooperative', { ms: 50 })]);
              launched.push(id, `${id}b`);
            } else {
              h.executor.launchTask(h.driver, jobTask(id, job, input));
              launched.push(id);
            }
          } else {
            h.executor.killTask(h.driver, { value: pick(launched) }, killPolicy(Math.floor(random() * 60)));
          }
          // Let workers move between actions, by a random amount.
          await new Promise((resolve) => setTimeout(resolve, Math.floor(random() * 15)));
        }
        h.executor.shutdown(h.driver);
      await h.executor.whenShutDown();
        for (const id of launched) {
          const updates = h.driver.of(id);
          const terminal = updates.filter((u) => isTerminalState(u.state));
          const trace = `${id}: ${updates.map((u) => u.state).join(' ')}`;
          assert.equal(terminal.length, 1, trace);
          assert.equal(updates[updates.length - 1], terminal[0], `nothing after the terminal update: ${trace}`);
          assert.equal(updates[0]!.state, 'TASK_STARTING', trace);
        }
        assert.equal(h.driver.stopCalls, 1);
        assert.equal(h.driver.updatesAtStop, h.driver.updates.length);
        assert.equal(h.executor.tasks, 0);
      } finally {
        await close(h);
      }
    });
  }
});

describe('PoolExecutor.create', () => {
  it('refuses a job module that clashes with a built-in job', async () => {
    await assert.rejects(PoolExecutor.create({ threads: 1, jobs: [CONFLICT] }), (error: unknown) => {
      assert.ok(error instanceof MesosExecutorError);
      assert.equal(error.code, 'MPE_JOB_MODULE');
      assert.match(error.message, /^job "noop" is exported by both built-in jobs and file:.*conflict\.js \(rename them, or drop the built-ins: --no-builtin-jobs, builtinJobs: false\)$/);
      return true;
    });
  });

  it('refuses a job module that fails to load', async () => {
    await assert.rejects(PoolExecutor.create({ threads: 1, jobs: [BROKEN] }), {
      code: 'MPE_JOB_MODULE',
      message: /^job module file:.*broken\.js failed to load: broken on purpose$/,
    });
    await assert.rejects(PoolExecutor.create({ threads: 1, jobs: ['/nonexistent/jobs.js'] }), { code: 'MPE_JOB_MODULE' });
  });

  it('without built-ins, only the module\'s jobs exist', async () => {
    const executor = await PoolExecutor.create({ threads: 1, jobs: [CONFLICT], builtinJobs: false });
    try {
      assert.deepEqual(executor.jobs, ['noop']);
    } finally {
      await executor.destroy();
    }
  });
});
