// `local` as a job-development tool, as a process: --results, --json / --json-file, failures cut
// with "… and N more", and SIGTERM/SIGHUP handled like Ctrl-C (executor stopped, sandbox removed,
// metrics endpoint closed).
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import type { JsonSummary } from '../../src/cli/local/json-summary.js';
import { waitFor } from '../helpers/wait.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

function runCli(args: string[]) {
  const child = spawn(process.execPath, [MAIN, 'local', '--threads', '1', '--no-progress', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const output = { stdout: '', stderr: '' };
  child.stdout.on('data', (d: Buffer) => (output.stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output.stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output, exited };
}

const dir = mkdtempSync(join(tmpdir(), 'mpe-local-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('local: results and JSON', () => {
  it('--results --json: stdout is the JSON alone, with every result; the people\'s output goes to stderr', async () => {
    const { output, exited } = runCli(['-n', '3', '--job', 'primes', '--input', '{"limit":100}', '--results', '--json']);
    assert.equal(await exited, 0, output.stderr);
    const summary = JSON.parse(output.stdout) as JsonSummary;
    assert.equal(summary.ok, true);
    assert.deepEqual(summary.states, { TASK_FINISHED: 3 });
    assert.equal(summary.launch.kind, 'offers');
    assert.deepEqual(summary.launch.task, { cpus: 1, mem: 128 });
    assert.equal(summary.executor.exit?.code, 0);
    assert.deepEqual(summary.results?.map((r) => [r.taskId, r.state, r.data]), [1, 2, 3].map((n) => [`task-${n}`, 'TASK_FINISHED', '{"limit":100,"count":25}']));
    assert.match(output.stderr, /\nResults\n {2}task-1 {2}TASK_FINISHED {2}\{"limit":100,"count":25\}\n {2}task-2 {2}TASK_FINISHED {2}\{"limit":100,"count":25\}\n/);
    assert.match(output.stderr, /result {11}OK/);
  });

  it('--json-file writes the summary there; failures past 20 are cut with "… and N more"', async () => {
    const file = join(dir, 'summary.json');
    const { output, exited } = runCli(['-n', '23', '--job', 'fail', '--input', '{"message":"on purpose"}', '--json-file', file, '--results']);
    assert.equal(await exited, 1, output.stderr);
    const summary = JSON.parse(readFileSync(file, 'utf8')) as JsonSummary;
    assert.equal(summary.ok, false);
    assert.equal(summary.unexpectedCount, 23);
    assert.equal(summary.unexpected.length, 20);
    assert.equal(summary.results?.[0]?.state, 'TASK_FAILED');
    assert.match(summary.results?.[0]?.message ?? '', /on purpose/);
    assert.match(output.stdout, /\n {2}… and 3 more\n/);
    assert.match(output.stdout, /task-1 {2}TASK_FAILED {2}.*on purpose/);
  });
});

describe('local: 80 columns', () => {
  it('with a long job name and message, the header and the summary fit 80 columns', async () => {
    const job = `a-job-whose-name-goes-on-${'and-on-'.repeat(12)}`;
    const { output, exited } = runCli(['-n', '2', '--job', job, '--input', JSON.stringify({ text: 'x'.repeat(200) })]);
    assert.equal(await exited, 1, output.stdout + output.stderr);
    const lines = output.stdout.split('\n');
    for (const line of lines) assert.ok([...line].length <= 80, `${[...line].length} columns: ${line}`);
    // The header breaks the long name and input over lines; the task's (long) message is cut.
    assert.match(output.stdout, /mesos-pool-executor local: 2 tasks of\n {2}a-job-whose-name-goes-on-(and-on-)+[^\n]*\n {2}[a-z-]*/);
    assert.match(output.stdout, /\n {2}! task-1: TASK_ERROR — [^\n]{40,}…\n/);
  });
});

describe('local: the executor\'s logs', () => {
  it('--executor-logs shows our executor\'s log lines as they come; without it they are not shown', async () => {
    const shown = runCli(['-n', '1', '--job', 'noop', '--executor-logs', '--log-level', 'info']);
    assert.equal(await shown.exited, 0, shown.output.stderr);
    assert.match(shown.output.stderr, /^\{"level":30,[^\n]*"msg":"pool executor starting"\}$/m);
    const hidden = runCli(['-n', '1', '--job', 'noop', '--log-level', 'info']);
    assert.equal(await hidden.exited, 0, hidden.output.stderr);
    assert.doesNotMatch(hidden.output.stderr + hidden.output.stdout, /pool executor starting/);
  });
});

describe('local: signals', () => {
  for (const signal of ['SIGTERM', 'SIGHUP'] as const) {
    it(`${signal} is handled like Ctrl-C: the executor stopped, the sandbox removed, the metrics endpoint closed`, async () => {
      const { child, output, exited } = runCli(['-n', '2', '--job', 'sleep', '--input', '{"ms":60000}', '--json']);
      await waitFor(() => /metrics {10}http:\S+/.test(output.stderr), { what: 'the executor to subscribe and serve metrics', timeoutMs: 20_000 });
      const url = /metrics {10}(http:\S+)/.exec(output.stderr)![1]!;
      assert.equal((await fetch(url)).status, 200);
      child.kill(signal);
      assert.equal(await exited, 1, output.stderr);
      const summary = JSON.parse(output.stdout) as JsonSummary;
      assert.equal(summary.interrupted, true);
      assert.match(output.stderr, /the run was interrupted/);
      // Read after the executor stopped: the kills its shutdown sent are counted, as the agent saw them.
      assert.ok(summary.metrics !== null, 'the executor wrote its final metrics');
      assert.ok((summary.states['TASK_KILLED'] ?? 0) >= 1, JSON.stringify(summary.states));
      for (const [state, count] of Object.entries(summary.states)) assert.equal(summary.metrics.updates[state], count, `${state}: metrics ${JSON.stringify(summary.metrics.updates)}`);
      const pid = summary.executor.pid;
      assert.ok(pid !== null && pid > 0);
      assert.throws(() => process.kill(-pid, 0), { code: 'ESRCH' }, 'no process of the executor\'s group is left');
      assert.equal(existsSync(summary.sandboxDir), false, 'the sandbox is removed');
      await assert.rejects(fetch(url), 'the metrics endpoint is closed');
    });
  }
});
