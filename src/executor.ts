import type {
  AgentInfo,
  ExecutorInfo,
  FrameworkInfo,
  KillPolicy,
  TaskID,
  TaskInfo,
  TaskStatus,
} from './proto/types.js';

/**
 * The driver's lifecycle, numbered as in the classic Mesos API (`mesos.proto` `Status`).
 *
 * ```
 * NOT_STARTED --start()--> RUNNING --stop()--> STOPPED
 *                             |
 *                             +---abort() / ERROR event--> ABORTED --stop()--> STOPPED
 * ```
 */
export enum Status {
  DRIVER_NOT_STARTED = 1,
  DRIVER_RUNNING = 2,
  DRIVER_ABORTED = 3,
  DRIVER_STOPPED = 4,
}

/** A callback's result: nothing, or a promise the driver waits for before the next callback. */
export type CallbackResult = void | Promise<void>;

/**
 * What a Mesos executor implements. The driver calls these **one at a time, in the order the
 * events arrived** (a serial loop): a callback that returns a promise is awaited before the
 * next callback starts. A callback therefore must never block: hand long work elsewhere (the
 * {@link PoolExecutor} hands it to worker threads) and return.
 *
 * A callback that throws or rejects does not stop the loop: the driver logs it, emits a
 * `callbackError` event, and goes on with the next event.
 */
export interface Executor {
  /**
   * The executor has subscribed to the agent for the first time (the SUBSCRIBED event).
   * `frameworkInfo.capabilities` tells, for example, whether TASK_KILLING may be sent.
   */
  registered(
    driver: ExecutorDriver,
    executorInfo: ExecutorInfo,
    frameworkInfo: FrameworkInfo,
    agentInfo: AgentInfo,
  ): CallbackResult;

  /**
   * The executor has subscribed again after a disconnection (for example an agent restart).
   * `frameworkInfo` is the one this SUBSCRIBED carried: its capabilities may have changed
   * since `registered` (upstream's executors re-read them on every SUBSCRIBED). The classic
   * API passes only `agentInfo`; an implementation may ignore the rest.
   */
  reregistered(driver: ExecutorDriver, agentInfo: AgentInfo, frameworkInfo: FrameworkInfo): CallbackResult;

  /**
   * The connection to the agent was lost. With checkpointing the driver keeps trying to
   * resubscribe until the recovery timeout; status updates sent meanwhile are kept and
   * delivered with the next SUBSCRIBE. Without checkpointing `shutdown` follows.
   */
  disconnected(driver: ExecutorDriver): CallbackResult;

  /**
   * A task was launched (LAUNCH, or each task of a LAUNCH_GROUP in turn when the executor has
   * no `launchTaskGroup`). Must return promptly; report progress with `sendStatusUpdate`.
   */
  launchTask(driver: ExecutorDriver, task: TaskInfo): CallbackResult;

  /**
   * A task group was launched (LAUNCH_GROUP). Optional: when absent, the driver calls
   * `launchTask` for each task of the group.
   */
  launchTaskGroup?(driver: ExecutorDriver, tasks: TaskInfo[]): CallbackResult;

  /**
   * The framework asked to kill a task (KILL). `killPolicy` is the policy carried by the KILL
   * event, when it has one; it overrides the task's own `kill_policy`.
   */
  killTask(driver: ExecutorDriver, taskId: TaskID, killPolicy?: KillPolicy): CallbackResult;

  /** Opaque data from the scheduler (MESSAGE). Delivery is best effort. */
  frameworkMessage(driver: ExecutorDriver, data: Uint8Array): CallbackResult;

  /**
   * The executor must kill all its tasks, send their terminal updates and exit within
   * `MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD` (SHUTDOWN received, or injected by the driver when
   * the agent is gone for good).
   */
  shutdown(driver: ExecutorDriver): CallbackResult;

  /**
   * A fatal error: an ERROR event, or an agent answer the protocol does not allow. The driver
   * has already been **aborted** when this is called: no more callbacks follow.
   */
  error(driver: ExecutorDriver, message: string): CallbackResult;
}

/** What an executor uses to talk to the agent. */
export interface ExecutorDriver {
  /** Connects and subscribes. Resolves to the new status (DRIVER_RUNNING on success). */
  start(): Promise<Status>;

  /**
   * Stops the driver: no more callbacks; the connection is closed. Unacknowledged status
   * updates are kept only if `failover` is true (they would be resent by a new driver in
   * the same process); otherwise they are dropped. Resolves to DRIVER_STOPPED.
   */
  stop(failover?: boolean): Promise<Status>;

  /** Aborts the driver: no more callbacks; `join()` resolves with DRIVER_ABORTED. */
  abort(): Promise<Status>;

  /** Resolves when the driver is stopped or aborted, with that final status. */
  join(): Promise<Status>;

  /** `start()` then `join()`. */
  run(): Promise<Status>;

  /**
   * Sends a status update reliably: the driver fills in `uuid`, `timestamp`, `source` and
   * `executor_id`, records the update, and keeps it until the agent acknowledges it (it is
   * carried in every later SUBSCRIBE until then). Updates of one task are sent in order.
   * While disconnected the update is queued, not refused. Returns the driver's status (an
   * update given to a driver that is not running is dropped and that status returned, as in
   * the classic driver). Throws MPE_INVALID_STATUS_UPDATE for TASK_STAGING, an unknown state or
   * a status without `task_id`, and MPE_OUTBOX_FULL when too many updates await acknowledgement.
   */
  sendStatusUpdate(status: StatusUpdateInput): Status;

  /**
   * Not in the classic API. `MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD` in ms: on SHUTDOWN everything
   * must be killed, reported and acknowledged within it, after which the driver aborts (and the
   * agent kills the executor). The driver owns it; an executor reads it here, never keeps a copy.
   */
  readonly shutdownGracePeriodMs: number;

  /** Sends opaque data to the scheduler (best effort, like upstream). */
  sendFrameworkMessage(data: Uint8Array): Status;

  /**
   * Not in the classic API. Resolves true once every status update sent so far has been
   * acknowledged by the agent, false after `timeoutMs`. Wait for it before exiting: when an
   * executor exits, the agent fails every task whose terminal update it has not acknowledged.
   */
  awaitAcknowledgements(timeoutMs: number): Promise<boolean>;
}

/**
 * What the caller of `sendStatusUpdate` gives: a `TaskStatus` without the fields the driver
 * fills in (`uuid`, `timestamp`, `source`, `executor_id` may be given but are overwritten,
 * except `timestamp`, which is kept when set).
 */
export type StatusUpdateInput = Omit<TaskStatus, 'uuid' | 'source' | 'executor_id'> & {
  uuid?: never;
  source?: never;
  executor_id?: never;
};
