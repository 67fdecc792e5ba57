// mesos_executor_build_info: one series, value 1, labelled with the package version and Node's.
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { EventEmitter } from 'eventemitter3';
import { Registry } from 'prom-client';
import type { DriverEvents } from '../../src/driver/events.js';
import { packageVersion, registerBuildInfo } from '../../src/metrics/build-info.js';
import { parseExposition } from '../../src/metrics/exposition.js';
import { BUILD_INFO } from '../../src/metrics/names.js';
import { createExecutorMetrics } from '../../src/metrics/registry.js';
import type { PoolExecutorEvents } from '../../src/pool/events.js';

class FakeDriver extends EventEmitter<DriverEvents> {
  subscribed = false;
  unacknowledgedUpdates = 0;
}
class FakePool extends EventEmitter<PoolExecutorEvents> {
  readonly jobs = ['noop'];
  queued = 0;
  running = 0;
  busyThreads = 0;
  threads = 1;
}

describe('build info', () => {
  it('is the version of package.json', () => {
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
    assert.equal(packageVersion(), pkg.version);
  });

  it('createExecutorMetrics serves one series of value 1 with version and node; close() removes it', async () => {
    const metrics = createExecutorMetrics({ driver: new FakeDriver(), pool: new FakePool(), registry: new Registry(), processMetrics: false });
    const samples = parseExposition(await metrics.registry.metrics()).filter((s) => s.name === BUILD_INFO);
    assert.deepEqual(samples.map((s) => ({ labels: s.labels, value: s.value })), [{ labels: { version: packageVersion(), node: process.version }, value: 1 }]);
    metrics.close();
    assert.equal(metrics.registry.getSingleMetric(BUILD_INFO), undefined);
  });

  it('takes a version of the caller\'s', async () => {
    const registry = new Registry();
    registerBuildInfo(registry, '9.9.9');
    assert.match(await registry.metrics(), /^mesos_executor_build_info\{version="9\.9\.9",node="v\d+\.\d+\.\d+"\} 1$/m);
  });
});
