// local's output options: --results, --json, --json-file.
import { strict as assert } from 'node:assert';
import { resolve } from 'node:path';
import { describe, it } from 'node:test';
import { parseCommand } from '../../src/cli/args.js';
import type { LocalRunResult } from '../../src/cli/local/run-local.js';
import { formatResults } from '../../src/cli/local/summary.js';
import { MesosExecutorError } from '../../src/errors.js';

describe('local output options', () => {
  it('default: no results, no JSON', () => {
    const command = parseCommand(['local'], {});
    if (command.kind !== 'local') return assert.fail(command.kind);
    assert.equal(command.options.results, false);
    assert.equal(command.options.executorLogs, false);
    assert.deepEqual(command.options.json, { kind: 'none' });
  });
  it('--results, --json (stdout) and --json-file (resolved against the working directory)', () => {
    const a = parseCommand(['local', '--results', '--json', '--executor-logs'], {});
    if (a.kind !== 'local') return assert.fail(a.kind);
    assert.equal(a.options.executorLogs, true);
    assert.equal(a.options.results, true);
    assert.deepEqual(a.options.json, { kind: 'stdout' });
    const b = parseCommand(['local', '--json-file', 'out/summary.json'], {});
    if (b.kind !== 'local') return assert.fail(b.kind);
    assert.deepEqual(b.options.json, { kind: 'file', path: resolve('out/summary.json') });
  });
  it('refuses --json with --json-file, and both outside local', () => {
    assert.throws(() => parseCommand(['local', '--json', '--json-file', 'x'], {}), (e: unknown) => e instanceof MesosExecutorError && /give one/.test(e.message));
    assert.throws(() => parseCommand(['--json'], {}), (e: unknown) => e instanceof MesosExecutorError && e.code === 'MPE_INVALID_OPTION');
  });
});

describe('local --results lines', () => {
  const result = {
    outcomes: [
      { taskId: 'task-1', state: 'TASK_FINISHED', message: undefined, data: `{"text":"${'x'.repeat(100)}"}` },
      { taskId: 'task-2', state: 'TASK_FAILED', message: 'line one\nline two', data: undefined },
      { taskId: 'task-3', state: undefined, message: undefined, data: undefined },
    ],
  } as unknown as LocalRunResult;
  it('a finished task shows its result, a failed one its message (one line), an unended one says so', () => {
    const text = formatResults(result);
    const lines = text.split('\n');
    assert.equal(lines[1], 'Results');
    assert.equal(lines[2], `  task-1  TASK_FINISHED  {"text":"${'x'.repeat(100)}"}`);
    assert.equal(lines[3], '  task-2  TASK_FAILED  line one\\nline two');
    assert.equal(lines[4], '  task-3  not ended');
  });
  it('on a terminal each line is cut to its width with "…"', () => {
    const lines = formatResults(result, 40).split('\n');
    assert.equal(lines[2], `  task-1  TASK_FINISHED  {"text":"${'x'.repeat(5)}…`);
    assert.equal(lines[2]?.length, 40);
    assert.equal(lines[4], '  task-3  not ended');
  });
});
