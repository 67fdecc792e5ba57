#!/usr/bin/env node
// Our executor exactly as `src/cli/executor-command.ts` assembles it (PoolExecutor under the
// MesosExecutorDriver, from the agent's environment, logging at info), plus the bench probe
// (probe.ts) on framework messages. Used where a figure can only be read inside the executor
// process: event-loop delay, heap after GC, the outbox size. Throughput and CPU figures use the
// shipped command (dist/src/cli/main.js) itself.
import { parseArgs } from 'node:util';
import { MesosExecutorDriver } from '../../src/driver/driver.js';
import { readExecutorEnvironment } from '../../src/driver/executor-environment.js';
import { Status, type Executor } from '../../src/executor.js';
import { createLogger, type LogLevel } from '../../src/log.js';
import { PoolExecutor } from '../../src/pool/index.js';
import { Probe } from './probe.js';

const { values } = parseArgs({
  options: { threads: { type: 'string' }, 'log-level': { type: 'string' }, jobs: { type: 'string', multiple: true } },
});
const logger = createLogger((values['log-level'] ?? 'info') as LogLevel);
const environment = readExecutorEnvironment(process.env);
let driver: MesosExecutorDriver | undefined;
let pool: PoolExecutor | undefined;
const probe = new Probe(() => ({
  outbox: driver?.unacknowledgedUpdates ?? -1,
  unacknowledgedTasks: driver?.unacknowledgedTasks ?? -1,
  liveTasks: pool?.tasks ?? -1,
  queued: pool?.queued ?? -1,
}));
pool = await PoolExecutor.create({
  jobs: values.jobs ?? [],
  ...(values.threads !== undefined ? { threads: Number(values.threads) } : {}),
  logger,
  onFrameworkMessage: (data) => {
    probe.handle(data, (reply) => driver?.sendFrameworkMessage(reply));
  },
});
const inner = pool;
const executor: Executor = {
  registered(d, executorInfo, frameworkInfo, agentInfo) {
    probe.reset();
    return inner.registered(d, executorInfo, frameworkInfo, agentInfo);
  },
  reregistered: (d, agentInfo) => inner.reregistered(d, agentInfo),
  disconnected: (d) => inner.disconnected(d),
  launchTask: (d, task) => inner.launchTask(d, task),
  launchTaskGroup: (d, tasks) => inner.launchTaskGroup(d, tasks),
  killTask: (d, taskId, killPolicy) => inner.killTask(d, taskId, killPolicy),
  frameworkMessage: (d, data) => inner.frameworkMessage(d, data),
  shutdown: (d) => inner.shutdown(d),
  error: (d, message) => inner.error(d, message),
};
driver = new MesosExecutorDriver(executor, { environment, logger });
const status = await driver.run();
await inner.destroy();
process.exit(status === Status.DRIVER_STOPPED ? 0 : 1);
