// `mesos_executor_build_info{version,node}`: a gauge that is always 1, so that a fleet's versions
// can be counted and joined onto other series (`* on(instance) group_left(version)`), the way
// Prometheus' own `prometheus_build_info` is used.
import { readFileSync } from 'node:fs';
import { Gauge, type Registry } from 'prom-client';
import { binding, type MetricsBinding } from './binding.js';
import { BUILD_INFO } from './names.js';

let cached: string | undefined;

/** This package's version (package.json, two levels above dist/src/metrics or src/metrics). */
export function packageVersion(): string {
  if (cached === undefined) {
    try {
      const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
      cached = typeof pkg.version === 'string' ? pkg.version : 'unknown';
    } catch {
      // A bundled copy without its package.json: still one series, honestly labelled.
      cached = 'unknown';
    }
  }
  return cached;
}

/** Registers the build-info gauge: one series, value 1. */
export function registerBuildInfo(registry: Registry, version: string = packageVersion()): MetricsBinding {
  const gauge = new Gauge({
    name: BUILD_INFO,
    help: 'Always 1: the labels say which version of mesos-pool-executor runs, on which Node.js.',
    labelNames: ['version', 'node'],
    registers: [registry],
  });
  gauge.set({ version, node: process.version }, 1);
  return binding([() => registry.removeSingleMetric(BUILD_INFO)]);
}
