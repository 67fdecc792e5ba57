// Where the compiled pieces are, relative to this file in the build output (dist/bench/lib/).
import { fileURLToPath } from 'node:url';

const at = (relative: string): string => fileURLToPath(new URL(relative, import.meta.url));

/** The build output's root (dist/). */
export const DIST_ROOT = at('../../');
/** The executor command as shipped: `node dist/src/cli/main.js`. */
export const EXECUTOR_CLI = at('../../src/cli/main.js');
/** The same executor (PoolExecutor under MesosExecutorDriver) plus a measurement probe. */
export const PROBED_EXECUTOR = at('../executors/pool-executor.js');
export const INLINE_EXECUTOR = at('../baselines/inline-executor.js');
export const PROCESS_PER_TASK_EXECUTOR = at('../baselines/process-per-task-executor.js');
/** The protocol alone, no driver or pool: a floor for the executor's CPU per task. */
export const WIRE_FLOOR_EXECUTOR = at('../baselines/wire-floor-executor.js');
/** What the process-per-task baseline spawns for each task. */
export const RUN_JOB = at('../fixtures/run-job.js');
/** A piscina worker that does nothing: layer (a). */
export const NOOP_WORKER = new URL('../fixtures/noop-worker.js', import.meta.url);
/** A plain worker_threads worker running primes in a loop: the physical reference. */
export const PRIMES_WORKER = new URL('../fixtures/primes-worker.js', import.meta.url);
/** Our piscina worker entry. */
export const POOL_WORKER = new URL('../../workers/worker.js', import.meta.url);
/** The probed executor's extra job module (`gc`). */
export const BENCH_JOBS = at('../fixtures/bench-jobs.js');
