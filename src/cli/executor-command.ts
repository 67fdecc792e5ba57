import { resolve } from 'node:path';
import { Registry } from 'prom-client';
import { MesosExecutorDriver } from '../driver/driver.js';
import { readExecutorEnvironment } from '../driver/environment.js';
import { Status } from '../executor.js';
import { createLogger } from '../log.js';
import { createExecutorMetrics, startMetricsServer, writeMetricsAddress, type MetricsServer } from '../metrics/index.js';
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
  // The endpoint is bound before any thread starts: a port that cannot be used is a configuration
  // error (exit 2), and the address is known (and written) before SUBSCRIBE, so whoever launched
  // us can read it as soon as the agent sees us.
  const registry = new Registry();
  let metricsServer: MetricsServer | undefined;
  if (options.metricsPort !== undefined) {
    metricsServer = await startMetricsServer({ registry, port: options.metricsPort, host: options.metricsHost, logger });
    logger.info({ url: metricsServer.url }, 'metrics endpoint listening');
  }
  try {
    if (metricsServer !== undefined && options.metricsAddressFile !== undefined) {
      await writeMetricsAddress(resolve(options.metricsAddressFile), metricsServer);
    }
    const pool = await PoolExecutor.create({
      jobs: options.jobs,
      threads: options.threads,
      shutdownGracePeriodMs: environment.shutdownGracePeriodMs,
      logger,
    });
    const driver = new MesosExecutorDriver(pool, { environment, contentType: options.contentType, logger });
    // Metrics only listen to the driver's and the pool's events; without an endpoint, none are registered.
    if (metricsServer !== undefined) createExecutorMetrics({ registry, driver, pool });
    logger.info(
      { threads: pool.threads, jobs: pool.jobs, checkpoint: environment.checkpoint, agent: environment.endpoint.url },
      'pool executor starting',
    );
    // The pool's shutdown stops the driver and then finishes (its last log line): let it, briefly.
    let shutdownDone: Promise<void> | undefined;
    pool.once('shutdownStarted', () => {
      shutdownDone = new Promise((resolve) => pool.once('shutdownCompleted', () => resolve()));
    });
    const status = await driver.run();
    if (shutdownDone !== undefined) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([shutdownDone, new Promise<void>((resolve) => (timer = setTimeout(resolve, 1000)))]);
      clearTimeout(timer);
    }
    // After an abort (ERROR, an exhausted grace period) the pool may still hold threads.
    await pool.destroy();
    logger.info({ status: Status[status] }, 'executor finished');
    return status === Status.DRIVER_STOPPED ? 0 : 1;
  } finally {
    await metricsServer?.close();
  }
}
