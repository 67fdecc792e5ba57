// The metrics options of the command line.
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { executorArgs, parseCommand } from '../../src/cli/args.js';
import { MesosExecutorError } from '../../src/errors.js';

const invalid = (option: string) => (error: unknown) => error instanceof MesosExecutorError && error.code === 'MPE_INVALID_OPTION' && (error as MesosExecutorError & { option?: string }).option === option;

describe('metrics options', () => {
  it('--metrics-port, --metrics-host and --metrics-address-file parse and pass through to the executor', () => {
    const command = parseCommand(['--metrics-port', '0', '--metrics-host', '::1', '--metrics-address-file', 'addr.json']);
    assert.equal(command.kind, 'executor');
    if (command.kind !== 'executor') return;
    assert.equal(command.options.metricsPort, 0);
    assert.equal(command.options.metricsHost, '::1');
    assert.equal(command.options.metricsAddressFile, 'addr.json');
    const args = executorArgs(command.options);
    assert.deepEqual(args.slice(args.indexOf('--metrics-port')), ['--metrics-port', '0', '--metrics-host', '::1', '--metrics-address-file', 'addr.json', '--metrics-cache-ms', '0']);
    assert.equal(command.options.metricsCacheMs, 1000, 'cached a second by default');
  });

  it('--metrics-final-file parses, needs --metrics-port, and passes through to the executor', () => {
    const command = parseCommand(['--metrics-port', '0', '--metrics-final-file', 'final.prom']);
    if (command.kind !== 'executor') return assert.fail(command.kind);
    assert.equal(command.options.metricsFinalFile, 'final.prom');
    const args = executorArgs(command.options);
    assert.deepEqual(args.slice(args.indexOf('--metrics-final-file'), args.indexOf('--metrics-final-file') + 2), ['--metrics-final-file', 'final.prom']);
    assert.throws(() => parseCommand(['--metrics-final-file', 'final.prom']), invalid('metrics-final-file'));
  });

  it('--metrics-cache-ms parses (0 to 60 000); local runs its executor with 0', () => {
    const command = parseCommand(['--metrics-port', '0', '--metrics-cache-ms', '250']);
    if (command.kind !== 'executor') return assert.fail(command.kind);
    assert.equal(command.options.metricsCacheMs, 250);
    assert.throws(() => parseCommand(['--metrics-cache-ms', 'soon']), invalid('metrics-cache-ms'));
    assert.throws(() => parseCommand(['--metrics-cache-ms', '60001']), invalid('metrics-cache-ms'));
  });

  it('no metrics options: no endpoint, default host 127.0.0.1', () => {
    const command = parseCommand([]);
    if (command.kind !== 'executor') return assert.fail(command.kind);
    assert.equal(command.options.metricsPort, undefined);
    assert.equal(command.options.metricsHost, '127.0.0.1');
    assert.ok(!executorArgs(command.options).includes('--metrics-port'));
  });

  it('refuses a bad port, an address file without a port, and --keep-metrics with --executor', () => {
    assert.throws(() => parseCommand(['--metrics-port', '65536']), invalid('metrics-port'));
    assert.throws(() => parseCommand(['--metrics-port', 'http']), invalid('metrics-port'));
    assert.throws(() => parseCommand(['--metrics-address-file', 'a.json']), invalid('metrics-address-file'));
    assert.throws(() => parseCommand(['local', '--keep-metrics', '--executor', 'true']), invalid('keep-metrics'));
  });

  it('local --keep-metrics', () => {
    const command = parseCommand(['local', '--keep-metrics', '-n', '3']);
    if (command.kind !== 'local') return assert.fail(command.kind);
    assert.equal(command.options.keepMetrics, true);
    assert.equal(command.options.executor.metricsPort, undefined, 'local picks port 0 itself when none is given');
  });
});
