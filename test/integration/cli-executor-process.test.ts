// A whole executor process launched by the LocalAgent exactly as an agent launches one: it finds
// the agent from the environment alone, and exits as upstream's executors do.
import { strict as assert } from 'node:assert';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, it } from 'node:test';
import { LocalAgent, type LocalAgentOptions } from '../../src/agent/index.js';
import { waitFor } from '../helpers/wait.js';

const MAIN = fileURLToPath(new URL('../fixtures/recording-executor-main.js', import.meta.url));

const agents: LocalAgent[] = [];
afterEach(async () => {
  for (const agent of agents.splice(0)) await agent.stop();
});

async function launch(options: LocalAgentOptions, args: string[] = []) {
  const agent = new LocalAgent(options);
  agents.push(agent);
  await agent.start();
  const handle = await agent.launchExecutor({ command: process.execPath, args: [MAIN, ...args] });
  await waitFor(() => agent.subscribed, { what: 'the executor process to subscribe', timeoutMs: 10_000 });
  return { agent, handle };
}

function lines(stdout: string): Array<Record<string, unknown>> {
  return stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe('executor process under the LocalAgent', () => {
  for (const json of [false, true]) {
    it(`runs a task and exits 0 after SHUTDOWN (${json ? 'json' : 'protobuf'})`, async () => {
      const { agent, handle } = await launch({ authToken: 'secret-token-0123456789' }, json ? ['--json'] : []);
      agent.launchTask({ task_id: 'p1', data: Buffer.from('finish') });
      await waitFor(() => agent.task('p1')?.state === 'TASK_FINISHED', { what: 'TASK_FINISHED' });
      await agent.shutdownExecutor();
      const exit = await handle.exited;
      assert.deepEqual(exit, { code: 0, signal: null }, handle.stderr);
      const out = lines(handle.stdout);
      assert.deepEqual(out[0], { tokenInEnv: false }, 'the driver erased the token from its environment');
      assert.deepEqual(out.slice(1).map((l) => l.callback), ['registered', 'launchTask', 'shutdown']);
      assert.equal(agent.task('p1')?.state, 'TASK_FINISHED', 'no TASK_FAILED from the agent: the exit came after the ACKs');
      assert.ok(!handle.stdout.includes('secret-token') && !handle.stderr.includes('secret-token'));
    });
  }

  it('without checkpointing, exits after the agent connection is lost', async () => {
    const { agent, handle } = await launch({ frameworkInfo: { checkpoint: false } });
    agent.dropStream();
    const exit = await handle.exited;
    assert.equal(exit.code, 0, handle.stderr);
    assert.deepEqual(lines(handle.stdout).slice(1).map((l) => l.callback), ['registered', 'disconnected', 'shutdown']);
  });

  it('an executor that exits leaves its non-terminal tasks TASK_FAILED (REASON_EXECUTOR_TERMINATED)', async () => {
    const { agent, handle } = await launch({});
    agent.launchTask({ task_id: 'orphan', data: Buffer.from('run') });
    await waitFor(() => agent.task('orphan')?.state === 'TASK_RUNNING', { what: 'TASK_RUNNING' });
    handle.kill('SIGKILL');
    await handle.exited;
    await waitFor(() => agent.task('orphan')?.state === 'TASK_FAILED', { what: 'TASK_FAILED' });
    const last = agent.task('orphan')!.statuses.at(-1)!;
    assert.equal(last.reason, 'REASON_EXECUTOR_TERMINATED');
    assert.equal(last.source, 'SOURCE_AGENT');
  });
});
