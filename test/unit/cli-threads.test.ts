// The command's concurrency options: --threads fixes it, --max-threads caps the one that follows
// the allocated cpus, and both reach the executor process that `local` starts.
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { executorArgs, parseCommand } from '../../src/cli/args.js';
import { InvalidOptionError } from '../../src/errors.js';

describe('--threads and --max-threads', () => {
  it('default: neither set (the concurrency follows the resources), and none passed on', () => {
    const command = parseCommand([]);
    if (command.kind !== 'executor') return assert.fail(command.kind);
    assert.equal(command.options.threads, undefined);
    assert.equal(command.options.maxThreads, undefined);
    const args = executorArgs(command.options);
    assert.ok(!args.includes('--threads') && !args.includes('--max-threads'));
  });

  it('each parses and passes through to the executor', () => {
    const fixed = parseCommand(['--threads', '3']);
    if (fixed.kind !== 'executor') return assert.fail(fixed.kind);
    assert.equal(fixed.options.threads, 3);
    assert.deepEqual(executorArgs(fixed.options).slice(2, 4), ['--threads', '3']);
    const capped = parseCommand(['--max-threads', '64']);
    if (capped.kind !== 'executor') return assert.fail(capped.kind);
    assert.equal(capped.options.maxThreads, 64);
    assert.deepEqual(executorArgs(capped.options).slice(2, 4), ['--max-threads', '64']);
  });

  it('refuses out-of-range values', () => {
    for (const args of [['--threads', '0'], ['--max-threads', '0'], ['--max-threads', '2000'], ['--threads', 'many']]) {
      assert.throws(() => parseCommand(args), (e: unknown) => e instanceof InvalidOptionError, args.join(' '));
    }
  });
});
