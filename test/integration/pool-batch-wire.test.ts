// Batch tasks over the real wire: LocalAgent, the executor process launched from the agent's
// environment (our CLI), real worker threads. One Mesos task, many items.
import { strict as assert } from 'node:assert';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { LocalAgent, type ExecutorHandle } from '../../src/agent/index.js';
import { isTerminalState, type Resource, type TaskStatus } from '../../src/proto/types.js';
import { killPolicy } from '../helpers/pool-tasks.js';
import { waitFor } from '../helpers/wait.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const BATCH_JOBS = fileURLToPath(new URL('../fixtures/jobs/batch.js', import.meta.url));

interface Wire {
  agent: LocalAgent;
  handle: ExecutorHandle;
}

const cpus = (value: number): Resource[] => [{ name: 'cpus', type: 'SCALAR', scalar: { value } }];
const batch = (job: string, items: unknown[]): Buffer => Buffer.from(JSON.stringify({ job, batch: items }));
const text = (data: Uint8Array | undefined): string => Buffer.from(data ?? new Uint8Array()).toString('utf8');

function statuses(agent: LocalAgent, id: string): TaskStatus[] {
  return [...(agent.task(id)?.statuses ?? [])];
}

async function terminal(agent: LocalAgent, id: string, timeoutMs = 15_000): Promise<TaskStatus> {
  return waitFor(() => statuses(agent, id).find((s) => isTerminalState(s.state)), { what: `task ${id} to end`, timeoutMs });
}

describe('batch tasks over the wire', () => {
  let wire: Wire;
  const messages: string[] = [];
  before(async () => {
    const agent = new LocalAgent();
    await agent.start();
    agent.on('frameworkMessage', (data) => messages.push(text(data)));
    const handle = await agent.launchExecutor({
      command: process.execPath,
      // A small result bound, so that a batch's results can be over it without big items.
      args: [MAIN, '--threads', '2', '--jobs', BATCH_JOBS, '--log-level', 'warn', '--max-batch-items', '500'],
    });
    await waitFor(() => agent.subscribed || !handle.alive, { what: 'the executor to subscribe', timeoutMs: 15_000 });
    assert.ok(handle.alive, `executor exited early: ${handle.stderr}`);
    wire = { agent, handle };
  });
  after(async () => {
    await wire.agent.shutdownExecutor();
    await wire.agent.stop();
  });

  it('a batch that all succeeds: FINISHED, every result in item order in its data', async () => {
    const items = Array.from({ length: 50 }, (_, i) => ({ n: i }));
    wire.agent.launchTask({ task_id: 'all-ok', data: batch('item', items), resources: cpus(2) });
    const end = await terminal(wire.agent, 'all-ok');
    assert.equal(end.state, 'TASK_FINISHED');
    assert.equal(end.message, '50 items done');
    const results = JSON.parse(text(end.data)) as Array<{ result: { index: number; input: unknown } }>;
    assert.deepEqual(
      results,
      items.map((input, index) => ({ result: { index, input } })),
    );
    assert.equal(statuses(wire.agent, 'all-ok')[0]?.state, 'TASK_STARTING');
    assert.ok(statuses(wire.agent, 'all-ok').some((s) => s.state === 'TASK_RUNNING'));
  });

  it('a batch with failing items: FAILED, saying how many and which, the others\' results kept', async () => {
    const items = [{ n: 0 }, { fail: 'bad one' }, { n: 2 }, { fail: 'bad three' }, { n: 4 }];
    wire.agent.launchTask({ task_id: 'some-fail', data: batch('item', items), resources: cpus(1) });
    const end = await terminal(wire.agent, 'some-fail');
    assert.equal(end.state, 'TASK_FAILED');
    assert.equal(end.message, '2 of 5 items failed: item 1: bad one; item 3: bad three');
    assert.deepEqual(JSON.parse(text(end.data)), [
      { result: { index: 0, input: { n: 0 } } },
      { error: 'bad one' },
      { result: { index: 2, input: { n: 2 } } },
      { error: 'bad three' },
      { result: { index: 4, input: { n: 4 } } },
    ]);
  });

  it('results over the status data limit go to an NDJSON file in the sandbox, which the update names', async () => {
    // 400 items of ~2.6 KiB results: over 1 MiB, the data limit.
    const pad = 'p'.repeat(2600);
    const items = Array.from({ length: 400 }, (_, i) => (i === 7 ? { fail: 'seven' } : { pad }));
    wire.agent.launchTask({ task_id: 'to-file', data: batch('item', items), resources: cpus(2) });
    const end = await terminal(wire.agent, 'to-file', 30_000);
    assert.equal(end.state, 'TASK_FAILED');
    const pointer = JSON.parse(text(end.data)) as { resultsFile: string; bytes: number; items: number; failed: number };
    assert.equal(pointer.resultsFile, 'batch-results/to-file.ndjson');
    assert.deepEqual([pointer.items, pointer.failed], [400, 1]);
    assert.match(end.message ?? '', /^1 of 400 items failed: item 7: seven; results in the sandbox's batch-results\/to-file\.ndjson \(\d+ bytes of NDJSON, over the 1048576-byte limit/);
    const content = await readFile(join(wire.agent.sandboxDir, pointer.resultsFile), 'utf8');
    assert.equal(Buffer.byteLength(content), pointer.bytes);
    const lines = content.trimEnd().split('\n').map((line) => JSON.parse(line) as { index: number; result?: { index: number }; error?: string });
    assert.equal(lines.length, 400);
    lines.forEach((line, i) => {
      assert.equal(line.index, i);
      if (i === 7) assert.deepEqual(line, { index: 7, error: 'seven' });
      else assert.equal(line.result?.index, i);
    });
  });

  it('a killed batch: KILLED, its items in flight stopped, and no item starts after the kill', async () => {
    messages.length = 0;
    const items = Array.from({ length: 30 }, () => null);
    wire.agent.launchTask({ task_id: 'killed', data: batch('announce', items), resources: cpus(2) });
    // Chunks start at one item each: two items run, on the two threads.
    await waitFor(() => messages.filter((m) => m.startsWith('start ')).length === 2, { what: 'two items started' });
    wire.agent.killTask('killed', killPolicy(5_000));
    const end = await terminal(wire.agent, 'killed');
    assert.equal(end.state, 'TASK_KILLED');
    // Anything the executor would still do for that task comes before the next task's end.
    wire.agent.launchTask({ task_id: 'after-kill', data: batch('item', [1]) });
    assert.equal((await terminal(wire.agent, 'after-kill')).state, 'TASK_FINISHED');
    assert.deepEqual(messages.sort(), ['start 0', 'start 1']);
  });

  it('items run at most ceil(cpus) at once: a batch of cpus 0.5 leaves the other thread to other tasks', async () => {
    messages.length = 0;
    wire.agent.launchTask({ task_id: 'narrow', data: batch('announce', [null, null, null]), resources: cpus(0.5) });
    await waitFor(() => messages.includes('start 0'), { what: 'the first item started' });
    // Were the batch allowed two chunks at once, its second item would hold the other thread
    // (announce waits to be killed) and this task could never run.
    wire.agent.launchTask({ task_id: 'beside', data: Buffer.from('{"job":"item","input":"x"}') });
    assert.equal((await terminal(wire.agent, 'beside')).state, 'TASK_FINISHED');
    assert.deepEqual(messages, ['start 0']);
    wire.agent.killTask('narrow', killPolicy(5_000));
    assert.equal((await terminal(wire.agent, 'narrow')).state, 'TASK_KILLED');
  });

  it('reports progress as items complete, rate-limited', async () => {
    const items = Array.from({ length: 24 }, () => ({ ms: 40 }));
    wire.agent.launchTask({ task_id: 'progressing', data: batch('sleep', items), resources: cpus(1) });
    const end = await terminal(wire.agent, 'progressing', 30_000);
    assert.equal(end.state, 'TASK_FINISHED');
    const progress = statuses(wire.agent, 'progressing').filter((s) => s.state === 'TASK_RUNNING' && s.message !== undefined);
    assert.ok(progress.length >= 1, 'at least one progress update over ~1 s of items');
    // 250 ms apart at least (the run takes ~1 s, more on a loaded machine): far fewer than one per item.
    assert.ok(progress.length <= 12, `${progress.length} progress updates for 24 items`);
    for (const s of progress) assert.match(s.message ?? '', /^\d+\/24 items done, 0 failed$/);
  });

  it('bad batches are TASK_ERROR saying what is wrong', async () => {
    const cases: Array<[string, Buffer, string]> = [
      ['bad-shape', Buffer.from('{"job":"item","batch":{"a":1}}'), 'task data\'s "batch" must be an array of inputs {"job": <name>, "batch": [<input>, …]}, got an object'],
      ['bad-both', Buffer.from('{"job":"item","input":1,"batch":[1]}'), 'task data has both "input" and "batch": give "input" for one input or "batch" for many'],
      ['bad-many', batch('item', Array.from({ length: 501 }, () => 0)), 'task data\'s "batch" has 501 items, over the limit of 500'],
      ['bad-empty', batch('item', []), 'task data\'s "batch" is empty: give at least one input'],
    ];
    for (const [id, data] of cases) wire.agent.launchTask({ task_id: id, data });
    for (const [id, , message] of cases) {
      const end = await terminal(wire.agent, id);
      assert.equal(end.state, 'TASK_ERROR', id);
      assert.equal(end.message, message, id);
    }
  });

  it('a batch within a task group runs beside the group\'s other task', async () => {
    wire.agent.launchTaskGroup([
      { task_id: 'g-batch', data: batch('item', [1, 2, 3]) },
      { task_id: 'g-single', data: Buffer.from('{"job":"item","input":"solo"}') },
    ]);
    const [a, b] = await Promise.all([terminal(wire.agent, 'g-batch'), terminal(wire.agent, 'g-single')]);
    assert.equal(a.state, 'TASK_FINISHED');
    assert.deepEqual(JSON.parse(text(a.data)), [1, 2, 3].map((input, index) => ({ result: { index, input } })));
    assert.equal(b.state, 'TASK_FINISHED');
    assert.deepEqual(JSON.parse(text(b.data)), { input: 'solo' });
  });

  it('a failing batch in a task group takes the group down, as a failing task does', async () => {
    wire.agent.launchTaskGroup([
      { task_id: 'gf-batch', data: batch('item', [{ fail: 'no' }]) },
      { task_id: 'gf-wait', data: batch('announce', [null]) },
    ]);
    assert.equal((await terminal(wire.agent, 'gf-batch')).state, 'TASK_FAILED');
    assert.equal((await terminal(wire.agent, 'gf-wait')).state, 'TASK_KILLED');
  });
});
