// Where an executor's output goes: into the sandbox's `stdout` and `stderr` files, as a Mesos
// agent's container logger puts it; and with `local --json`, an executor that writes to stdout
// (not ours) cannot spoil the JSON: its output is shown on stderr, stdout is one JSON document.
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import { LocalAgent } from '../../src/agent/index.js';
import type { JsonSummary } from '../../src/cli/local/json-summary.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const RECORDING = fileURLToPath(new URL('../fixtures/recording-executor-main.js', import.meta.url));

const dir = mkdtempSync(join(tmpdir(), 'mpe-local-output-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('the executor\'s output', () => {
  it('sandboxLogs: its stdout and stderr are also the sandbox\'s stdout and stderr files, complete at its exit', async () => {
    const agent = new LocalAgent({ sandboxDir: dir });
    await agent.start();
    try {
      const handle = await agent.launchExecutor({ command: 'printf "out 1\\nout 2\\n"; printf "err 1\\n" >&2; exit 3', shell: true, sandboxLogs: true });
      assert.deepEqual(await handle.exited, { code: 3, signal: null });
      assert.equal(readFileSync(join(dir, 'stdout'), 'utf8'), 'out 1\nout 2\n');
      assert.equal(readFileSync(join(dir, 'stderr'), 'utf8'), 'err 1\n');
      assert.equal(handle.stdout, 'out 1\nout 2\n', 'and still kept in memory');
    } finally {
      await agent.stop();
    }
  });

  it('local --json with another executor that writes on stdout: stdout is exactly one JSON document, the executor\'s lines are on stderr', async () => {
    const payloads = join(dir, 'payloads.txt');
    writeFileSync(payloads, 'finish\nfinish\nfinish\n');
    const child = spawn(process.execPath, [MAIN, 'local', '--no-progress', '--json', '--payloads', payloads, '--executor', `"${process.execPath}" "${RECORDING}"`], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    assert.equal(code, 0, `${stdout}\n${stderr}`);
    // One document and nothing else: JSON.parse refuses anything before or after it.
    const summary = JSON.parse(stdout) as JsonSummary;
    assert.equal(summary.ok, true);
    assert.deepEqual(summary.states, { TASK_FINISHED: 3 });
    assert.match(stderr, /^\{"callback":"launchTask","taskId":"task-1"\}$/m, 'the executor\'s stdout is shown, on our stderr');
    assert.match(stderr, /^\{"callback":"shutdown"\}$/m);
    assert.doesNotMatch(stdout, /callback/);
  });
});
