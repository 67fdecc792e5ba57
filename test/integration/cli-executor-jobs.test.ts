// The job registry of a real executor process under the LocalAgent: what the operator lists is
// what runs, and a module that cannot be registered stops the executor (exit 2, with the reason)
// before it subscribes.
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, it } from 'node:test';
import { LocalAgent } from '../../src/agent/index.js';
import { isTerminalState } from '../../src/proto/types.js';
import { waitFor } from '../helpers/wait.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/jobs/${name}.js`, import.meta.url));

const agents: LocalAgent[] = [];
afterEach(async () => {
  for (const agent of agents.splice(0)) await agent.stop();
});

async function launch(args: string[], env: Record<string, string> = {}) {
  const agent = new LocalAgent({});
  agents.push(agent);
  await agent.start();
  const handle = await agent.launchExecutor({ command: process.execPath, args: [MAIN, '--threads', '1', ...args], env });
  return { agent, handle };
}

describe('executor process: job registry', () => {
  it('a module exporting a built-in name: exit 2 naming the job and both sources, never subscribed', async () => {
    const { agent, handle } = await launch(['--jobs', fixture('conflict')]);
    const exit = await handle.exited;
    assert.deepEqual(exit, { code: 2, signal: null }, handle.stderr);
    assert.match(handle.stderr, /job "noop" is exported by both built-in jobs and file:\S*conflict\.js \(rename them, or drop the built-ins: --no-builtin-jobs/);
    assert.equal(agent.subscribed, false);
    assert.equal(agent.counters.subscribes, 0);
  });

  it('a module that fails to load: exit 2 with the import\'s message, never subscribed', async () => {
    const { agent, handle } = await launch(['--jobs', fixture('broken')]);
    const exit = await handle.exited;
    assert.deepEqual(exit, { code: 2, signal: null }, handle.stderr);
    assert.match(handle.stderr, /job module file:\S*broken\.js failed to load: broken on purpose \[MPE_JOB_MODULE\]/);
    assert.equal(agent.counters.subscribes, 0);
  });

  it('MESOS_POOL_EXECUTOR_JOBS and --no-builtin-jobs: only the declared jobs run', async () => {
    const { agent, handle } = await launch(['--no-builtin-jobs'], { MESOS_POOL_EXECUTOR_JOBS: fixture('declared') });
    await waitFor(() => agent.subscribed, { what: 'the executor to subscribe', timeoutMs: 15_000 });
    const ids = { shout: 'declared', helper: 'helper export', spin: 'built-in' };
    for (const [job, id] of Object.entries(ids)) agent.launchTask({ task_id: id, data: Buffer.from(JSON.stringify({ job, input: 'hi' })) });
    const end = (id: string) => agent.task(id)?.statuses.find((s) => isTerminalState(s.state));
    await waitFor(() => Object.values(ids).every((id) => end(id) !== undefined), { what: 'every task to end', timeoutMs: 15_000 });
    assert.equal(end(ids.shout)?.state, 'TASK_FINISHED');
    assert.equal(Buffer.from(end(ids.shout)?.data ?? []).toString(), '"HI"');
    for (const id of [ids.helper, ids.spin]) assert.equal(end(id)?.state, 'TASK_ERROR', id);
    await agent.shutdownExecutor();
    assert.equal((await handle.exited).code, 0, handle.stderr);
  });

  it('local with a broken --jobs module: exit 2 with its message before any agent starts', async () => {
    const child = spawn(process.execPath, [MAIN, 'local', '-n', '1', '--jobs', fixture('broken')], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const [code] = (await once(child, 'exit')) as [number | null];
    assert.equal(code, 2, stderr);
    assert.match(stderr, /failed to load: broken on purpose \[MPE_JOB_MODULE\]/);
    assert.ok(!stdout.includes('local agent'), stdout);
  });
});
