// The bad-payload corpus (test/fixtures/bad-payloads/corpus.ts) over the real wire: LocalAgent,
// the executor process, real worker threads. Every bad payload ends TASK_ERROR with a message
// saying what is wrong, and the executor keeps serving; the look-alike oddities run normally and
// change nothing (no prototype pollution, nothing evaluated).
import { strict as assert } from 'node:assert';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { LocalAgent, type ExecutorHandle } from '../../src/agent/index.js';
import { isTerminalState, type TaskStatus } from '../../src/proto/types.js';
import { BAD_PAYLOADS, ODDITIES } from '../fixtures/bad-payloads/corpus.js';
import { waitFor } from '../helpers/wait.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const FAULT_JOBS = fileURLToPath(new URL('../fixtures/jobs/faults.js', import.meta.url));

let agent: LocalAgent;
let handle: ExecutorHandle;

before(async () => {
  agent = new LocalAgent();
  await agent.start();
  handle = await agent.launchExecutor({
    command: process.execPath,
    args: [MAIN, '--threads', '2', '--jobs', FAULT_JOBS, '--log-level', 'warn'],
  });
  await waitFor(() => agent.subscribed || !handle.alive, { what: 'the executor to subscribe', timeoutMs: 15_000 });
  assert.ok(handle.alive, handle.stderr);
});

after(async () => {
  if (handle.alive) await agent.shutdownExecutor();
  await agent.stop();
});

function terminal(id: string, timeoutMs = 15_000): Promise<TaskStatus> {
  return waitFor(() => agent.task(id)?.statuses.find((s) => isTerminalState(s.state)), { what: `task ${id} to end`, timeoutMs });
}

describe('bad task payloads over the wire', () => {
  it(`each of the ${BAD_PAYLOADS.length} bad payloads ends TASK_ERROR with its reason, all at once`, async () => {
    for (const bad of BAD_PAYLOADS) agent.launchTask({ task_id: `bad-${bad.name}`, data: bad.data });
    for (const bad of BAD_PAYLOADS) {
      const id = `bad-${bad.name}`;
      const end = await terminal(id);
      assert.equal(end.state, 'TASK_ERROR', `${bad.name}: ${String(end.state)} ${end.message ?? ''}`);
      assert.match(end.message ?? '', bad.message, bad.name);
      assert.equal(end.source, 'SOURCE_EXECUTOR', bad.name);
      // TASK_ERROR alone: the task was never started.
      assert.deepEqual(agent.task(id)!.statuses.map((s) => s.state), ['TASK_ERROR'], bad.name);
    }
    assert.ok(handle.alive, `the executor survived the corpus: ${handle.stderr}`);
  });

  it('the executor keeps serving afterwards, on every thread', async () => {
    for (let i = 0; i < 6; i++) agent.launchTask({ task_id: `after-bad-${i}`, data: Buffer.from('{"job":"primes","input":{"limit":5000}}') });
    for (let i = 0; i < 6; i++) assert.equal((await terminal(`after-bad-${i}`)).state, 'TASK_FINISHED');
  });

  it('look-alike oddities run normally, return their input unchanged, and pollute nothing', async () => {
    for (const odd of ODDITIES) agent.launchTask({ task_id: `odd-${odd.name}`, data: odd.data });
    for (const odd of ODDITIES) {
      const end = await terminal(`odd-${odd.name}`);
      assert.equal(end.state, 'TASK_FINISHED', `${odd.name}: ${end.message ?? ''}`);
      if (odd.result !== undefined) assert.equal(Buffer.from(end.data ?? []).toString('utf8'), odd.result, odd.name);
    }
    // Nothing evaluated: the process is alive and no file was written by "code" in an input.
    assert.ok(handle.alive);
    assert.equal(existsSync('/tmp/pwned-mpe'), false);
    // No pollution on the worker threads: a fresh object there has no "polluted" property.
    agent.launchTask({ task_id: 'pollution-probe', data: Buffer.from('{"job":"echo","input":{}}') });
    const probe = await terminal('pollution-probe');
    assert.equal(Buffer.from(probe.data ?? []).toString(), '{}');
  });

  it('bad payloads inside a LAUNCH_GROUP: the whole group is TASK_ERROR, each with its reason', async () => {
    agent.launchTaskGroup([
      { task_id: 'grp-ok', data: Buffer.from('{"job":"noop"}') },
      { task_id: 'grp-path', data: Buffer.from('{"job":"../x"}') },
      { task_id: 'grp-deep', data: BAD_PAYLOADS.find((b) => b.name === 'deep-arrays-100k')!.data },
    ]);
    for (const id of ['grp-ok', 'grp-path', 'grp-deep']) assert.equal((await terminal(id)).state, 'TASK_ERROR', id);
    assert.match((await terminal('grp-ok')).message ?? '', /group is invalid/);
  });
});
