// local's output options: --results, --json, --json-file.
import { strict as assert } from 'node:assert';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { describe, it } from 'node:test';
import { DEFAULT_LOCAL_RESOURCES, parseCommand } from '../../src/cli/args.js';
import { defaultAgentMemMb } from '../../src/cli/local/allocator.js';
import type { LocalRunResult } from '../../src/cli/local/run-local.js';
import { formatResults } from '../../src/cli/local/summary.js';
import { InvalidOptionError, MesosExecutorError } from '../../src/errors.js';

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

describe('local launch plan (offers or all at once)', () => {
  const plan = (args: string[]) => {
    const command = parseCommand(['local', ...args], {});
    if (command.kind !== 'local') return assert.fail(command.kind);
    return command.options.launch;
  };
  const invalid = (option: string, pattern: RegExp) => (e: unknown) =>
    e instanceof InvalidOptionError && e.option === option && pattern.test(e.message);

  it('default: offers from an agent of this machine\'s cores and memory, the executor and each task sized by default', () => {
    assert.deepEqual(plan([]), {
      kind: 'offers',
      agent: { cpus: availableParallelism() + 0.1, mem: defaultAgentMemMb() },
      executor: DEFAULT_LOCAL_RESOURCES.executor,
      task: DEFAULT_LOCAL_RESOURCES.task,
    });
  });
  it('each resource can be given, fractional cpus included', () => {
    assert.deepEqual(plan(['--agent-cpus', '4.5', '--agent-mem', '2048', '--executor-cpus', '0.25', '--executor-mem', '64', '--task-cpus', '0.5', '--task-mem', '0']), {
      kind: 'offers',
      agent: { cpus: 4.5, mem: 2048 },
      executor: { cpus: 0.25, mem: 64 },
      task: { cpus: 0.5, mem: 0 },
    });
  });
  it('--all-at-once: no resources unless given, and no agent resources at all', () => {
    assert.deepEqual(plan(['--all-at-once']), { kind: 'all-at-once', executor: { cpus: 0, mem: 0 }, task: { cpus: 0, mem: 0 } });
    assert.deepEqual(plan(['--all-at-once', '--task-cpus', '1']), { kind: 'all-at-once', executor: { cpus: 0, mem: 0 }, task: { cpus: 1, mem: 0 } });
    assert.throws(() => plan(['--all-at-once', '--agent-cpus', '4']), invalid('agent-cpus', /--all-at-once/));
    assert.throws(() => plan(['--all-at-once', '--agent-mem', '4']), invalid('agent-mem', /--all-at-once/));
  });
  it('a task that could never fit is refused before anything starts', () => {
    assert.throws(() => plan(['--agent-cpus', '2', '--task-cpus', '2']), invalid('task-cpus', /never fits the local agent's 2 cpus, .*needs 2\.1 cpus/));
    assert.throws(() => plan(['--agent-mem', '200', '--task-mem', '100']), invalid('task-mem', /needs 228 MB of mem/));
    assert.doesNotThrow(() => plan(['--agent-cpus', '2.1', '--task-cpus', '2']));
  });
  it('refuses a cpus of 0, a negative or malformed number, and more than three decimals', () => {
    for (const [flag, value] of [['--task-cpus', '0'], ['--agent-cpus', '-1'], ['--task-cpus', '1.0001'], ['--task-mem', 'lots'], ['--executor-cpus', '.5']]) {
      assert.throws(() => plan([flag!, value!]), (e: unknown) => e instanceof MesosExecutorError && e.code === 'MPE_INVALID_OPTION', `${flag} ${value}`);
    }
  });
});
