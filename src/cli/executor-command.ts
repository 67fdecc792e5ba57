import { MesosExecutorDriver } from '../driver/driver.js';
import { readExecutorEnvironment } from '../driver/environment.js';
import { Status } from '../executor.js';
import { createLogger } from '../log.js';
import { PoolExecutor } from '../pool/index.js';
import type { ExecutorCommandOptions } from './args.js';

/**
 * `mesos-pool-executor` with no subcommand: a Mesos executor. Reads the agent's environment,
 * runs the pool executor under the driver until it stops, and returns the exit code: 0 after a
 * clean shutdown (every terminal update acknowledged), 1 otherwise.
 */
export async function executorCommand(options: ExecutorCommandOptions): Promise<number> {
  const logger = createLogger(options.logLevel);
  // First thing: the token is erased from process.env here, before any child could inherit it.
  const environment = readExecutorEnvironment(process.env);
  const pool = await PoolExecutor.create({
    jobs: options.jobs,
    threads: options.threads,
    shutdownGracePeriodMs: environment.shutdownGracePeriodMs,
    logger,
  });
  const driver = new MesosExecutorDriver(pool, { environment, contentType: options.contentType, logger });
  logger.info(
    { threads: pool.threads, jobs: pool.jobs, checkpoint: environment.checkpoint, agent: environment.endpoint.url },
    'pool executor starting',
  );
  const status = await driver.run();
  // After an abort (ERROR, an exhausted grace period) the pool may still hold threads.
  await pool.destroy();
  logger.info({ status: Status[status] }, 'executor finished');
  return status === Status.DRIVER_STOPPED ? 0 : 1;
}
