// Options of the checks a pool executor runs beside its tasks: validated once, then frozen.
import { isAbsolute, resolve } from 'node:path';
import { backgroundClock, type Clock } from '../clock.js';
import * as is from '../validate.js';
import type { TaskChecksRuntime } from './task-checks.js';

export interface ChecksOptions {
  /**
   * Working directory of COMMAND checks: the task's sandbox. Default: the current directory, as
   * upstream's command executor (the agent starts an executor in its sandbox); the CLI passes
   * MESOS_SANDBOX.
   */
  readonly sandboxDirectory?: string;
  /** The environment COMMAND checks start from, before the command's own variables. Default: `process.env`. */
  readonly environment?: Readonly<Record<string, string | undefined>>;
  /** The clock of delays, intervals, timeouts and the grace period. Default: the pool's clock, else real time. */
  readonly clock?: Clock;
}

/** `fallbackClock`: the pool's clock, used when the checks have none of their own. */
export function resolveChecksOptions(options: ChecksOptions = {}, fallbackClock?: Clock): TaskChecksRuntime {
  is.required(options, 'checks', is.plainObject);
  const dir = is.optional(options.sandboxDirectory, 'checks.sandboxDirectory', is.nonEmptyString);
  const environment = options.environment ?? process.env;
  is.required(environment, 'checks.environment', is.plainObject);
  return Object.freeze({
    sandboxDirectory: dir === undefined ? process.cwd() : isAbsolute(dir) ? dir : resolve(dir),
    environment,
    clock: options.clock ?? fallbackClock ?? backgroundClock,
  });
}
