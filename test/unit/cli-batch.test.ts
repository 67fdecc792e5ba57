// The command's batch options: parsed, bounded, and passed on to the executor that `local` starts.
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { executorArgs, parseCommand } from '../../src/cli/args.js';
import { InvalidOptionError } from '../../src/errors.js';

describe('--max-batch-items and --max-batch-result-bytes', () => {
  it('default: unset (the pool\'s defaults), and not passed on', () => {
    const command = parseCommand([]);
    if (command.kind !== 'executor') return assert.fail(command.kind);
    assert.equal(command.options.maxBatchItems, undefined);
    assert.equal(command.options.maxBatchResultBytes, undefined);
    assert.ok(!executorArgs(command.options).some((arg) => arg.startsWith('--max-batch')));
  });

  it('parse and pass through to the executor', () => {
    const command = parseCommand(['--max-batch-items', '500', '--max-batch-result-bytes', '1048576']);
    if (command.kind !== 'executor') return assert.fail(command.kind);
    assert.equal(command.options.maxBatchItems, 500);
    assert.equal(command.options.maxBatchResultBytes, 1_048_576);
    const args = executorArgs(command.options);
    assert.deepEqual(args.slice(args.indexOf('--max-batch-items'), args.indexOf('--max-batch-items') + 4), ['--max-batch-items', '500', '--max-batch-result-bytes', '1048576']);
    const local = parseCommand(['local', '--max-batch-items', '7']);
    if (local.kind !== 'local') return assert.fail(local.kind);
    assert.equal(local.options.executor.maxBatchItems, 7);
  });

  it('refuse out-of-range values', () => {
    for (const args of [['--max-batch-items', '0'], ['--max-batch-items', 'lots'], ['--max-batch-result-bytes', '15']]) {
      assert.throws(() => parseCommand(args), (e: unknown) => e instanceof InvalidOptionError, args.join(' '));
    }
  });
});
