// The pool executor's public surface (listed by name: no wildcard re-exports).
export { PoolExecutor } from './pool-executor.js';
export type { PoolExecutorOptions } from './options.js';
export type { PoolExecutorEvents } from './events.js';
export type { WorkerLoss } from './faults.js';
export type { TerminalState } from './task-state.js';
export { PayloadError, JobModuleError } from './errors.js';
export { DEFAULT_KILL_GRACE_MS } from './kill-policy.js';
export type { Job, JobContext, JobModule } from '../../workers/job.js';
