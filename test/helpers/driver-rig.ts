// The driver under a LocalAgent on real loopback, the rig of the driver's integration tests: a
// RecordingExecutor behind a MesosExecutorDriver reading the agent's own executor environment.
// `driverRigs()` registers an afterEach that aborts every driver it made and stops its agent.
import { afterEach } from 'node:test';
import { LocalAgent, type LocalAgentOptions } from '../../src/agent/index.js';
import { MesosExecutorDriver, type MesosExecutorDriverOptions } from '../../src/driver/driver.js';
import { RecordingExecutor, type RecordingExecutorOptions } from './recording-executor.js';
import { waitFor } from './wait.js';

export interface DriverRig {
  readonly agent: LocalAgent;
  readonly driver: MesosExecutorDriver;
  readonly executor: RecordingExecutor;
}

export interface DriverRigOptions {
  /** An agent of the test's own, already started (default: a new one from `agentOptions`). */
  readonly agent?: LocalAgent;
  /** Over the defaults: checkpointing, a 50 ms subscription backoff maximum. */
  readonly agentOptions?: LocalAgentOptions;
  /** Variables the agent passes on besides its own (`--executor_environment_variables`). */
  readonly extraEnvironment?: Record<string, string>;
  /** Over the defaults: SUBSCRIBE and UPDATE retried after 20 ms. */
  readonly driverOptions?: Partial<MesosExecutorDriverOptions>;
  readonly executorOptions?: RecordingExecutorOptions;
  /** Start the driver and wait until the executor is `registered` (default false). */
  readonly start?: boolean;
  /** Cleans up what the test put beside the rig (a proxy), once the agent has stopped. */
  readonly cleanup?: () => Promise<void> | void;
}

export interface DriverRigs {
  rig(options?: DriverRigOptions): Promise<DriverRig>;
  /** A driver and agent the test assembled itself, cleaned up the same way. */
  track(rig: DriverRig): void;
  /** The rigs not cleaned up yet. */
  readonly open: readonly DriverRig[];
}

export function driverRigs(): DriverRigs {
  const open: DriverRig[] = [];
  const cleanups = new Map<DriverRig, () => Promise<void> | void>();
  afterEach(async () => {
    for (const r of open.splice(0)) {
      await r.driver.abort();
      await r.agent.stop();
      await cleanups.get(r)?.();
      cleanups.delete(r);
    }
  });
  return {
    open,
    track: (r) => void open.push(r),
    async rig(options = {}) {
      const agent = options.agent ?? new LocalAgent({ subscriptionBackoffMaxMs: 50, frameworkInfo: { checkpoint: true }, ...options.agentOptions });
      if (options.agent === undefined) await agent.start();
      const executor = new RecordingExecutor(options.executorOptions);
      const driver = new MesosExecutorDriver(executor, {
        env: agent.executorEnvironment(options.extraEnvironment),
        subscribeRetryIntervalMs: 20,
        updateRetryIntervalMs: 20,
        ...options.driverOptions,
      });
      const r = { agent, driver, executor };
      open.push(r);
      if (options.cleanup !== undefined) cleanups.set(r, options.cleanup);
      if (options.start === true) {
        await driver.start();
        await waitFor(() => executor.names().includes('registered'), { what: 'registered' });
      }
      return r;
    },
  };
}
