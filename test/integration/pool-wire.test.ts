// The pool executor over the real wire: LocalAgent, the executor process launched from the
// agent's environment (our CLI), real worker threads. What a framework on Mesos would see.
import { strict as assert } from 'node:assert';
import { isUtf8 } from 'node:buffer';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { LocalAgent, type ExecutorHandle, type LocalAgentOptions } from '../../src/agent/index.js';
import { isTerminalState, type TaskState, type TaskStatus } from '../../src/proto/types.js';
import { killPolicy } from '../helpers/pool-tasks.js';
import { FIELD, fieldBytes } from '../helpers/protobuf-fields.js';
import { RecordingProxy } from '../helpers/recording-proxy.js';
import { waitFor } from '../helpers/wait.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const FAULT_JOBS = fileURLToPath(new URL('../fixtures/jobs/faults.js', import.meta.url));
const TEXT_JOBS = fileURLToPath(new URL('../fixtures/jobs/text.js', import.meta.url));

interface Wire {
  agent: LocalAgent;
  handle: ExecutorHandle;
}

async function startWire(options: LocalAgentOptions = {}, args: string[] = []): Promise<Wire> {
  const agent = new LocalAgent(options);
  await agent.start();
  const handle = await agent.launchExecutor({
    command: process.execPath,
    args: [MAIN, '--threads', '2', '--jobs', FAULT_JOBS, '--log-level', 'warn', ...args],
  });
  await waitFor(() => agent.subscribed || !handle.alive, { what: 'the executor to subscribe', timeoutMs: 15_000 });
  assert.ok(handle.alive, `executor exited early: ${handle.stderr}`);
  return { agent, handle };
}

function payload(job: string, input?: unknown): Buffer {
  return Buffer.from(JSON.stringify(input === undefined ? { job } : { job, input }));
}

function statuses(agent: LocalAgent, id: string): TaskStatus[] {
  return [...(agent.task(id)?.statuses ?? [])];
}

function states(agent: LocalAgent, id: string): Array<TaskState | number> {
  return statuses(agent, id).map((s) => s.state);
}

async function terminal(agent: LocalAgent, id: string, timeoutMs = 15_000): Promise<TaskStatus> {
  return waitFor(() => statuses(agent, id).find((s) => isTerminalState(s.state)), { what: `task ${id} to end`, timeoutMs });
}

describe('pool executor over the wire', () => {
  let wire: Wire;
  before(async () => {
    wire = await startWire();
  });
  after(async () => {
    await wire.agent.shutdownExecutor();
    await wire.agent.stop();
  });

  it('runs a quick task: STARTING, RUNNING, FINISHED with the JSON result', async () => {
    wire.agent.launchTask({ task_id: 'quick', data: payload('primes', { limit: 1000 }) });
    const end = await terminal(wire.agent, 'quick');
    assert.deepEqual(states(wire.agent, 'quick'), ['TASK_STARTING', 'TASK_RUNNING', 'TASK_FINISHED']);
    assert.deepEqual(JSON.parse(Buffer.from(end.data!).toString()), { limit: 1000, count: 168 });
  });

  it('more CPU tasks than threads all finish, and a task launched while all are busy is accepted at once', async () => {
    const ids = Array.from({ length: 6 }, (_, i) => `busy-${i}`);
    for (const id of ids) wire.agent.launchTask({ task_id: id, data: payload('spin', { ms: 300 }) });
    await waitFor(() => ids.filter((id) => states(wire.agent, id).includes('TASK_RUNNING')).length === 2, { what: 'both threads busy' });
    wire.agent.launchTask({ task_id: 'late', data: payload('noop') });
    // launchTask never waits for a thread: TASK_STARTING of the late task arrives while the
    // first spin tasks are still running.
    await waitFor(() => states(wire.agent, 'late').includes('TASK_STARTING'), { what: 'late TASK_STARTING' });
    const finishedSoFar = ids.filter((id) => states(wire.agent, id).includes('TASK_FINISHED')).length;
    assert.ok(finishedSoFar < ids.length, 'STARTING came before the busy tasks were done');
    for (const id of [...ids, 'late']) assert.equal((await terminal(wire.agent, id)).state, 'TASK_FINISHED');
  });

  it('kills a queued task at once (no TASK_RUNNING)', async () => {
    wire.agent.launchTask({ task_id: 'hog-1', data: payload('spin', { ms: 400 }) });
    wire.agent.launchTask({ task_id: 'hog-2', data: payload('spin', { ms: 400 }) });
    wire.agent.launchTask({ task_id: 'queued', data: payload('noop') });
    await waitFor(() => states(wire.agent, 'queued').includes('TASK_STARTING'), { what: 'queued accepted' });
    wire.agent.killTask('queued');
    const end = await terminal(wire.agent, 'queued');
    assert.equal(end.state, 'TASK_KILLED');
    assert.deepEqual(states(wire.agent, 'queued'), ['TASK_STARTING', 'TASK_KILLED']);
    await terminal(wire.agent, 'hog-1');
    await terminal(wire.agent, 'hog-2');
  });

  it('kills a busy CPU task that ignores the signal: its thread is terminated', async () => {
    wire.agent.launchTask({ task_id: 'hang', data: payload('hang') });
    await waitFor(() => states(wire.agent, 'hang').includes('TASK_RUNNING'), { what: 'hang running' });
    wire.agent.killTask('hang', killPolicy(0));
    const end = await terminal(wire.agent, 'hang');
    assert.equal(end.state, 'TASK_KILLED');
    // The pool healed: the next task still runs.
    wire.agent.launchTask({ task_id: 'after-hang', data: payload('noop') });
    assert.equal((await terminal(wire.agent, 'after-hang')).state, 'TASK_FINISHED');
  });

  it('a cooperative job stops within its grace period', async () => {
    wire.agent.launchTask({ task_id: 'coop', data: payload('cooperative') });
    await waitFor(() => states(wire.agent, 'coop').includes('TASK_RUNNING'), { what: 'coop running' });
    wire.agent.killTask('coop', killPolicy(10_000));
    assert.equal((await terminal(wire.agent, 'coop', 5000)).state, 'TASK_KILLED');
  });

  it('rate-limits progress: a chatty job gets far fewer TASK_RUNNING updates than it reports', async () => {
    wire.agent.launchTask({ task_id: 'progress', data: payload('progress', { steps: 40, ms: 10 }) });
    await terminal(wire.agent, 'progress');
    const running = statuses(wire.agent, 'progress').filter((s) => s.state === 'TASK_RUNNING');
    assert.ok(running.length >= 2, 'the first RUNNING plus at least one progress update');
    assert.ok(running.length < 10, `40 progress calls over ~400 ms at one per 250 ms gave ${running.length} updates`);
    assert.equal(states(wire.agent, 'progress').at(-1), 'TASK_FINISHED');
  });

  it('answers every kind of bad payload with TASK_ERROR and a message saying what is wrong', async () => {
    const cases: Array<[string, Buffer, RegExp]> = [
      ['bad-utf8', Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), /UTF-8/i],
      ['bad-json', Buffer.from('{"job": '), /JSON/],
      ['not-object', Buffer.from('[1,2]'), /object/],
      ['no-job', Buffer.from('{"input": 1}'), /job/],
      ['job-not-string', Buffer.from('{"job": 42}'), /job/],
      ['unknown-job', payload('primes2'), /unknown job "primes2"; known: .*primes/],
      ['path-job', payload('../../etc/passwd'), /unknown job/],
      ['proto-job', payload('__proto__'), /unknown job/],
      ['oversized', Buffer.from(JSON.stringify({ job: 'noop', input: 'x'.repeat(2 * 1024 * 1024) })), /limit|large|bytes/],
    ];
    for (const [id, data] of cases) wire.agent.launchTask({ task_id: id, data });
    for (const [id, , message] of cases) {
      const end = await terminal(wire.agent, id);
      assert.equal(end.state, 'TASK_ERROR', id);
      assert.match(end.message ?? '', message, id);
    }
    wire.agent.launchTask({ task_id: 'still-serving', data: payload('noop') });
    assert.equal((await terminal(wire.agent, 'still-serving')).state, 'TASK_FINISHED');
  });

  it('worker faults fail only their own task: throw, process.exit, async throw, out of memory', async () => {
    wire.agent.launchTask({ task_id: 'neighbour', data: payload('spin', { ms: 500 }) });
    wire.agent.launchTask({ task_id: 'throws', data: payload('throws', { message: 'bad input 7' }) });
    wire.agent.launchTask({ task_id: 'exits', data: payload('exits') });
    wire.agent.launchTask({ task_id: 'async', data: payload('asyncThrow') });
    wire.agent.launchTask({
      task_id: 'oom',
      data: payload('oom'),
      resources: [{ name: 'mem', type: 'SCALAR', scalar: { value: 32 } }],
    });
    const thrown = await terminal(wire.agent, 'throws');
    assert.equal(thrown.state, 'TASK_FAILED');
    assert.match(thrown.message ?? '', /bad input 7/);
    assert.equal((await terminal(wire.agent, 'exits')).state, 'TASK_FAILED');
    assert.equal((await terminal(wire.agent, 'async')).state, 'TASK_FAILED');
    const oom = await terminal(wire.agent, 'oom', 30_000);
    assert.equal(oom.state, 'TASK_FAILED');
    assert.equal(oom.reason, 'REASON_CONTAINER_LIMITATION_MEMORY');
    assert.equal((await terminal(wire.agent, 'neighbour')).state, 'TASK_FINISHED');
  });

  it('max_completion_time: a task still running (or queued) when it passes is FAILED with REASON_MAX_COMPLETION_TIME_REACHED', async () => {
    const limit = { nanoseconds: 150_000_000 };
    wire.agent.launchTask({ task_id: 'deadline-run', data: payload('hang'), max_completion_time: limit });
    wire.agent.launchTask({ task_id: 'deadline-ok', data: payload('noop'), max_completion_time: { nanoseconds: 60_000_000_000 } });
    const end = await terminal(wire.agent, 'deadline-run');
    assert.equal(end.state, 'TASK_FAILED');
    assert.equal(end.reason, 'REASON_MAX_COMPLETION_TIME_REACHED');
    assert.ok(!states(wire.agent, 'deadline-run').includes('TASK_KILLING'));
    assert.equal((await terminal(wire.agent, 'deadline-ok')).state, 'TASK_FINISHED');
  });

  it('max_completion_time 0 is no limit (the task finishes); a negative one is TASK_ERROR', async () => {
    wire.agent.launchTask({ task_id: 'deadline-zero', data: payload('sleep', { ms: 100 }), max_completion_time: { nanoseconds: 0 } });
    wire.agent.launchTask({ task_id: 'deadline-negative', data: payload('noop'), max_completion_time: { nanoseconds: -1_000_000 } });
    assert.equal((await terminal(wire.agent, 'deadline-zero')).state, 'TASK_FINISHED');
    const refused = await terminal(wire.agent, 'deadline-negative');
    assert.deepEqual([refused.state, refused.reason], ['TASK_ERROR', 'REASON_TASK_INVALID']);
    assert.match(refused.message ?? '', /max_completion_time must not be negative/);
  });

  it('LAUNCH_GROUP: when one task fails, the rest of the group is killed', async () => {
    wire.agent.launchTaskGroup([
      { task_id: 'g-fail', data: payload('fail', { message: 'group member failed' }) },
      { task_id: 'g-sleep', data: payload('sleep', { ms: 20_000 }) },
    ]);
    assert.equal((await terminal(wire.agent, 'g-fail')).state, 'TASK_FAILED');
    assert.equal((await terminal(wire.agent, 'g-sleep')).state, 'TASK_KILLED');
  });

  it('framework messages: a job can send one to the scheduler', async () => {
    const got: string[] = [];
    const listener = (data: Uint8Array): void => void got.push(Buffer.from(data).toString());
    wire.agent.on('frameworkMessage', listener);
    wire.agent.launchTask({ task_id: 'tell', data: payload('tellScheduler', 'hello scheduler') });
    await terminal(wire.agent, 'tell');
    await waitFor(() => got.length > 0, { what: 'the framework message' });
    wire.agent.off('frameworkMessage', listener);
    assert.match(got[0]!, /hello scheduler/);
  });

  it('exactly one terminal update per task under a random mix of jobs and kills', async () => {
    let seed = 12345;
    const random = (): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const jobs: Array<[string, unknown]> = [
      ['noop', undefined],
      ['spin', { ms: 20 }],
      ['sleep', { ms: 30 }],
      ['fail', { message: 'x' }],
      ['throws', { message: 'y' }],
      ['cooperative', undefined],
      ['primes', { limit: 20_000 }],
    ];
    const ids: string[] = [];
    for (let i = 0; i < 60; i++) {
      const [job, input] = jobs[Math.floor(random() * jobs.length)]!;
      const id = `mix-${i}`;
      ids.push(id);
      wire.agent.launchTask({ task_id: id, data: payload(job, input) });
      if (job === 'cooperative' || random() < 0.2) wire.agent.killTask(id, killPolicy(Math.floor(random() * 50)));
    }
    for (const id of ids) await terminal(wire.agent, id);
    await waitFor(() => wire.agent.counters.acksSent >= wire.agent.counters.accepted, { what: 'every update acknowledged' });
    for (const id of ids) {
      const ends = statuses(wire.agent, id).filter((s) => isTerminalState(s.state));
      assert.equal(ends.length, 1, `${id}: ${JSON.stringify(states(wire.agent, id))}`);
    }
    assert.equal(wire.agent.counters.dropped, 0, 'no update was sent after a terminal one');
  });
});

describe('pool executor shutdown over the wire', () => {
  it('SHUTDOWN with running and queued tasks: every task KILLED, acknowledged, executor exits 0', async () => {
    const wire = await startWire({ shutdownGracePeriodMs: 4000, taskKillingState: true });
    try {
      for (let i = 0; i < 5; i++) wire.agent.launchTask({ task_id: `s-${i}`, data: payload('sleep', { ms: 60_000 }) });
      wire.agent.launchTask({ task_id: 's-hang', data: payload('hang') });
      await waitFor(() => [0, 1, 2, 3, 4].filter((i) => states(wire.agent, `s-${i}`).includes('TASK_STARTING')).length === 5, {
        what: 'all accepted',
      });
      const exit = await wire.agent.shutdownExecutor();
      assert.deepEqual(exit, { code: 0, signal: null }, wire.handle.stderr);
      for (const id of ['s-0', 's-1', 's-2', 's-3', 's-4', 's-hang']) {
        const ends = statuses(wire.agent, id).filter((s) => isTerminalState(s.state));
        assert.equal(ends.length, 1, id);
        assert.equal(ends[0]!.state, 'TASK_KILLED', id);
        assert.notEqual(ends[0]!.source, 'SOURCE_AGENT', `${id} was ended by the executor, not the agent`);
      }
      assert.equal(wire.agent.counters.acksSent, wire.agent.counters.accepted);
    } finally {
      await wire.agent.stop();
    }
  });

  it('a bad environment is a clear error and exit code 2', async () => {
    const child = spawn(process.execPath, [MAIN], { env: { PATH: process.env.PATH ?? '' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    assert.equal(code, 2);
    assert.match(stderr, /MESOS_FRAMEWORK_ID/);
    assert.match(stderr, /MPE_ENV_MISSING/);
  });
});

describe('the local command end to end', () => {
  function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
    const child = spawn(process.execPath, [MAIN, 'local', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    return new Promise((resolve) => child.on('exit', (code) => resolve({ code, stdout, stderr })));
  }

  it('runs a workload, prints the summary and exits 0', async () => {
    const { code, stdout, stderr } = await runCli(['-n', '30', '--job', 'primes', '--input', '{"limit":5000}', '--threads', '2']);
    assert.equal(code, 0, stdout + stderr);
    assert.match(stdout, /tasks\s+30\/30 ended/);
    assert.match(stdout, /TASK_FINISHED 30/);
    assert.match(stdout, /LAUNCH→RUNNING\s+p50 .* p95 .* p99/);
    assert.match(stdout, /90 updates accepted, 0 duplicates, 90 acknowledgements sent/);
    assert.match(stdout, /OK: every task ended TASK_FINISHED/);
  });

  it('exits 1 when tasks do not end as expected, and names them', async () => {
    const { code, stdout } = await runCli(['-n', '3', '--job', 'fail', '--input', '{"message":"nope"}', '--threads', '1']);
    assert.equal(code, 1);
    assert.match(stdout, /TASK_FAILED 3/);
    assert.match(stdout, /task-1: TASK_FAILED — nope/);
  });

  it('an executor that fails is reported with the end of its stderr', async () => {
    const { code, stdout } = await runCli(['-n', '2', '--executor', 'echo "cannot start: no such module" >&2; exit 3']);
    assert.equal(code, 1);
    assert.match(stdout, /executor\s+exited 3/);
    assert.match(stdout, /\| cannot start: no such module/);
    assert.match(stdout, /not ended 2/);
  });

  it('runs another executor command under the local agent (--executor)', async () => {
    // The recording executor (a plain Executor on our driver) finishes tasks whose data is "finish".
    const fixture = fileURLToPath(new URL('../fixtures/recording-executor-main.js', import.meta.url));
    const dir = mkdtempSync(join(tmpdir(), 'mpe-local-'));
    const payloads = join(dir, 'payloads.txt');
    writeFileSync(payloads, 'finish\nfinish\nfinish\n');
    try {
      const { code, stdout, stderr } = await runCli(['--executor', `"${process.execPath}" "${fixture}"`, '--payloads', payloads]);
      assert.equal(code, 0, stdout + stderr);
      // The header wraps to 80 columns (a long path is broken across lines): read it unwrapped.
      assert.match(stdout.replace(/\n {19}/g, ''), /executor {9}under ".*recording-executor-main\.js"/);
      assert.match(stdout, /TASK_FINISHED 3/);
      assert.match(stdout, /6 updates accepted/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

// What goes on the wire, byte for byte (a recording proxy sits between executor and agent): the
// real agent refuses a JSON body with an unpaired surrogate escape (picojson: 400), and a
// protobuf string that is not UTF-8 is not what the job meant either.
for (const encoding of ['protobuf', 'json'] as const) {
  describe(`pool executor over the wire: text is well-formed (${encoding})`, () => {
    let agent: LocalAgent;
    let proxy: RecordingProxy;
    before(async () => {
      agent = new LocalAgent();
      await agent.start();
      const at = agent.endpoint.lastIndexOf(':');
      proxy = await RecordingProxy.start({ host: agent.endpoint.slice(0, at), port: Number(agent.endpoint.slice(at + 1)) });
      const handle = await agent.launchExecutor({
        command: process.execPath,
        args: [MAIN, '--threads', '2', '--jobs', TEXT_JOBS, '--content-type', encoding, '--log-level', 'warn'],
        env: { MESOS_AGENT_ENDPOINT: proxy.endpoint },
      });
      await waitFor(() => agent.subscribed || !handle.alive, { what: 'the executor to subscribe', timeoutMs: 15_000 });
      assert.ok(handle.alive, `executor exited early: ${handle.stderr}`);
    });
    after(async () => {
      await agent.shutdownExecutor();
      await agent.stop();
      await proxy.close();
    });

    it("a job throwing '\\ud83d' and a progress message with a lone surrogate: well-formed UPDATEs, all accepted", async () => {
      agent.launchTask({ task_id: 'lone-throw', data: payload('throwsValue', '\ud83d') });
      agent.launchTask({ task_id: 'lone-progress', data: payload('says', { message: 'half \ud83d done \ude00' }) });
      const thrown = 'job threw a non-error value: \ufffd';
      const progress = 'half \ufffd done \ufffd';
      assert.equal((await terminal(agent, 'lone-throw')).message, thrown);
      await waitFor(() => statuses(agent, 'lone-progress').some((s) => s.message === progress), { what: 'the progress update' });
      agent.killTask('lone-progress');
      assert.equal((await terminal(agent, 'lone-progress')).state, 'TASK_KILLED');

      const updates = proxy.requests.filter((r) => r.path.endsWith('/api/v1/executor') && r.body.length > 0);
      const messages: string[] = [];
      for (const { body } of updates) {
        if (encoding === 'json') {
          assert.ok(isUtf8(body), 'the JSON body is UTF-8');
          const text = body.toString('utf8');
          assert.doesNotMatch(text, /\\u[dD][89a-fA-F][0-9a-fA-F]{2}/, 'no surrogate escape');
          const call = JSON.parse(text) as { type: string; update?: { status: { message?: string } } };
          if (call.type === 'UPDATE' && call.update?.status.message !== undefined) messages.push(call.update.status.message);
        } else {
          for (const raw of fieldBytes(body, [FIELD.CALL_UPDATE, FIELD.UPDATE_STATUS, FIELD.STATUS_MESSAGE])) {
            assert.ok(isUtf8(raw), `the message bytes are UTF-8: ${raw.toString('hex')}`);
            messages.push(raw.toString('utf8'));
          }
        }
      }
      assert.ok(messages.includes(thrown), `sent: ${JSON.stringify(messages)}`);
      assert.ok(messages.includes(progress), `sent: ${JSON.stringify(messages)}`);
      const refused = agent.calls.filter((c) => c.type === 'UPDATE' && c.status !== 202);
      assert.deepEqual(refused, [], 'the agent accepted every UPDATE');
    });
  });
}
