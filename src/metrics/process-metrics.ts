// prom-client's default process and Node.js metrics, in an injected registry.
//
// They keep their standard names (`process_cpu_seconds_total`, `process_resident_memory_bytes`,
// `nodejs_eventloop_lag_seconds`, `nodejs_eventloop_lag_p99_seconds`, `nodejs_gc_duration_seconds`,
// `nodejs_heap_size_used_bytes`, ...) rather than our `mesos_executor_` prefix: the `process_*`
// names are the same in every official Prometheus client (Go, Java, Python), and ready-made
// Node.js dashboards and alerts query the `nodejs_*` ones. Prometheus' `job`/`instance` target
// labels already say which process they describe; a prefix would only break those queries.
import { collectDefaultMetrics, type Registry } from 'prom-client';

export interface ProcessMetricsOptions {
  /**
   * Sampling resolution of the event-loop delay monitor, in ms (default 10, prom-client's). The
   * event-loop lag is the figure that matters most here: it shows the protocol thread stalling.
   */
  readonly eventLoopMonitoringPrecisionMs?: number;
}

/**
 * Registers the default metrics in `registry`. Call it once per registry (a second call throws:
 * the names are taken). prom-client keeps its event-loop monitor and GC observer for the life of
 * the process, so give it the one registry a process serves.
 */
export function registerProcessMetrics(registry: Registry, options: ProcessMetricsOptions = {}): void {
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: options.eventLoopMonitoringPrecisionMs ?? 10 });
}
