// local's output options: --results, --json, --json-file.
import { strict as assert } from 'node:assert';
import { resolve } from 'node:path';
import { describe, it } from 'node:test';
import { parseCommand } from '../../src/cli/args.js';
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
