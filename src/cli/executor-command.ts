import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { Registry } from 'prom-client';
import { MesosExecutorDriver } from '../driver/driver.js';
import { readExecutorEnvironment } from '../driver/executor-environment.js';
import { ENV } from '../protocol/environment-variables.js';
import { Status } from '../executor.js';
import { createLogger } from '../log.js';
import { createExecutorMetrics, startMetricsServer, writeMetricsAddress, type MetricsServer } from '../metrics/index.js';
import { PoolExecutor } from '../pool/index.js';
import type { ExecutorCommandOptions } from './args.js';
import { scrubInitialEnvironment } from './scrub-environ.js';

/** What the command needs of the process beyond its options (main.ts gives the real ones). */
export interface ExecutorCommandHooks {
  /** Ends the process now with this code: a second signal during a signalled shutdown. */
  readonly exit: (code: number) => void;
}

/** The signals handled like the agent's SHUTDOWN (docker stop, systemd, Ctrl-C, a closed terminal). */
const SHUTDOWN_SIGNALS = { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 } as const;
type ShutdownSignal = keyof typeof SHUTDOWN_SIGNALS;

/** After a signalled shutdown's grace period, how long before the driver is aborted anyway. */
const SIGNAL_SHUTDOWN_SLACK_MS = 1_000;

/**
 * `mesos-pool-executor` with no subcommand: a Mesos executor. Reads the agent's environment,
 * runs the pool executor under the driver until it stops, and returns the exit code: 0 after a
 * clean shutdown (every terminal update acknowledged), 1 otherwise.
 *
 * SIGTERM, SIGINT and SIGHUP start the same shutdown as the agent's SHUTDOWN (tasks killed
 * within the shutdown grace period, terminal updates sent and acknowledged, then exit); past
 * the grace period (and a second) the driver is aborted. A second signal exits at once, with
 * 128 + the signal's number.
 */
export async function executorCommand(options: ExecutorCommandOptions, hooks: ExecutorCommandHooks = { exit: () => {} }): Promise<number> {
  const logger = createLogger(options.logLevel);
  // Installed first: a signal during start-up must not kill the process before it can report.
  let onSignal: (signal: ShutdownSignal) => void = () => {};
  let signalled: ShutdownSignal | undefined;
  let early: ShutdownSignal | undefined;
  const handler = (signal: NodeJS.Signals): void => {
    const name = signal as ShutdownSignal;
    if (signalled !== undefined) {
      logger.warn({ signal }, 'second signal: exiting now');
      hooks.exit(128 + SHUTDOWN_SIGNALS[name]);
      return;
    }
    signalled = name;
    onSignal(name);
  };
  for (const signal of Object.keys(SHUTDOWN_SIGNALS)) process.on(signal, handler);
  onSignal = (signal) => (early = signal);
  try {
    return await runExecutor(options, logger, (start) => {
      onSignal = start;
      if (early !== undefined) start(early);
    });
  } finally {
    for (const signal of Object.keys(SHUTDOWN_SIGNALS)) process.off(signal, handler);
  }
}

async function runExecutor(
  options: ExecutorCommandOptions,
  logger: ReturnType<typeof createLogger>,
  onSignals: (start: (signal: ShutdownSignal) => void) => void,
): Promise<number> {
  // First thing: the token is erased from process.env here, before any child could inherit it.
  const hadToken = process.env[ENV.AUTHENTICATION_TOKEN] !== undefined;
  let environment: ReturnType<typeof readExecutorEnvironment>;
  try {
    environment = readExecutorEnvironment(process.env);
  } finally {
    // And from the environment the kernel keeps (/proc/<pid>/environ), which jobs (and the
    // children they spawn, through /proc/<ppid>/environ) could read; a bad environment too.
    if (hadToken) {
      const scrubbed = scrubInitialEnvironment(ENV.AUTHENTICATION_TOKEN);
      if (scrubbed.kind === 'unsupported') {
        logger.warn({ reason: scrubbed.reason }, `${ENV.AUTHENTICATION_TOKEN} could not be erased from /proc/self/environ: jobs can read it there`);
      } else {
        logger.debug({ result: scrubbed.kind }, `${ENV.AUTHENTICATION_TOKEN} erased from /proc/self/environ`);
      }
    }
  }
  // The endpoint is bound before any thread starts: a port that cannot be used is a configuration
  // error (exit 2), and the address is known (and written) before SUBSCRIBE, so whoever launched
  // us can read it as soon as the agent sees us.
  const registry = new Registry();
  let metricsServer: MetricsServer | undefined;
  if (options.metricsPort !== undefined) {
    metricsServer = await startMetricsServer({ registry, port: options.metricsPort, host: options.metricsHost, cacheMs: options.metricsCacheMs, logger });
    logger.info({ url: metricsServer.url }, 'metrics endpoint listening');
  }
  try {
    if (metricsServer !== undefined && options.metricsAddressFile !== undefined) {
      await writeMetricsAddress(resolve(options.metricsAddressFile), metricsServer);
    }
    // Before the driver exists, so before SUBSCRIBE: a module that fails to load (or clashes) is
    // MPE_JOB_MODULE, exit 2, and the agent never sees an executor that could run nothing.
    const pool = await PoolExecutor.create({
      jobs: options.jobs,
      builtinJobs: options.builtinJobs,
      ...(options.threads !== undefined ? { threads: options.threads } : {}),
      ...(options.maxThreads !== undefined ? { maxThreads: options.maxThreads } : {}),
      ...(options.maxBatchItems !== undefined ? { maxBatchItems: options.maxBatchItems } : {}),
      ...(options.maxBatchResultBytes !== undefined ? { maxBatchResultBytes: options.maxBatchResultBytes } : {}),
      // COMMAND checks run in the task's sandbox, which for our tasks is the executor's; batch
      // results files are written there, where the agent's file API serves them.
      ...(environment.sandboxDirectory !== null ? { checks: { sandboxDirectory: environment.sandboxDirectory }, sandboxDirectory: environment.sandboxDirectory } : {}),
      logger,
    });
    const driver = new MesosExecutorDriver(pool, { environment, contentType: options.contentType, logger });
    // Metrics only listen to the driver's and the pool's events; without an endpoint, none are registered.
    if (metricsServer !== undefined) createExecutorMetrics({ registry, driver, pool });
    logger.info(
      { threads: pool.threads, jobs: pool.jobs, checkpoint: environment.checkpoint, agent: environment.endpoint.url },
      'pool executor starting',
    );
    let subscribed = false;
    driver.once('subscribed', () => (subscribed = true));
    let graceTimer: NodeJS.Timeout | undefined;
    onSignals((signal) => {
      logger.info({ signal }, 'signal received: shutting down as on SHUTDOWN');
      // As the agent's SHUTDOWN; the driver's own grace timer only runs for the agent's.
      pool.shutdown(driver);
      graceTimer = setTimeout(() => {
        logger.warn({ signal }, 'shutdown grace period over: aborting');
        void driver.abort();
      }, Math.min(driver.shutdownGracePeriodMs + SIGNAL_SHUTDOWN_SLACK_MS, 2 ** 31 - 1));
      graceTimer.unref();
    });
    const status = await driver.run();
    clearTimeout(graceTimer);
    // The pool's shutdown stops the driver, then finishes (its last log line): let it, briefly.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([pool.whenShutDown(), new Promise<void>((resolve) => (timer = setTimeout(resolve, 1000)))]);
    clearTimeout(timer);
    // After an abort (ERROR, an exhausted grace period) the pool may still hold threads.
    await pool.destroy();
    // 0 only for a clean run: subscribed, stopped, and every update acknowledged before the exit
    // (an unacknowledged terminal update becomes TASK_FAILED at the agent).
    const clean = status === Status.DRIVER_STOPPED && subscribed && pool.shutdownAcknowledged !== false;
    logger.info({ status: Status[status], subscribed, acknowledged: pool.shutdownAcknowledged }, 'executor finished');
    return clean ? 0 : 1;
  } finally {
    // After the driver stopped (every update sent, acknowledged or given up on): the figures a
    // scrape could no longer get once the endpoint is closed, e.g. for `local`'s summary.
    if (metricsServer !== undefined && options.metricsFinalFile !== undefined) {
      try {
        await writeFile(resolve(options.metricsFinalFile), await registry.metrics());
      } catch (error) {
        logger.warn({ err: error, file: options.metricsFinalFile }, 'cannot write the final metrics');
      }
    }
    await metricsServer?.close();
  }
}
