import type { EventEmitter } from 'eventemitter3';
import { HttpStatusError, MesosExecutorError } from '../errors.js';
import { Status, type Executor, type ExecutorDriver, type StatusUpdateInput } from '../executor.js';
import { GuardedEmitter } from '../guarded-emitter.js';
import { silentLogger, type Logger } from '../log.js';
import { codecFor, type Codec } from '../protocol/codec.js';
import { randomUuidBytes } from '../protocol/uuid.js';
import {
  TASK_STATES,
  type AgentInfo,
  type Call,
  type Event,
  type ExecutorInfo,
  type FrameworkInfo,
  type TaskStatus,
} from '../proto/types.js';
import { AgentConnection, type ConnectionStateKind, type SubscribeCall } from './connection.js';
import { eventTypeName, routeEvent, type EventHandlers } from './event-router.js';
import { readExecutorEnvironment, type ExecutorEnvironment } from './executor-environment.js';
import type { DisconnectReason, DriverEvents } from './events.js';
import { resolveDriverOptions, type MesosExecutorDriverOptions, type ResolvedDriverOptions } from './options.js';
import { loadTlsOptions } from './tls.js';
import { Outbox, type OutboxEntry } from './outbox.js';
import { quoteAnswer } from './quote.js';
import { SerialLoop } from './serial-loop.js';
import { HeartbeatCalls } from './heartbeat-calls.js';
import { UpdateDelivery } from './update-delivery.js';
import { HttpAgentTransport, type AgentTransport } from './transport.js';
import { systemClock, withLongTimers, type Clock } from '../clock.js';

export type { MesosExecutorDriverOptions } from './options.js';

interface CallIds {
  readonly executor: { readonly value: string };
  readonly framework: { readonly value: string };
}

/** The largest framework message sent; larger ones are dropped (messages are best effort). */
export const MAX_FRAMEWORK_MESSAGE_BYTES = 1024 * 1024;
/** Framework-message bytes awaiting their answer at most; past it, messages are dropped. */
export const MAX_FRAMEWORK_MESSAGE_BYTES_IN_FLIGHT = 2 * 1024 * 1024;

/**
 * The Mesos v1 executor driver: subscribes to the agent over HTTP, feeds events to an
 * {@link Executor} through a serial callback loop, and delivers status updates reliably.
 *
 * It is a facade: the connection's rules live in {@link AgentConnection}, when an update may go
 * out in {@link Outbox}, the callback order in {@link SerialLoop}. What is left here is the
 * classic driver API, what each event means for the executor, the answers to calls, and shutdown.
 *
 * Reliability: every update is recorded before it is sent and kept until the agent
 * acknowledges it; unacknowledged updates and tasks ride on every (re)SUBSCRIBE, so an agent
 * restart loses nothing, and the agent deduplicates by uuid, so nothing is applied twice.
 */
export class MesosExecutorDriver extends GuardedEmitter<DriverEvents> implements ExecutorDriver {
  readonly environment: ExecutorEnvironment;
  readonly #executor: Executor;
  readonly #options: ResolvedDriverOptions;
  readonly #logger: Logger;
  readonly #timers: Clock;
  readonly #transport: AgentTransport;
  readonly #codec: Codec;
  readonly #outbox: Outbox;
  #messageBytesInFlight = 0;
  #messagesDropped = 0;
  readonly #loop: SerialLoop;
  readonly #connection: AgentConnection;

  #status: Status = Status.DRIVER_NOT_STARTED;
  /** Shutdown under way: who asked (the agent's SHUTDOWN, or injected because the agent is gone). */
  #shutdown: { readonly injected: boolean; readonly timer: unknown } | undefined;
  readonly #delivery: UpdateDelivery;
  readonly #heartbeats: HeartbeatCalls;
  readonly #joined: Promise<Status>;
  #resolveJoin!: (status: Status) => void;
  #ackWaiters: Array<() => void> = [];

  /** What SUBSCRIBED told us last (framework capabilities may change between subscriptions). */
  executorInfo: ExecutorInfo | undefined;
  frameworkInfo: FrameworkInfo | undefined;
  agentInfo: AgentInfo | undefined;

  constructor(executor: Executor, options: MesosExecutorDriverOptions = {}) {
    super();
    this.#executor = executor;
    this.#options = resolveDriverOptions(options);
    this.#logger = options.logger ?? silentLogger;
    // Every driver timer may be longer than Node's 2^31−1 ms (a 30-day grace is one timer).
    this.#timers = withLongTimers(options.timers ?? systemClock);
    this.environment = options.environment ?? readExecutorEnvironment(options.env ?? process.env);
    this.#codec = codecFor(this.#options.contentType);
    this.#transport = options.transport ?? this.#createTransport();
    this.#outbox = new Outbox({
      maxUpdates: this.#options.maxUnacknowledgedUpdates,
      maxBytes: this.#options.maxUnacknowledgedBytes,
    });
    this.#loop = new SerialLoop({
      onDone: (callback, durationMs) => this.emit('callbackCompleted', { callback, durationMs }),
      onError: (callback, error) => {
        this.#logger.error({ callback, err: error }, `Executor callback ${callback} failed`);
        this.emit('callbackFailed', { callback, error });
      },
    });
    const env = this.environment;
    this.#connection = new AgentConnection({
      transport: this.#transport,
      clock: this.#timers,
      logger: this.#logger,
      contentType: this.#options.contentType,
      checkpoint: env.checkpoint ? { backoffMaxMs: env.subscriptionBackoffMaxMs, recoveryTimeoutMs: env.recoveryTimeoutMs } : null,
      random: options.random ?? Math.random,
      subscribeRetryIntervalMs: this.#options.subscribeRetryIntervalMs,
      subscribedTimeoutMs: this.#options.subscribedTimeoutMs,
      livenessTimeoutMs: this.#options.heartbeatIntervalMs * this.#options.livenessMultiplier,
      maxEventBytes: this.#options.maxEventBytes,
      host: {
        subscribeCall: () => this.#subscribeCall(),
        onSubscribing: (info) => this.emit('subscribing', info),
        onSubscribeFailed: (info) => {
          if (info.status !== undefined && info.status !== 503 && info.status !== 404) {
            const error = new HttpStatusError(info.status, info.body, info.message);
            this.emit('callRefused', { call: 'SUBSCRIBE', status: info.status, message: info.message, error });
          }
          this.emit('subscribeFailed', { status: info.status, message: info.message, willRetry: info.willRetry });
        },
        onSubscribed: (event, carried, reconnected) => this.#onSubscribed(event, carried, reconnected),
        onEvent: (event) => this.#onEvent(event),
        onLost: (info) => this.#onLost(info),
        onGiveUp: (reason) => this.#requestShutdown(true, reason),
      },
    });
    this.#delivery = new UpdateDelivery({
      outbox: this.#outbox,
      transport: this.#transport,
      contentType: this.#options.contentType,
      clock: this.#timers,
      logger: this.#logger,
      retryIntervalMs: this.#options.updateRetryIntervalMs,
      emit: this.emit.bind(this),
      currentStream: () => this.#connection.currentStream,
      notSubscribed: (stream, message) => this.#connection.notSubscribed(stream, message),
      refused: (status, body, taskId) => this.#refused('UPDATE', status, body, taskId),
      replacement: (refused, message) => {
        const status = this.#stamp({
          task_id: { value: refused.task_id.value },
          state: refused.state,
          ...(typeof refused.reason === 'string' ? { reason: refused.reason } : {}),
          message: `the executor's ${String(refused.state)} update was refused: ${message}; this replacement carries none of its data`,
        });
        return { status, body: this.#encodeUpdate(status) };
      },
    });
    this.#heartbeats = new HeartbeatCalls({
      transport: this.#transport,
      codec: this.#codec,
      clock: this.#timers,
      logger: this.#logger,
      intervalMs: this.#options.heartbeatCallIntervalMs,
      refused: (status, body) => void this.#refused('HEARTBEAT', status, body),
    });
    this.#joined = new Promise((resolve) => {
      this.#resolveJoin = resolve;
    });
  }

  #createTransport(): AgentTransport {
    const { endpoint, tls, authenticationToken } = this.environment;
    return new HttpAgentTransport({
      origin: endpoint.origin,
      path: endpoint.path,
      ...(endpoint.transport === 'unix' ? { socketPath: endpoint.socketPath } : {}),
      ...(tls !== null ? { tls: loadTlsOptions(tls) } : {}),
      authorization: () => (authenticationToken === null ? undefined : `Bearer ${authenticationToken.reveal()}`),
      pipelining: this.#options.pipelining,
      headersTimeoutMs: this.#options.callTimeoutMs,
    });
  }

  /** Listeners run on the driver's own paths (the stream's data handler, call answers): see GuardedEmitter. */
  protected override listenerFailed(event: EventEmitter.EventNames<DriverEvents>, error: unknown): void {
    this.#logger.error({ err: error, event }, 'a driver event listener threw');
  }

  /** The driver's status. */
  get status(): Status {
    return this.#status;
  }

  /** The agent's `MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD`, in ms: the one copy an executor reads. */
  get shutdownGracePeriodMs(): number {
    return this.environment.shutdownGracePeriodMs;
  }

  /** True between SUBSCRIBED and the next disconnection. */
  get subscribed(): boolean {
    return this.#connection.subscribed;
  }

  /** Where the connection to the agent is (see {@link AgentConnection}). */
  get connectionState(): ConnectionStateKind {
    return this.#connection.state;
  }

  /** Updates recorded and not yet acknowledged by the agent. */
  get unacknowledgedUpdates(): number {
    return this.#outbox.size;
  }

  /** Launched tasks none of whose updates has been acknowledged yet. */
  get unacknowledgedTasks(): number {
    return this.#outbox.unacknowledgedTaskCount;
  }

  // ---- ExecutorDriver ----

  async start(): Promise<Status> {
    if (this.#status !== Status.DRIVER_NOT_STARTED) return this.#status;
    this.#status = Status.DRIVER_RUNNING;
    this.#logger.info(
      {
        frameworkId: this.environment.frameworkId,
        executorId: this.environment.executorId,
        agent: this.environment.endpoint.url,
        checkpoint: this.environment.checkpoint,
        contentType: this.#options.contentType,
      },
      'executor driver starting',
    );
    this.#connection.start();
    return this.#status;
  }

  async stop(failover = false): Promise<Status> {
    if (this.#status !== Status.DRIVER_RUNNING && this.#status !== Status.DRIVER_ABORTED) return this.#status;
    if (!failover) this.#outbox.clear();
    if (this.#status === Status.DRIVER_ABORTED) {
      // As in the classic driver, stop() after abort() moves an aborted driver to STOPPED.
      this.#status = Status.DRIVER_STOPPED;
      return Status.DRIVER_STOPPED;
    }
    this.#terminate(Status.DRIVER_STOPPED, failover ? 'stopped (failover)' : 'stopped');
    await this.#transport.close();
    return Status.DRIVER_STOPPED;
  }

  async abort(): Promise<Status> {
    if (this.#status !== Status.DRIVER_RUNNING) return this.#status;
    this.#terminate(Status.DRIVER_ABORTED, 'aborted');
    await this.#transport.close();
    return Status.DRIVER_ABORTED;
  }

  join(): Promise<Status> {
    if (this.#status === Status.DRIVER_NOT_STARTED) return Promise.resolve(this.#status);
    return this.#joined;
  }

  async run(): Promise<Status> {
    const status = await this.start();
    if (status !== Status.DRIVER_RUNNING) return status;
    return this.join();
  }

  sendStatusUpdate(input: StatusUpdateInput): Status {
    if (this.#status !== Status.DRIVER_RUNNING) return this.#status;
    const taskId = input?.task_id?.value;
    if (typeof taskId !== 'string' || taskId.length === 0) {
      throw new MesosExecutorError('MPE_INVALID_STATUS_UPDATE', 'a status update needs task_id.value (a non-empty string)');
    }
    if (input.state === 'TASK_STAGING') {
      throw new MesosExecutorError(
        'MPE_INVALID_STATUS_UPDATE',
        `task ${taskId}: TASK_STAGING is the agent's initial state; an executor may not send it (the agent answers 400)`,
      );
    }
    if (typeof input.state !== 'string' || !TASK_STATES.has(input.state)) {
      throw new MesosExecutorError('MPE_INVALID_STATUS_UPDATE', `task ${taskId}: unknown task state ${String(input.state)}`);
    }
    const status = this.#stamp(input);
    let body: Uint8Array;
    try {
      // Encoding first proves the update can be sent (and the bytes serve every send after).
      body = this.#encodeUpdate(status);
    } catch (error) {
      throw new MesosExecutorError('MPE_INVALID_STATUS_UPDATE', `task ${taskId}: the update cannot be encoded: ${(error as Error).message}`, {
        cause: error,
      });
    }
    // Sent at once when subscribed and the task has nothing ahead of it (the outbox decides).
    const entry = this.#outbox.record(status, body);
    this.emit('updateRecorded', { taskId, state: status.state, uuid: entry.uuidKey });
    return this.#status;
  }

  sendFrameworkMessage(data: Uint8Array): Status {
    if (this.#status !== Status.DRIVER_RUNNING) return this.#status;
    if (!this.#connection.subscribed) {
      // Upstream drops calls made while not subscribed; messages carry no delivery promise.
      this.#logger.warn({ bytes: data.byteLength }, 'framework message dropped: not subscribed');
      return this.#status;
    }
    // Best effort by contract: a message that is too large, or that would put more than the cap
    // in flight on the call connection (where status updates wait behind it), is dropped.
    const bytes = data.byteLength;
    if (bytes > MAX_FRAMEWORK_MESSAGE_BYTES || this.#messageBytesInFlight + bytes > MAX_FRAMEWORK_MESSAGE_BYTES_IN_FLIGHT) {
      this.#messagesDropped++;
      // The first drop, then every thousandth: a job looping on messages must not flood the log.
      if (this.#messagesDropped % 1000 === 1) {
        this.#logger.warn(
          { bytes, inFlight: this.#messageBytesInFlight, dropped: this.#messagesDropped },
          bytes > MAX_FRAMEWORK_MESSAGE_BYTES ? 'framework message dropped: over the size limit' : 'framework message dropped: too many bytes in flight',
        );
      }
      return this.#status;
    }
    const body = this.#codec.encodeCall(this.#call({ type: 'MESSAGE', message: { data } }));
    this.#messageBytesInFlight += bytes;
    const settled = (): void => {
      this.#messageBytesInFlight -= bytes;
    };
    this.#transport.call(body, this.#codec.contentType).then(
      (result) => {
        settled();
        if (result.status !== 202) this.#refused('MESSAGE', result.status, result.body);
      },
      (error: unknown) => {
        settled();
        this.#logger.warn({ err: error }, 'framework message failed to send');
      },
    );
    return this.#status;
  }

  /**
   * Resolves true once every recorded update has been acknowledged, or false after
   * `timeoutMs`. An executor waits for this before it exits: an exit before the agent
   * acknowledged a terminal update turns that task into TASK_FAILED (PROTOCOL.md §7.5).
   */
  awaitAcknowledgements(timeoutMs: number): Promise<boolean> {
    if (this.#outbox.size === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const waiter = (): void => {
        this.#timers.clearTimeout(timer);
        resolve(true);
      };
      const timer = this.#timers.setTimeout(() => {
        this.#ackWaiters = this.#ackWaiters.filter((w) => w !== waiter);
        resolve(false);
      }, Math.max(0, timeoutMs));
      this.#ackWaiters.push(waiter);
    });
  }

  // ---- calls ----

  /** The ids every call and status carries, made once (frozen: shared by every update). */
  #ids: CallIds | undefined;

  #idsOnce(): CallIds {
    this.#ids ??= Object.freeze({
      executor: Object.freeze({ value: this.environment.executorId }),
      framework: Object.freeze({ value: this.environment.frameworkId }),
    });
    return this.#ids;
  }

  #call(fields: Omit<Call, 'executor_id' | 'framework_id'>): Call {
    const ids = this.#idsOnce();
    return { executor_id: ids.executor, framework_id: ids.framework, ...fields };
  }

  #stamp(input: StatusUpdateInput): TaskStatus & { uuid: Uint8Array } {
    // Object.assign, then the fields: `{ ...input, source, … }` (a spread followed by more
    // properties) cost ~3 µs per update in V8 for the few shapes an executor's updates have,
    // 25 times this.
    const status = Object.assign({}, input) as unknown as TaskStatus & { uuid: Uint8Array };
    status.source = 'SOURCE_EXECUTOR';
    status.executor_id = this.#idsOnce().executor;
    status.timestamp = input.timestamp ?? Date.now() / 1000;
    status.uuid = randomUuidBytes();
    return status;
  }

  #encodeUpdate(status: TaskStatus): Uint8Array {
    return this.#codec.encodeCall(this.#call({ type: 'UPDATE', update: { status } }));
  }

  #subscribeCall(): SubscribeCall {
    const snapshot = this.#outbox.snapshotForSubscribe();
    const subscribe: NonNullable<Call['subscribe']> = {};
    if (snapshot.tasks.length > 0) subscribe.unacknowledged_tasks = snapshot.tasks;
    if (snapshot.updates.length > 0) subscribe.unacknowledged_updates = snapshot.updates;
    return {
      body: this.#codec.encodeCall(this.#call({ type: 'SUBSCRIBE', subscribe })),
      carried: snapshot.entries,
      tasks: snapshot.tasks.length,
    };
  }

  /** A call the agent answered with a status that will not change on a retry. */
  #refused(call: 'UPDATE' | 'MESSAGE' | 'HEARTBEAT', status: number, body: string, taskId?: string): string {
    const message = `agent answered ${status}${body === '' ? '' : ` (${quoteAnswer(body)})`} to ${call}`;
    this.#logger.error({ call, status, body: quoteAnswer(body), taskId }, `${call} refused by the agent`);
    this.emit('callRefused', { call, status, message, error: new HttpStatusError(status, quoteAnswer(body), message) });
    return message;
  }

  // ---- connection events ----

  #onSubscribed(event: Event, carried: readonly OutboxEntry[], reconnected: boolean): void {
    const subscribed = event.subscribed!;
    this.emit('eventReceived', { type: 'SUBSCRIBED' });
    // Re-read on every SUBSCRIBED: a framework may have changed its capabilities meanwhile.
    this.executorInfo = subscribed.executor_info;
    this.frameworkInfo = subscribed.framework_info;
    this.agentInfo = subscribed.agent_info;
    // The agent replayed what SUBSCRIBE carried before it answered SUBSCRIBED: those are
    // accepted and are not sent again as UPDATEs.
    this.#outbox.acceptCarried(carried);
    this.emit('subscribed', {
      reconnected,
      executorInfo: subscribed.executor_info,
      frameworkInfo: subscribed.framework_info,
      agentInfo: subscribed.agent_info,
      containerId: subscribed.container_id,
      carriedUpdates: carried.length,
      carriedTasks: this.#outbox.unacknowledgedTaskCount,
    });
    this.#logger.info({ reconnected, carriedUpdates: carried.length }, 'subscribed to the agent');
    if (reconnected) {
      this.#dispatch('reregistered', () => this.#executor.reregistered(this, subscribed.agent_info, subscribed.framework_info));
    } else {
      this.#dispatch('registered', () =>
        this.#executor.registered(this, subscribed.executor_info, subscribed.framework_info, subscribed.agent_info),
      );
    }
    this.#outbox.open((entry) => this.#delivery.send(entry));
    this.#heartbeats.start();
  }

  #onLost(info: { reason: DisconnectReason; message: string; wasSubscribed: boolean }): void {
    this.#outbox.pause();
    this.#heartbeats.stop();
    this.emit('disconnected', { reason: info.reason, message: info.message });
    if (info.wasSubscribed) this.#dispatch('disconnected', () => this.#executor.disconnected(this));
  }

  #onEvent(event: Event): void {
    this.emit('eventReceived', { type: eventTypeName(event) });
    routeEvent(event, this.#eventHandlers);
  }

  /** What each event means here (the router has checked what it carries). */
  readonly #eventHandlers: EventHandlers = {
    launch: (task) => {
      this.#outbox.addTask(task);
      this.#dispatch('launchTask', () => this.#executor.launchTask(this, task));
    },
    launchGroup: (tasks) => {
      for (const task of tasks) this.#outbox.addTask(task);
      if (this.#executor.launchTaskGroup !== undefined) {
        this.#dispatch('launchTaskGroup', () => this.#executor.launchTaskGroup!(this, tasks));
      } else {
        for (const task of tasks) this.#dispatch('launchTask', () => this.#executor.launchTask(this, task));
      }
    },
    kill: (taskId, killPolicy) => this.#dispatch('killTask', () => this.#executor.killTask(this, taskId, killPolicy)),
    acknowledged: (taskId, uuid) => this.#onAcknowledged(taskId, uuid),
    message: (data) => this.#dispatch('frameworkMessage', () => this.#executor.frameworkMessage(this, data)),
    // An agent never sends ERROR to an executor (upstream's library only injects it for a
    // refused call, which we handle per call); from the wire it means the peer gave up on us.
    error: (message) => this.#fail(message),
    shutdown: () => this.#requestShutdown(false, 'SHUTDOWN from the agent'),
    heartbeat: () => this.emit('heartbeat'),
    malformed: (type, why) => this.#logger.warn({ type, why }, 'ignoring a malformed event'),
    unknown: (type) => this.#logger.debug({ type }, 'ignoring an event of unknown type'),
  };

  #onAcknowledged(taskId: string, uuid: Uint8Array): void {
    const entry = this.#outbox.acknowledge(taskId, uuid);
    if (entry === undefined) {
      this.#logger.debug({ taskId }, 'acknowledgement for an unknown update (a replay duplicate)');
      return;
    }
    this.emit('updateAcknowledged', {
      taskId,
      state: entry.update.status.state,
      uuid: entry.uuidKey,
      latencyMs: performance.now() - entry.recordedAt,
    });
    if (this.#outbox.size === 0 && this.#ackWaiters.length > 0) {
      const waiters = this.#ackWaiters;
      this.#ackWaiters = [];
      for (const waiter of waiters) waiter();
    }
  }

  #dispatch(name: string, run: () => void | Promise<void>): void {
    this.#loop.enqueue({ name, run });
  }

  // ---- shutdown, failure, termination ----

  #requestShutdown(injected: boolean, reason: string): void {
    if (this.#status !== Status.DRIVER_RUNNING) return;
    if (this.#shutdown !== undefined) {
      // SHUTDOWN from the agent, then the agent gone for good: stop looking for it.
      if (injected) this.#connection.stopReconnecting();
      return;
    }
    // An injected shutdown means the agent is gone for good: stop looking for it. After the
    // agent's own SHUTDOWN, keep reconnecting (an agent restart during the grace period) so the
    // terminal updates still reach it; the grace timer bounds it all.
    if (injected) this.#connection.stopReconnecting();
    const gracePeriodMs = this.shutdownGracePeriodMs;
    this.#logger.info({ injected, reason, gracePeriodMs }, 'shutting down');
    this.emit('shutdownRequested', { injected, reason, gracePeriodMs });
    this.#dispatch('shutdown', () => this.#executor.shutdown(this));
    // Upstream's library enforces the grace period itself; the agent destroys the container
    // after it anyway.
    const timer = this.#timers.setTimeout(() => {
      if (this.#status !== Status.DRIVER_RUNNING) return;
      this.#logger.warn({ gracePeriodMs }, 'shutdown grace period expired');
      this.emit('shutdownGraceExpired');
      this.#terminate(Status.DRIVER_ABORTED, 'shutdown grace period expired');
      void this.#transport.close();
    }, gracePeriodMs);
    this.#shutdown = { injected, timer };
  }

  /** A fatal error: abort, then tell the executor through `error` (nothing follows it). */
  #fail(message: string): void {
    if (this.#status !== Status.DRIVER_RUNNING) return;
    this.#logger.error({ message }, 'fatal driver error');
    this.#terminate(Status.DRIVER_ABORTED, message, () => this.#executor.error(this, message));
    void this.#transport.close();
  }

  #terminate(status: Status, reason: string, last?: () => void | Promise<void>): void {
    if (this.#status !== Status.DRIVER_RUNNING) return;
    this.#status = status;
    this.#connection.close();
    this.#outbox.pause();
    this.#delivery.close();
    this.#heartbeats.stop();
    if (this.#shutdown !== undefined) this.#timers.clearTimeout(this.#shutdown.timer);
    if (last !== undefined) this.#loop.closeWith({ name: 'error', run: last });
    else this.#loop.close();
    this.emit('terminated', { status, reason });
    this.#resolveJoin(status);
  }
}

