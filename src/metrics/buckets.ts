// Histogram buckets, each chosen for what it measures (upper bounds in seconds). A bucket set is
// part of the series identity: changing one breaks histogram_quantile() across the change, so
// these change only with a note in docs/metrics.md.

/**
 * Task duration and queue wait: jobs range from a sub-millisecond `noop` to CPU work of minutes,
 * and a saturated pool queues tasks for minutes too. Roughly 1-2.5-5 per decade from 1 ms to
 * 10 s, then coarser to 10 min (past that, "very long" is all an alert needs). The same set
 * for both, so duration and wait quantiles can be read side by side.
 */
export const TASK_SECONDS_BUCKETS: readonly number[] = Object.freeze([
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600,
]);

/**
 * Executor callbacks: `launchTask` validates a payload and queues the task without waiting for
 * it, so it should take microseconds; this histogram exists to show that it never blocks. Fine
 * buckets from 10 µs to 10 ms, then a few coarse ones: `shutdown` legitimately lasts for the
 * whole grace period (seconds), and a callback that blocked shows up there too.
 */
export const CALLBACK_SECONDS_BUCKETS: readonly number[] = Object.freeze([
  0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.1, 1, 10, 60,
]);

/**
 * UPDATE → ACKNOWLEDGED: about a millisecond on loopback, tens of milliseconds when the agent
 * checkpoints the update to disk first (fsync), and seconds to minutes when the agent is away and
 * the update waits for the next SUBSCRIBE (bounded by MESOS_RECOVERY_TIMEOUT, 15 min by default).
 */
export const ACK_LATENCY_SECONDS_BUCKETS: readonly number[] = Object.freeze([
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 15, 60, 300, 900,
]);
