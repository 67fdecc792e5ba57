// One call that gives an executor all its metrics: the pool's, the driver's and the process'.
import { Registry } from 'prom-client';
import { binding, type MetricsBinding } from './binding.js';
import { registerBuildInfo } from './build-info.js';
import { registerDriverMetrics, type DriverMetricsSource } from './driver-metrics.js';
import { registerPoolMetrics, type PoolMetricsSource } from './pool-metrics.js';
import { registerProcessMetrics } from './process-metrics.js';

export interface ExecutorMetricsOptions {
  /** The driver to observe (a MesosExecutorDriver). */
  readonly driver: DriverMetricsSource;
  /** The pool executor to observe (a PoolExecutor). */
  readonly pool: PoolMetricsSource;
  /** Where to register (default: a new Registry; never prom-client's global one). */
  readonly registry?: Registry;
  /** Also register prom-client's default process/Node.js metrics (default true). */
  readonly processMetrics?: boolean;
}

export interface ExecutorMetrics extends MetricsBinding {
  readonly registry: Registry;
}

/**
 * Registers every `mesos_executor_` family for `driver` and `pool` (and the build info), plus the default process
 * metrics, in one registry. Serve it with {@link startMetricsServer}. `close()` detaches from the
 * driver and pool and unregisters our families (the process metrics stay: prom-client cannot
 * remove its monitors).
 */
export function createExecutorMetrics(options: ExecutorMetricsOptions): ExecutorMetrics {
  const registry = options.registry ?? new Registry();
  const groups: MetricsBinding[] = [];
  try {
    groups.push(registerBuildInfo(registry));
    groups.push(registerPoolMetrics(registry, options.pool));
    groups.push(registerDriverMetrics(registry, options.driver));
    if (options.processMetrics ?? true) registerProcessMetrics(registry);
  } catch (error) {
    // A name already taken in a given registry: leave it as it was.
    for (const group of groups) group.close();
    throw error;
  }
  const both = binding(groups.map((group) => () => group.close()));
  return { registry, close: () => both.close() };
}
