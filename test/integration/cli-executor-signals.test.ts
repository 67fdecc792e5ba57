// SIGTERM, SIGINT and SIGHUP to a real executor process under the LocalAgent: handled like the
// agent's SHUTDOWN (tasks killed, terminal updates sent and acknowledged, exit 0); a second
// signal exits at once.
import { strict as assert } from 'node:assert';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, it } from 'node:test';
import { LocalAgent } from '../../src/agent/index.js';
import { isTerminalState } from '../../src/proto/types.js';
import { waitFor } from '../helpers/wait.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const FAULT_JOBS = fileURLToPath(new URL('../fixtures/jobs/faults.js', import.meta.url));

const agents: LocalAgent[] = [];
afterEach(async () => {
  for (const agent of agents.splice(0)) await agent.stop();
});

async function start(shutdownGracePeriodMs: number) {
  const agent = new LocalAgent({ shutdownGracePeriodMs, frameworkInfo: { checkpoint: true } });
  agents.push(agent);
  await agent.start();
  const handle = await agent.launchExecutor({ command: process.execPath, args: [MAIN, '--threads', '2', '--jobs', FAULT_JOBS, '--log-level', 'info'] });
  await waitFor(() => agent.subscribed, { what: 'the executor to subscribe', timeoutMs: 15_000 });
  const launch = async (id: string, job: string): Promise<void> => {
    agent.launchTask({ task_id: id, data: Buffer.from(JSON.stringify({ job })) });
    await waitFor(() => agent.task(id)?.state === 'TASK_RUNNING', { what: `${id} to run`, timeoutMs: 10_000 });
  };
  const terminal = (id: string) => agent.task(id)?.statuses.find((s) => isTerminalState(s.state));
  return { agent, handle, launch, terminal };
}

describe('executor process: signals', () => {
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
    it(`${signal}: every task killed and reported by the executor, acknowledged, exit 0`, async () => {
      const { handle, launch, terminal } = await start(3_000);
      await launch('coop', 'cooperative');
      await launch('hung', 'hang');
      handle.kill(signal);
      const exit = await handle.exited;
      assert.deepEqual(exit, { code: 0, signal: null }, handle.stderr);
      for (const id of ['coop', 'hung']) {
        const end = terminal(id);
        assert.equal(end?.state, 'TASK_KILLED', id);
        assert.equal(end?.source, 'SOURCE_EXECUTOR', `${id}: reported by the executor, not the agent`);
        assert.match(end?.message ?? '', /^killed: the executor is shutting down/);
      }
      assert.match(handle.stderr, new RegExp(`"signal":"${signal}"[^\\n]*signal received: shutting down as on SHUTDOWN`));
    });
  }

  it('a second signal during the shutdown exits at once with 128 + its number', async () => {
    // A long grace: the hung task would hold the shutdown for ~18 s.
    const { handle, launch } = await start(20_000);
    await launch('hung', 'hang');
    handle.kill('SIGINT');
    await waitFor(() => handle.stderr.includes('signal received'), { what: 'the first signal to be handled' });
    const t0 = performance.now();
    handle.kill('SIGINT');
    const exit = await handle.exited;
    assert.deepEqual(exit, { code: 130, signal: null }, handle.stderr);
    assert.ok(performance.now() - t0 < 5_000, 'well before the grace period');
  });
});
