import { strict as assert } from 'node:assert';
import { availableParallelism } from 'node:os';
import { describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';
import { resolvePoolOptions, type PoolExecutorOptions } from '../../src/pool/options.js';
import { assertInvalidOption } from '../helpers/invalid-option.js';

function invalid(options: Record<string, unknown>, option: string, message: string | RegExp): void {
  assertInvalidOption(() => resolvePoolOptions(options as PoolExecutorOptions), option, message);
}

describe('PoolExecutor options', () => {
  it('threads is a fixed concurrency; without it, maxThreads caps a concurrency from the host cores up', () => {
    const fixed = resolvePoolOptions({ threads: 3 });
    assert.deepEqual([fixed.concurrency, fixed.threads, fixed.maxThreads], ['fixed', 3, 3]);
    const capped = resolvePoolOptions({ maxThreads: 1 });
    assert.deepEqual([capped.concurrency, capped.threads, capped.maxThreads], ['resources', 1, 1], 'the cap caps the warm threads too');
    invalid({ threads: 2, maxThreads: 4 }, 'maxThreads', 'maxThreads: applies when the concurrency follows the resources; with a fixed threads leave it out');
    assert.throws(() => resolvePoolOptions({ maxThreads: 0 }), /maxThreads/);
  });

  it('defaults, frozen', () => {
    const o = resolvePoolOptions();
    assert.equal(o.threads, availableParallelism());
    assert.equal(o.concurrency, 'resources');
    assert.equal(o.maxThreads, 256);
    assert.equal(o.maxPayloadBytes, 1024 * 1024);
    assert.equal(o.maxResultBytes, 1024 * 1024);
    assert.equal(o.maxBatchItems, 100_000);
    assert.equal(o.maxBatchItemBytes, 1024 * 1024);
    assert.equal(o.maxBatchResultBytes, 64 * 1024 * 1024);
    assert.equal(o.sandboxDirectory, process.cwd());
    assert.equal(o.maxQueuedTasks, 10_000);
    assert.equal(o.maxQueuedBytes, 64 * 1024 * 1024);
    assert.equal(o.progressIntervalMs, 250);
    assert.equal(o.defaultKillGracePeriodMs, 3_000);
    assert.equal('shutdownGracePeriodMs' in o, false, "the shutdown grace period is the driver's, not the pool's");
    assert.equal(o.shutdownMarginMs, 1_000);
    assert.equal(o.workerMemoryMb, undefined);
    assert.equal(o.taskMemoryLimits, true);
    assert.equal(o.builtinJobs, true);
    assert.deepEqual(o.jobModules, []);
    assert.match(o.workerFile.href, /\/workers\/entry\.cjs$/, "the CommonJS entry, which imports worker.js");
    assert.ok(Object.isFrozen(o));
    assert.ok(Object.isFrozen(o.jobModules));
    // A fresh object each time.
    assert.notEqual(resolvePoolOptions(), o);
  });

  it('jobs: paths become absolute file: URLs; other schemes are refused', () => {
    const o = resolvePoolOptions({ jobs: ['./jobs/a.js', new URL('file:///opt/b.js'), 'file:///opt/c.js', './jobs/a.js'] });
    assert.deepEqual(o.jobModules, [pathToFileURL(resolve('jobs/a.js')).href, 'file:///opt/b.js', 'file:///opt/c.js']);
    invalid({ jobs: 'a.js' }, 'jobs', 'jobs: expected an array, got "a.js"');
    invalid({ jobs: [''] }, 'jobs', 'jobs[0]: must be a non-empty file path, package or file: URL');
    invalid({ jobs: [new URL('https://example.com/x.js')] }, 'jobs', 'jobs[0]: must be a file path, package or file: URL, got a https: URL');
    invalid({ jobs: ['data:text/javascript,export const x=1'] }, 'jobs', /^jobs\[0\]: must be a file path, package or file: URL/);
  });

  it('builtinJobs: false needs job modules', () => {
    invalid({ builtinJobs: false }, 'jobs', 'jobs: empty while builtinJobs is false: no job could ever run');
    invalid({ builtinJobs: 'no' }, 'builtinJobs', 'builtinJobs: expected a boolean, got "no"');
  });

  for (const [name, bad, range] of [
    ['threads', 0, 'from 1 to 1024'],
    ['maxPayloadBytes', 1.5, 'from 16 to 268435456'],
    ['maxResultBytes', -1, 'from 16 to 268435456'],
    ['maxQueuedTasks', -1, 'from 0 to 10000000'],
    ['maxBatchItems', 0, 'from 1 to 10000000'],
    ['maxBatchItemBytes', 15, 'from 16 to 268435456'],
    ['maxBatchResultBytes', 2.5, 'from 16 to 17179869184'],
    ['maxQueuedBytes', 0.5, 'from 0 to 17179869184'],
    ['maxFrameworkMessageBytes', 1024 * 1024 + 1, 'from 0 to 1048576'],
    ['progressIntervalMs', 'fast', 'from 0 to 3600000'],
    ['defaultKillGracePeriodMs', -1, 'from 0 to 86400000'],
    ['shutdownMarginMs', -5, 'from 0 to 86400000'],
    ['workerMemoryMb', 8, 'from 16 to 1048576'],
    ['idleTimeoutMs', Infinity, 'from 0 to 86400000'],
    ['maxIdleMemoryPools', -1, 'from 0 to 1024'],
    ['terminateWaitMs', 60_001, 'from 0 to 60000'],
  ] as const) {
    it(`${name} must be an integer ${range}`, () => {
      const shown = typeof bad === 'string' ? JSON.stringify(bad) : String(bad);
      invalid({ [name]: bad }, name, `${name}: expected an integer ${range}, got ${shown}`);
    });
  }

  it('sandboxDirectory: made absolute; must be a non-empty path', () => {
    assert.equal(resolvePoolOptions({ sandboxDirectory: 'sb' }).sandboxDirectory, resolve('sb'));
    assert.equal(resolvePoolOptions({ sandboxDirectory: '/mnt/sandbox' }).sandboxDirectory, '/mnt/sandbox');
    invalid({ sandboxDirectory: '' }, 'sandboxDirectory', 'sandboxDirectory: expected a non-empty path, got ""');
    invalid({ sandboxDirectory: 3 as unknown as string }, 'sandboxDirectory', 'sandboxDirectory: expected a non-empty path, got 3');
  });

  it('shutdownGracePeriodMs is refused: the grace period has one owner, the driver, so the two can never differ', () => {
    invalid({ shutdownGracePeriodMs: 5_000 }, 'shutdownGracePeriodMs', /^shutdownGracePeriodMs: not a pool option: the shutdown grace period is the driver's/);
  });

  it('taskMemoryLimits must be a boolean', () => {
    invalid({ taskMemoryLimits: 1 }, 'taskMemoryLimits', 'taskMemoryLimits: expected a boolean, got 1');
  });

  it('onFrameworkMessage must be a function, workerFile a URL', () => {
    invalid({ onFrameworkMessage: 'log' }, 'onFrameworkMessage', 'onFrameworkMessage: expected a function, got "log"');
    invalid({ workerFile: '/x/worker.js' }, 'workerFile', 'workerFile: expected a URL, got "/x/worker.js"');
  });

  it('clock must have now, setTimeout and clearTimeout', () => {
    invalid({ clock: { now: () => 0 } }, 'clock', 'clock: expected an object with now, setTimeout and clearTimeout functions, got an object');
    invalid({ clock: 5 }, 'clock', 'clock: expected an object with now, setTimeout and clearTimeout functions, got 5');
  });
});
