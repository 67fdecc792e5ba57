// The agent's side of an executor's runs: the environment it is launched with, the launch, the
// registration timeout armed by it, destroying the container when a timeout says so, and the
// exit that ends the run (upstream `Slave::launchExecutor`, `registerExecutorTimeout`,
// `reregisterExecutorTimeout`, `executorTerminated`).
import { formatDuration } from '../protocol/duration.js';
import { buildExecutorEnvironment } from '../protocol/environment-variables.js';
import { Containerizer } from './containerizer.js';
import type { ExecutorExit, ExecutorHandle, LaunchExecutorOptions } from './executor-process.js';
import type { ExecutorSession, PendingTermination } from './executor-session.js';
import type { AgentConfig } from './options.js';

export interface AgentAddress {
  /** `host:port`. */
  readonly endpoint: string;
  readonly sandbox: string;
  readonly domainSocket: string | undefined;
}

/**
 * The environment a Mesos agent gives the executor (PROTOCOL.md §1.1), then
 * `executorInfo.command.environment`, then `extra` (later ones win, as in the containerizer).
 */
export function executorEnvironment(c: AgentConfig, at: AgentAddress, extra: Readonly<Record<string, string>>): Record<string, string> {
  const env = buildExecutorEnvironment({
    frameworkId: c.frameworkId,
    executorId: c.executorId,
    agentId: c.agentId,
    agentAddress: at.endpoint,
    pidId: c.pidId,
    directory: at.sandbox,
    checkpoint: c.checkpoint,
    shutdownGracePeriodMs: c.shutdownGracePeriodMs,
    recoveryTimeoutMs: c.recoveryTimeoutMs,
    subscriptionBackoffMaxMs: c.subscriptionBackoffMaxMs,
    ...(c.authToken !== undefined ? { authenticationToken: c.authToken } : {}),
    ...(at.domainSocket !== undefined ? { domainSocket: at.domainSocket } : {}),
    extraVariables: c.extraEnvironment,
  });
  for (const variable of c.executorInfo.command?.environment?.variables ?? []) {
    if (variable.value !== undefined && (variable.type === undefined || variable.type === 'VALUE')) {
      env[variable.name] = variable.value;
    }
  }
  return Object.assign(env, extra);
}

export class ExecutorRuns {
  readonly #config: AgentConfig;
  readonly #session: ExecutorSession;
  readonly #containerizer: Containerizer;
  #registrationTimer: NodeJS.Timeout | undefined;

  /** `onExit`: the current run's process exited, after its tasks were reported. */
  constructor(config: AgentConfig, session: ExecutorSession, onExit: (exit: ExecutorExit) => void) {
    this.#config = config;
    this.#session = session;
    this.#containerizer = new Containerizer((exit) => {
      session.terminated();
      onExit(exit);
    });
  }

  get current(): ExecutorHandle | undefined {
    return this.#containerizer.current;
  }

  async launch(options: LaunchExecutorOptions, environment: () => Record<string, string>, sandbox: string): Promise<ExecutorHandle> {
    this.#containerizer.checkLaunch(options);
    this.#session.newRunIfEnded();
    const env = { ...environment(), ...(options.env ?? {}) };
    if (env['PATH'] === undefined && process.env['PATH'] !== undefined) env['PATH'] = process.env['PATH'];
    const handle = await this.#containerizer.launch(options, env, sandbox);
    this.#session.markLaunched();
    this.#armRegistrationTimeout(this.#session.containerId);
    return handle;
  }

  /** Slave::registerExecutorTimeout: armed at launch, for that executor run only. */
  #armRegistrationTimeout(containerId: string): void {
    clearTimeout(this.#registrationTimer);
    const timeoutMs = this.#config.executorRegistrationTimeoutMs;
    this.#registrationTimer = setTimeout(() => {
      this.#registrationTimer = undefined;
      if (this.#session.containerId !== containerId || this.#session.state !== 'REGISTERING') return;
      this.#destroy({
        state: 'TASK_FAILED',
        reason: 'REASON_EXECUTOR_REGISTRATION_TIMEOUT',
        message: `Executor did not register within ${formatDuration(timeoutMs)}`,
      });
    }, timeoutMs);
    this.#registrationTimer.unref();
  }

  /**
   * Slave::reregisterExecutorTimeout, at the end of the re-registration window: an executor
   * still REGISTERING is killed; TASK_GONE for a partition-aware framework, else TASK_LOST.
   */
  reregistrationTimedOut(timeoutMs: number): void {
    if (this.#session.state !== 'REGISTERING' || !this.#session.exists) return;
    this.#destroy({
      state: this.#config.partitionAware ? 'TASK_GONE' : 'TASK_LOST',
      reason: 'REASON_EXECUTOR_REREGISTRATION_TIMEOUT',
      message: `Executor did not reregister within ${formatDuration(timeoutMs)}`,
    });
  }

  /** containerizer->destroy(): the exit reports the tasks; with no process to kill, at once. */
  #destroy(termination: PendingTermination): void {
    this.#session.terminate(termination);
    if (!this.#containerizer.destroy()) this.#session.terminated();
  }

  /** See Containerizer.destroyOrphan (a restart without checkpointing). */
  destroyOrphan(): void {
    this.#containerizer.destroyOrphan();
  }

  /** SHUTDOWN was sent: the container is destroyed after the grace period. */
  destroyAfter(graceMs: number): Promise<ExecutorExit> | undefined {
    return this.#containerizer.destroyAfter(graceMs);
  }

  async stop(): Promise<void> {
    clearTimeout(this.#registrationTimer);
    await this.#containerizer.destroyAll();
  }
}
