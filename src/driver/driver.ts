import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'eventemitter3';
import { HttpStatusError, InvalidOptionError, MesosExecutorError } from '../errors.js';
import { Status, type Executor, type ExecutorDriver, type StatusUpdateInput } from '../executor.js';
import { silentLogger, type Logger } from '../log.js';
import { codecFor, type Codec, type ContentType } from '../protocol/codec.js';
import { RecordIODecoder } from '../protocol/recordio.js';
import { missingRequiredFields } from '../proto/schema.js';
import {
  TASK_STATES,
  type AgentInfo,
  type Call,
  type Event,
  type ExecutorInfo,
  type FrameworkInfo,
  type TaskStatus,
} from '../proto/types.js';
import { ReconnectBackoff } from './backoff.js';
import { readExecutorEnvironment, type ExecutorEnvironment } from './environment.js';
import { loadTlsOptions } from './tls.js';
import type { DisconnectReason, DriverEvents } from './events.js';
import { Outbox, type OutboxEntry } from './outbox.js';
import { SerialLoop } from './serial-loop.js';
import { HttpAgentTransport, type AgentTransport, type EventStream } from './transport.js';
import { systemClock, type Clock } from '../clock.js';
import { LivenessWatchdog } from './watchdog.js';


export interface MesosExecutorDriverOptions {
  /**
   * The environment to read the agent's variables from (default `process.env`). The
   * authentication token is deleted from it once read.
   */
  env?: Record<string, string | undefined>;
  /** An already-read environment; `env` is then ignored. */
  environment?: ExecutorEnvironment;
  /** Wire encoding of calls and events (default protobuf). */
  contentType?: ContentType;
  logger?: Logger;
  /** Replaces the HTTP transport (tests, custom transports). */
  transport?: AgentTransport;
  timers?: Clock;
  /** Uniform [0, 1) source for backoff jitter. */
  random?: () => number;
  /**
   * How often the agent sends HEARTBEAT events (30 minutes upstream, not announced on the
   * wire). The liveness watchdog is armed once a first HEARTBEAT proves the agent sends them
   * (agents before 1.8 do not).
   */
  heartbeatIntervalMs?: number;
  /** Silence for this many heartbeat intervals means a dead connection (default 2). */
  livenessMultiplier?: number;
  /** Interval of HEARTBEAT calls to the agent (default 30 minutes, as upstream); 0 disables them. */
  heartbeatCallIntervalMs?: number;
  /** Delay before retrying a SUBSCRIBE that got 503/404 without checkpointing (default 1 s, as upstream's executors). */
  subscribeRetryIntervalMs?: number;
  /** Delay before retrying an UPDATE that got 503/404 or failed to send (default 1 s). */
  updateRetryIntervalMs?: number;
  /** Calls pipelined on the call connection at most (default 32): more pipelining, fewer writes. */
  pipelining?: number;
  /** Most updates held while unacknowledged (default 100 000). */
  maxUnacknowledgedUpdates?: number;
  /** Most bytes of status data held while unacknowledged (default 512 MiB). */
  maxUnacknowledgedBytes?: number;
  /** Largest event accepted from the stream (default 64 MiB). */
  maxEventBytes?: number;
  /** Milliseconds to wait for an answer to a call (default 30 s). */
  callTimeoutMs?: number;
}

type Phase =
  /** Not started, or a SUBSCRIBE not yet answered. */
  | 'connecting'
  | 'subscribed'
  /** Lost the agent; backing off (checkpointing) or about to shut down. */
  | 'disconnected'
  /** Stopped or aborted. */
  | 'done';

interface ResolvedOptions {
  readonly contentType: ContentType;
  readonly heartbeatIntervalMs: number;
  readonly livenessMultiplier: number;
  readonly heartbeatCallIntervalMs: number;
  readonly subscribeRetryIntervalMs: number;
  readonly updateRetryIntervalMs: number;
  readonly pipelining: number;
  readonly maxUnacknowledgedUpdates: number;
  readonly maxUnacknowledgedBytes: number;
  readonly maxEventBytes: number;
  readonly callTimeoutMs: number;
}

const MINUTE = 60_000;
// setTimeout fires at once for longer delays; a longer wait is, in practice, forever.
const MAX_TIMER_MS = 2 ** 31 - 1;
/** A SUBSCRIBE unanswered (no HTTP status) for this long is abandoned by the next backoff attempt. */
const SUBSCRIBE_STALL_MS = 2000;

function resolveOptions(options: MesosExecutorDriverOptions): ResolvedOptions {
  const positive = (name: keyof MesosExecutorDriverOptions, value: number | undefined, fallback: number, allowZero = false): number => {
    if (value === undefined) return fallback;
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || (!allowZero && value === 0)) {
      throw new InvalidOptionError(name, `option ${name} must be a ${allowZero ? 'non-negative' : 'positive'} finite number, got ${String(value)}`);
    }
    return value;
  };
  const contentType = options.contentType ?? 'application/x-protobuf';
  if (contentType !== 'application/x-protobuf' && contentType !== 'application/json') {
    throw new InvalidOptionError('contentType', `option contentType must be application/x-protobuf or application/json, got ${String(contentType)}`);
  }
  return Object.freeze({
    contentType,
    heartbeatIntervalMs: positive('heartbeatIntervalMs', options.heartbeatIntervalMs, 30 * MINUTE),
    livenessMultiplier: positive('livenessMultiplier', options.livenessMultiplier, 2),
    heartbeatCallIntervalMs: positive('heartbeatCallIntervalMs', options.heartbeatCallIntervalMs, 30 * MINUTE, true),
    subscribeRetryIntervalMs: positive('subscribeRetryIntervalMs', options.subscribeRetryIntervalMs, 1000),
    updateRetryIntervalMs: positive('updateRetryIntervalMs', options.updateRetryIntervalMs, 1000),
    pipelining: Math.floor(positive('pipelining', options.pipelining, 32)),
    maxUnacknowledgedUpdates: positive('maxUnacknowledgedUpdates', options.maxUnacknowledgedUpdates, 100_000),
    maxUnacknowledgedBytes: positive('maxUnacknowledgedBytes', options.maxUnacknowledgedBytes, 512 * 1024 * 1024),
    maxEventBytes: positive('maxEventBytes', options.maxEventBytes, 64 * 1024 * 1024),
    callTimeoutMs: positive('callTimeoutMs', options.callTimeoutMs, 30_000),
  });
}

/**
 * The Mesos v1 executor driver: subscribes to the agent over HTTP, feeds events to an
 * {@link Executor} through a serial callback loop, and delivers status updates reliably.
 *
 * Reliability: every update is recorded before it is sent and kept until the agent
 * acknowledges it; unacknowledged updates and tasks ride on every (re)SUBSCRIBE, so an agent
 * restart loses nothing, and the agent deduplicates by uuid, so nothing is applied twice.
 */
export class MesosExecutorDriver extends EventEmitter<DriverEvents> implements ExecutorDriver {
  readonly environment: ExecutorEnvironment;
  private readonly executor: Executor;
  private readonly options: ResolvedOptions;
  private readonly logger: Logger;
  private readonly timers: Clock;
  private readonly transport: AgentTransport;
  private readonly codec: Codec;
  private readonly outbox: Outbox;
  private readonly loop: SerialLoop;
  private readonly backoff: ReconnectBackoff | undefined;
  private readonly watchdog: LivenessWatchdog;

  private driverStatus: Status = Status.DRIVER_NOT_STARTED;
  private phase: Phase = 'connecting';
  private stream: EventStream | undefined;
  private decoder: RecordIODecoder | undefined;
  private streamCodec: Codec;
  private carried: OutboxEntry[] = [];
  private subscribeInFlight = false;
  /** Counts SUBSCRIBEs sent; an answer to an older one is stale. */
  private subscribeAttemptId = 0;
  private subscribeSentAt = 0;
  private subscribeAbort: AbortController | undefined;
  /** A SUBSCRIBE got an HTTP answer at least once (upstream backs off only after that). */
  private reachedAgent = false;
  private everSubscribed = false;
  private agentSendsHeartbeats = false;
  private shutdownStarted = false;
  private shutdownInjected = false;
  private shutdownTimer: unknown;
  private subscribeRetryTimer: unknown;
  private updateRetryTimer: unknown;
  private heartbeatCallTimer: unknown;
  private heartbeatCallsEnabled = true;
  private joinPromise: Promise<Status>;
  private resolveJoin!: (status: Status) => void;
  private ackWaiters: Array<() => void> = [];

  /** What SUBSCRIBED told us last. */
  executorInfo: ExecutorInfo | undefined;
  frameworkInfo: FrameworkInfo | undefined;
  agentInfo: AgentInfo | undefined;

  constructor(executor: Executor, options: MesosExecutorDriverOptions = {}) {
    super();
    this.executor = executor;
    this.options = resolveOptions(options);
    this.logger = options.logger ?? silentLogger;
    this.timers = options.timers ?? systemClock;
    this.environment = options.environment ?? readExecutorEnvironment(options.env ?? process.env);
    this.codec = codecFor(this.options.contentType);
    this.streamCodec = this.codec;
    this.transport = options.transport ?? this.createTransport();
    this.outbox = new Outbox({
      maxUpdates: this.options.maxUnacknowledgedUpdates,
      maxBytes: this.options.maxUnacknowledgedBytes,
    });
    this.loop = new SerialLoop({
      onDone: (callback, durationMs) => this.emit('callbackCompleted', { callback, durationMs }),
      onError: (callback, error) => {
        this.logger.error({ callback, err: error }, `Executor callback ${callback} failed`);
        this.emit('callbackFailed', { callback, error });
      },
    });
    const env = this.environment;
    this.backoff = env.checkpoint
      ? new ReconnectBackoff({
          clock: this.timers,
          random: options.random ?? Math.random,
          backoffMaxMs: env.subscriptionBackoffMaxMs,
          recoveryTimeoutMs: env.recoveryTimeoutMs,
          // A backoff attempt may abandon a SUBSCRIBE that has stalled (see subscribe()), as
          // upstream abandons a stale attempt: one hung connection must not hold up recovery.
          attempt: () => this.subscribe(true),
          onRecoveryTimeout: () =>
            this.requestShutdown(true, `could not reach the agent again within the recovery timeout (${env.recoveryTimeoutMs} ms)`),
        })
      : undefined;
    this.watchdog = new LivenessWatchdog(
      this.timers,
      this.options.heartbeatIntervalMs * this.options.livenessMultiplier,
      () => this.onStreamLost(this.stream, 'heartbeat-timeout', 'no bytes on the event stream for longer than the liveness timeout'),
    );
    this.joinPromise = new Promise((resolve) => {
      this.resolveJoin = resolve;
    });
  }

  private createTransport(): AgentTransport {
    const { endpoint, tls, authenticationToken } = this.environment;
    return new HttpAgentTransport({
      origin: endpoint.origin,
      path: endpoint.path,
      ...(endpoint.transport === 'unix' ? { socketPath: endpoint.socketPath } : {}),
      ...(tls !== null ? { tls: loadTlsOptions(tls) } : {}),
      authorization: () => (authenticationToken === null ? undefined : `Bearer ${authenticationToken.reveal()}`),
      pipelining: this.options.pipelining,
      headersTimeoutMs: this.options.callTimeoutMs,
    });
  }

  /**
   * Listeners run on the driver's own paths (the stream's data handler, call answers): one that
   * throws must not break them, so its error is logged and the driver goes on.
   */
  override emit<T extends EventEmitter.EventNames<DriverEvents>>(event: T, ...args: EventEmitter.EventArgs<DriverEvents, T>): boolean {
    try {
      return super.emit(event, ...args);
    } catch (error) {
      this.logger.error({ err: error, event }, 'a driver event listener threw');
      return true;
    }
  }

  /** The driver's status. */
  get status(): Status {
    return this.driverStatus;
  }

  /** True between SUBSCRIBED and the next disconnection. */
  get subscribed(): boolean {
    return this.phase === 'subscribed';
  }

  /** Updates recorded and not yet acknowledged by the agent. */
  get unacknowledgedUpdates(): number {
    return this.outbox.size;
  }

  /** Launched tasks none of whose updates has been acknowledged yet. */
  get unacknowledgedTasks(): number {
    return this.outbox.unacknowledgedTaskCount;
  }

  // ---- ExecutorDriver ----

  async start(): Promise<Status> {
    if (this.driverStatus !== Status.DRIVER_NOT_STARTED) return this.driverStatus;
    this.driverStatus = Status.DRIVER_RUNNING;
    this.logger.info(
      {
        frameworkId: this.environment.frameworkId,
        executorId: this.environment.executorId,
        agent: this.environment.endpoint.url,
        checkpoint: this.environment.checkpoint,
        contentType: this.options.contentType,
      },
      'executor driver starting',
    );
    this.subscribe();
    return this.driverStatus;
  }

  async stop(failover = false): Promise<Status> {
    if (this.driverStatus !== Status.DRIVER_RUNNING && this.driverStatus !== Status.DRIVER_ABORTED) {
      return this.driverStatus;
    }
    if (!failover) this.outbox.clear();
    if (this.driverStatus === Status.DRIVER_ABORTED) {
      // As in the classic driver, stop() after abort() moves an aborted driver to STOPPED.
      this.driverStatus = Status.DRIVER_STOPPED;
      return Status.DRIVER_STOPPED;
    }
    this.terminate(Status.DRIVER_STOPPED, failover ? 'stopped (failover)' : 'stopped');
    await this.transport.close();
    return Status.DRIVER_STOPPED;
  }

  async abort(): Promise<Status> {
    if (this.driverStatus !== Status.DRIVER_RUNNING) return this.driverStatus;
    this.terminate(Status.DRIVER_ABORTED, 'aborted');
    await this.transport.close();
    return Status.DRIVER_ABORTED;
  }

  join(): Promise<Status> {
    if (this.driverStatus === Status.DRIVER_NOT_STARTED) return Promise.resolve(this.driverStatus);
    return this.joinPromise;
  }

  async run(): Promise<Status> {
    const status = await this.start();
    if (status !== Status.DRIVER_RUNNING) return status;
    return this.join();
  }

  sendStatusUpdate(input: StatusUpdateInput): Status {
    if (this.driverStatus !== Status.DRIVER_RUNNING) return this.driverStatus;
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
    const status: TaskStatus & { uuid: Uint8Array } = {
      ...input,
      source: 'SOURCE_EXECUTOR',
      executor_id: { value: this.environment.executorId },
      timestamp: input.timestamp ?? Date.now() / 1000,
      uuid: Buffer.from(randomUUID().replace(/-/g, ''), 'hex'),
    };
    let body: Uint8Array;
    try {
      // Encoding first proves the update can be sent (and the bytes serve every send after).
      body = this.codec.encodeCall(this.call({ type: 'UPDATE', update: { status } }));
    } catch (error) {
      throw new MesosExecutorError('MPE_INVALID_STATUS_UPDATE', `task ${taskId}: the update cannot be encoded: ${(error as Error).message}`, {
        cause: error,
      });
    }
    const entry = this.outbox.record(status, body);
    this.emit('updateRecorded', { taskId, state: status.state, uuid: entry.uuidKey });
    if (this.phase === 'subscribed') {
      const next = this.outbox.takeSendableFor(taskId);
      if (next !== undefined) this.sendUpdate(next);
    }
    return this.driverStatus;
  }

  sendFrameworkMessage(data: Uint8Array): Status {
    if (this.driverStatus !== Status.DRIVER_RUNNING) return this.driverStatus;
    if (this.phase !== 'subscribed') {
      // Upstream drops calls made while not subscribed; messages carry no delivery promise.
      this.logger.warn({ bytes: data.byteLength }, 'framework message dropped: not subscribed');
      return this.driverStatus;
    }
    const body = this.codec.encodeCall(this.call({ type: 'MESSAGE', message: { data } }));
    this.transport.call(body, this.codec.contentType).then(
      (result) => {
        if (result.status !== 202) {
          this.logger.warn({ status: result.status, body: result.body }, 'framework message not accepted');
        }
      },
      (error: unknown) => this.logger.warn({ err: error }, 'framework message failed to send'),
    );
    return this.driverStatus;
  }

  /**
   * Resolves true once every recorded update has been acknowledged, or false after
   * `timeoutMs`. An executor waits for this before it exits: an exit before the agent
   * acknowledged a terminal update turns that task into TASK_FAILED (PROTOCOL.md §7.5).
   */
  awaitAcknowledgements(timeoutMs: number): Promise<boolean> {
    if (this.outbox.size === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const waiter = (): void => {
        this.timers.clearTimeout(timer);
        resolve(true);
      };
      const timer = this.timers.setTimeout(() => {
        this.ackWaiters = this.ackWaiters.filter((w) => w !== waiter);
        resolve(false);
      }, Math.min(Math.max(0, timeoutMs), MAX_TIMER_MS));
      this.ackWaiters.push(waiter);
    });
  }

  // ---- subscription ----

  private call(fields: Omit<Call, 'executor_id' | 'framework_id'>): Call {
    return {
      executor_id: { value: this.environment.executorId },
      framework_id: { value: this.environment.frameworkId },
      ...fields,
    };
  }

  private subscribe(supersede = false): void {
    // Like upstream, never two SUBSCRIBEs in flight at once (a backoff attempt replaces a stalled
    // one); nor a new one while an open stream has not yet delivered SUBSCRIBED.
    if (this.phase === 'done' || this.phase === 'subscribed' || this.stream !== undefined) return;
    if (this.subscribeInFlight) {
      // Only a SUBSCRIBE with no answer for a while counts as hung: the agent answers its 200
      // before it replays what the SUBSCRIBE carries, so a slow replay is not a reason.
      if (!supersede || this.timers.now() - this.subscribeSentAt < SUBSCRIBE_STALL_MS) return;
      this.subscribeAbort?.abort();
    }
    const attemptId = ++this.subscribeAttemptId;
    const abort = new AbortController();
    this.subscribeAbort = abort;
    this.phase = 'connecting';
    this.subscribeInFlight = true;
    this.subscribeSentAt = this.timers.now();
    const snapshot = this.outbox.snapshotForSubscribe();
    const subscribe: NonNullable<Call['subscribe']> = {};
    if (snapshot.tasks.length > 0) subscribe.unacknowledged_tasks = snapshot.tasks;
    if (snapshot.updates.length > 0) subscribe.unacknowledged_updates = snapshot.updates;
    const body = this.codec.encodeCall(this.call({ type: 'SUBSCRIBE', subscribe }));
    this.emit('subscribing', {
      attempt: attemptId,
      carriedUpdates: snapshot.updates.length,
      carriedTasks: snapshot.tasks.length,
    });
    this.transport.subscribe(body, this.codec.contentType, abort.signal).then(
      (result) => {
        if (attemptId !== this.subscribeAttemptId) {
          if (result.ok) result.stream.close();
          return;
        }
        this.subscribeInFlight = false;
        if (this.phase === 'done') {
          if (result.ok) result.stream.close();
          return;
        }
        this.reachedAgent = true;
        if (!result.ok) {
          this.onSubscribeRejected(result.status, result.body);
          return;
        }
        this.attachStream(result.stream, snapshot.entries);
      },
      (error: unknown) => {
        if (attemptId !== this.subscribeAttemptId) return;
        this.subscribeInFlight = false;
        if (this.phase === 'done') return;
        const message = error instanceof Error ? error.message : String(error);
        this.onSubscribeFailed(undefined, message);
      },
    );
  }

  private onSubscribeRejected(status: number, body: string): void {
    if (status === 503 || status === 404) {
      // The agent is recovering, or its route is not installed yet: retry later (upstream does).
      this.onSubscribeFailed(status, `agent answered ${status}${body ? ` (${body})` : ''}`);
      return;
    }
    const error = new HttpStatusError(status, body, `Received unexpected '${status}' (${body}) for SUBSCRIBE`);
    this.emit('subscribeFailed', { status, message: error.message, willRetry: false });
    this.fail(error.message);
  }

  private onSubscribeFailed(status: number | undefined, message: string): void {
    this.phase = 'disconnected';
    if (!this.reachedAgent && status === undefined) {
      // Upstream's library backs off only once it has reached the agent; a first connection
      // that fails means the agent is not there for us: shut down.
      this.emit('subscribeFailed', { status, message, willRetry: false });
      this.logger.error({ message }, 'could not connect to the agent');
      this.requestShutdown(true, `could not connect to the agent: ${message}`);
      return;
    }
    const willRetry = this.backoff !== undefined || !this.everSubscribed;
    this.emit('subscribeFailed', { status, message, willRetry });
    this.logger.warn({ status, message, willRetry }, 'SUBSCRIBE failed');
    if (this.backoff !== undefined) {
      // Starts the recovery deadline on the first failure; later failures change nothing (the
      // next attempt is already scheduled).
      this.backoff.onDisconnected();
    } else if (!this.everSubscribed) {
      this.scheduleSubscribeRetry();
    }
  }

  private scheduleSubscribeRetry(): void {
    if (this.subscribeRetryTimer !== undefined) return;
    this.subscribeRetryTimer = this.timers.setTimeout(() => {
      this.subscribeRetryTimer = undefined;
      this.subscribe();
    }, this.options.subscribeRetryIntervalMs);
  }

  private attachStream(stream: EventStream, carried: OutboxEntry[]): void {
    this.stream?.close();
    this.stream = stream;
    this.carried = carried;
    this.decoder = new RecordIODecoder({ maxRecordBytes: this.options.maxEventBytes });
    const contentType = stream.contentType?.split(';')[0]?.trim();
    try {
      this.streamCodec = contentType === undefined ? this.codec : codecFor(contentType);
    } catch {
      this.streamCodec = this.codec;
    }
    stream.start({
      onData: (chunk) => this.onStreamData(stream, chunk),
      onEnd: () => this.onStreamLost(stream, 'stream-ended', 'the agent closed the event stream'),
      onError: (error) => this.onStreamLost(stream, 'stream-error', error.message),
    });
    if (this.agentSendsHeartbeats) this.watchdog.arm();
  }

  private onStreamData(stream: EventStream, chunk: Uint8Array): void {
    if (stream !== this.stream || this.decoder === undefined) return;
    this.watchdog.activity();
    let records: Uint8Array[];
    try {
      records = this.decoder.push(chunk);
    } catch (error) {
      this.onStreamLost(stream, 'framing-error', error instanceof Error ? error.message : String(error));
      return;
    }
    for (const record of records) {
      let event: Event;
      try {
        event = this.streamCodec.decodeEvent(record);
      } catch (error) {
        this.onStreamLost(stream, 'decode-error', error instanceof Error ? error.message : String(error));
        return;
      }
      this.handleEvent(event);
      // An event may have ended this stream (ERROR, a stop from a listener).
      if (stream !== this.stream) return;
    }
  }

  private onStreamLost(stream: EventStream | undefined, reason: DisconnectReason, message: string): void {
    if (stream === undefined || stream !== this.stream || this.phase === 'done') return;
    stream.close();
    this.stream = undefined;
    this.decoder = undefined;
    this.watchdog.disarm();
    this.stopHeartbeatCalls();
    const wasSubscribed = this.phase === 'subscribed';
    this.phase = 'disconnected';
    this.logger.warn({ reason, message }, 'disconnected from the agent');
    this.emit('disconnected', { reason, message });
    if (wasSubscribed) this.dispatch('disconnected', () => this.executor.disconnected(this));
    if (this.backoff === undefined) {
      this.requestShutdown(true, `lost the agent (${message}) and the framework does not checkpoint`);
    } else if (!this.shutdownInjected) {
      this.backoff.onDisconnected();
    }
  }

  // ---- events ----

  private handleEvent(event: Event): void {
    const type = typeof event.type === 'string' ? event.type : 'UNKNOWN';
    this.emit('eventReceived', { type });
    switch (type) {
      case 'SUBSCRIBED':
        this.onSubscribed(event);
        break;
      case 'LAUNCH': {
        const task = event.launch?.task;
        if (task === undefined) return this.ignore(type, 'no task');
        // Events are decoded leniently: a TaskInfo missing a required field would crash the
        // next SUBSCRIBE (it is re-encoded in unacknowledged_tasks), and one without a task id
        // cannot even be recorded. A real agent never sends one; upstream fails to parse it.
        const missing = missingRequiredFields('mesos.v1.TaskInfo', task);
        if (missing.length > 0) return this.ignore(type, `task lacks ${missing.join(', ')}`);
        this.outbox.addTask(task);
        this.dispatch('launchTask', () => this.executor.launchTask(this, task));
        break;
      }
      case 'LAUNCH_GROUP': {
        const tasks = event.launch_group?.task_group?.tasks ?? [];
        const missing = tasks.flatMap((task) => missingRequiredFields('mesos.v1.TaskInfo', task));
        if (tasks.length === 0 || missing.length > 0) return this.ignore(type, tasks.length === 0 ? 'no tasks' : `a task lacks ${missing.join(', ')}`);
        for (const task of tasks) this.outbox.addTask(task);
        if (this.executor.launchTaskGroup !== undefined) {
          this.dispatch('launchTaskGroup', () => this.executor.launchTaskGroup!(this, tasks));
        } else {
          for (const task of tasks) this.dispatch('launchTask', () => this.executor.launchTask(this, task));
        }
        break;
      }
      case 'KILL': {
        const kill = event.kill;
        if (typeof kill?.task_id?.value !== 'string') return this.ignore(type, 'no kill.task_id');
        this.dispatch('killTask', () => this.executor.killTask(this, kill.task_id, kill.kill_policy));
        break;
      }
      case 'ACKNOWLEDGED': {
        const ack = event.acknowledged;
        if (typeof ack?.task_id?.value !== 'string' || !(ack.uuid instanceof Uint8Array)) {
          return this.ignore(type, 'no acknowledged.task_id or uuid');
        }
        this.onAcknowledged(ack.task_id.value, ack.uuid);
        break;
      }
      case 'MESSAGE': {
        const data = event.message?.data ?? new Uint8Array(0);
        this.dispatch('frameworkMessage', () => this.executor.frameworkMessage(this, data));
        break;
      }
      case 'ERROR':
        this.fail(event.error?.message ?? 'ERROR event without a message');
        break;
      case 'SHUTDOWN':
        this.requestShutdown(false, 'SHUTDOWN from the agent');
        break;
      case 'HEARTBEAT':
        this.emit('heartbeat');
        if (!this.agentSendsHeartbeats) {
          this.agentSendsHeartbeats = true;
          this.watchdog.arm();
        }
        break;
      default:
        // New event types are added upstream behind UNKNOWN = 0: ignore what we do not know.
        this.logger.debug({ type: event.type }, 'ignoring an event of unknown type');
    }
  }

  private ignore(type: string, why: string): void {
    this.logger.warn({ type, why }, 'ignoring a malformed event');
  }

  private onSubscribed(event: Event): void {
    const subscribed = event.subscribed;
    if (subscribed?.executor_info === undefined || subscribed.framework_info === undefined || subscribed.agent_info === undefined) {
      return this.ignore('SUBSCRIBED', 'no subscribed.executor_info, framework_info or agent_info');
    }
    const reconnected = this.everSubscribed;
    this.phase = 'subscribed';
    this.everSubscribed = true;
    this.backoff?.onConnected();
    this.executorInfo = subscribed.executor_info;
    this.frameworkInfo = subscribed.framework_info;
    this.agentInfo = subscribed.agent_info;
    // The agent replayed what SUBSCRIBE carried before it answered SUBSCRIBED.
    const carried = this.carried;
    this.carried = [];
    this.outbox.acceptCarried(carried);
    this.emit('subscribed', {
      reconnected,
      executorInfo: subscribed.executor_info,
      frameworkInfo: subscribed.framework_info,
      agentInfo: subscribed.agent_info,
      containerId: subscribed.container_id,
      carriedUpdates: carried.length,
      carriedTasks: this.outbox.unacknowledgedTaskCount,
    });
    this.logger.info({ reconnected, carriedUpdates: carried.length }, 'subscribed to the agent');
    if (reconnected) {
      this.dispatch('reregistered', () => this.executor.reregistered(this, subscribed.agent_info));
    } else {
      this.dispatch('registered', () =>
        this.executor.registered(this, subscribed.executor_info, subscribed.framework_info, subscribed.agent_info),
      );
    }
    this.flushUpdates();
    this.startHeartbeatCalls();
  }

  private onAcknowledged(taskId: string, uuid: Uint8Array): void {
    const entry = this.outbox.acknowledge(taskId, uuid);
    if (entry === undefined) {
      this.logger.debug({ taskId }, 'acknowledgement for an unknown update (a replay duplicate)');
      return;
    }
    this.emit('updateAcknowledged', {
      taskId,
      state: entry.update.status.state,
      uuid: entry.uuidKey,
      latencyMs: performance.now() - entry.recordedAt,
    });
    // A task's next update may have been waiting for this one.
    if (this.phase === 'subscribed') {
      const next = this.outbox.takeSendableFor(taskId);
      if (next !== undefined) this.sendUpdate(next);
    }
    if (this.outbox.size === 0 && this.ackWaiters.length > 0) {
      const waiters = this.ackWaiters;
      this.ackWaiters = [];
      for (const waiter of waiters) waiter();
    }
  }

  private dispatch(name: string, run: () => void | Promise<void>): void {
    this.loop.enqueue({ name, run });
  }

  // ---- updates ----

  private flushUpdates(): void {
    for (const entry of this.outbox.takeSendable()) this.sendUpdate(entry);
  }

  private sendUpdate(entry: OutboxEntry): void {
    // The subscription this UPDATE belongs to: a late answer must not act on a newer one.
    const stream = this.stream;
    this.transport.call(entry.body, this.codec.contentType).then(
      (result) => this.onUpdateAnswered(entry, result.status, result.body, stream),
      (error: unknown) => {
        this.logger.warn({ taskId: entry.taskId, err: error }, 'UPDATE failed to send; will retry');
        this.retryUpdate(entry, undefined);
      },
    );
  }

  private onUpdateAnswered(entry: OutboxEntry, status: number, body: string, stream: EventStream | undefined): void {
    if (this.phase === 'done') return;
    if (status === 202) {
      const wasAccepted = entry.phase === 'accepted';
      this.outbox.markAccepted(entry);
      if (!wasAccepted) {
        this.emit('updateSent', { taskId: entry.taskId, state: entry.update.status.state, uuid: entry.uuidKey });
      }
      if (this.phase === 'subscribed') {
        const next = this.outbox.takeSendableFor(entry.taskId);
        if (next !== undefined) this.sendUpdate(next);
      }
      return;
    }
    if (status === 503 || status === 404) {
      this.retryUpdate(entry, status);
      return;
    }
    if (status === 403 && body.includes('not subscribed')) {
      // The agent no longer counts us as subscribed (it restarted and our stream has not
      // ended yet): resubscribe, carrying this update.
      this.outbox.markUnsent(entry);
      this.onStreamLost(stream, 'not-subscribed', `agent answered 403 (${body}) to UPDATE`);
      return;
    }
    // 400, 401, 403, 415, ...: the agent will never take this call. Upstream's library raises an
    // error; so do we. The update stays recorded.
    this.outbox.markUnsent(entry);
    this.fail(`Received unexpected '${status}' (${body}) for UPDATE`);
  }

  private retryUpdate(entry: OutboxEntry, status: number | undefined): void {
    this.outbox.markUnsent(entry);
    if (this.phase === 'done') return;
    this.emit('updateRetry', { taskId: entry.taskId, uuid: entry.uuidKey, status });
    // One timer for all retries: after it, every task's oldest unsent update goes again.
    if (this.updateRetryTimer !== undefined) return;
    this.updateRetryTimer = this.timers.setTimeout(() => {
      this.updateRetryTimer = undefined;
      if (this.phase === 'subscribed') this.flushUpdates();
    }, this.options.updateRetryIntervalMs);
  }

  // ---- heartbeat calls ----

  private startHeartbeatCalls(): void {
    this.stopHeartbeatCalls();
    if (this.options.heartbeatCallIntervalMs === 0 || !this.heartbeatCallsEnabled) return;
    this.heartbeatCallTimer = this.timers.setTimeout(() => {
      this.heartbeatCallTimer = undefined;
      this.sendHeartbeatCall();
      if (this.phase === 'subscribed') this.startHeartbeatCalls();
    }, this.options.heartbeatCallIntervalMs);
  }

  private stopHeartbeatCalls(): void {
    if (this.heartbeatCallTimer !== undefined) this.timers.clearTimeout(this.heartbeatCallTimer);
    this.heartbeatCallTimer = undefined;
  }

  private sendHeartbeatCall(): void {
    // Upstream sends dummy ids: the agent answers 202 before looking anything up.
    const body = this.codec.encodeCall({
      executor_id: { value: 'unused' },
      framework_id: { value: 'unused' },
      type: 'HEARTBEAT',
    });
    this.transport.call(body, this.codec.contentType).then(
      (result) => {
        if (result.status === 400) {
          // Agents before 1.8 do not know the HEARTBEAT call.
          this.heartbeatCallsEnabled = false;
          this.stopHeartbeatCalls();
          this.logger.info({ body: result.body }, 'agent does not accept HEARTBEAT calls; not sending more');
        }
      },
      (error: unknown) => this.logger.debug({ err: error }, 'HEARTBEAT call failed'),
    );
  }

  // ---- shutdown, failure, termination ----

  private requestShutdown(injected: boolean, reason: string): void {
    if (this.phase === 'done' || this.shutdownStarted) return;
    this.shutdownStarted = true;
    // An injected shutdown means the agent is gone for good: stop looking for it. After the
    // agent's own SHUTDOWN, keep reconnecting (an agent restart during the grace period) so the
    // terminal updates still reach it; the grace timer bounds it all.
    if (injected) {
      this.shutdownInjected = true;
      this.backoff?.cancel();
    }
    const gracePeriodMs = this.environment.shutdownGracePeriodMs;
    this.logger.info({ injected, reason, gracePeriodMs }, 'shutting down');
    this.emit('shutdownRequested', { injected, reason, gracePeriodMs });
    this.dispatch('shutdown', () => this.executor.shutdown(this));
    // Upstream's library enforces the grace period itself; the agent destroys the container
    // after it anyway.
    this.shutdownTimer = this.timers.setTimeout(() => {
      this.shutdownTimer = undefined;
      if (this.phase === 'done') return;
      this.logger.warn({ gracePeriodMs }, 'shutdown grace period expired');
      this.emit('shutdownGraceExpired');
      this.terminate(Status.DRIVER_ABORTED, 'shutdown grace period expired');
      void this.transport.close();
    }, Math.min(gracePeriodMs, MAX_TIMER_MS));
  }

  /** A fatal error: abort, then tell the executor through `error` (nothing follows it). */
  private fail(message: string): void {
    if (this.phase === 'done') return;
    this.logger.error({ message }, 'fatal driver error');
    this.terminate(Status.DRIVER_ABORTED, message, () => this.executor.error(this, message));
    void this.transport.close();
  }

  private terminate(status: Status, reason: string, last?: () => void | Promise<void>): void {
    if (this.phase === 'done') return;
    this.phase = 'done';
    this.driverStatus = status;
    this.subscribeAbort?.abort();
    this.stream?.close();
    this.stream = undefined;
    this.decoder = undefined;
    this.watchdog.disarm();
    this.backoff?.cancel();
    this.stopHeartbeatCalls();
    for (const timer of [this.shutdownTimer, this.subscribeRetryTimer, this.updateRetryTimer]) {
      if (timer !== undefined) this.timers.clearTimeout(timer);
    }
    this.shutdownTimer = this.subscribeRetryTimer = this.updateRetryTimer = undefined;
    if (last !== undefined) this.loop.closeWith({ name: 'error', run: last });
    else this.loop.close();
    this.emit('terminated', { status, reason });
    this.resolveJoin(status);
  }
}
