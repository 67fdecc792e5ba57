// LocalAgent: the agent side of the Mesos v1 executor HTTP API on one machine, speaking the real
// wire (HTTP/1.1, RecordIO, protobuf or JSON) so that an executor cannot tell it from an agent
// for the behaviours of PROTOCOL.md §2, §3, §8. It ties together the pure pieces (endpoint
// checks, task table, event stream) and owns the I/O, the timers and the fault switches.
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventEmitter } from 'eventemitter3';
import { InvalidOptionError, MesosExecutorError } from '../errors.js';
import { jsonCodec, protobufCodec, type Codec, type ContentType } from '../protocol/codec.js';
import { buildExecutorEnvironment, formatHostPort } from '../protocol/environment.js';
import type {
  Call,
  Event,
  KillPolicy,
  TaskGroupInfo,
  TaskID,
  TaskInfo,
  TaskState,
  TaskStatus,
  TaskStatusReason,
} from '../proto/types.js';
import type {
  AgentCounters,
  AgentPhase,
  CallRecord,
  ExecutorState,
  LocalAgentEvents,
  UpdateSource,
} from './events.js';
import { EventStream, type StreamCloseReason } from './event-stream.js';
import { ExecutorProcess, type ExecutorExit, type ExecutorHandle, type LaunchExecutorOptions } from './executor-process.js';
import { StatusFaults, type RespondStatusOptions } from './faults.js';
import { decideExecutorRequest, STATUS_TEXT, type EndpointContext } from './http-handler.js';
import { resolveAgentOptions, type AgentConfig, type ExecutorClaims, type LocalAgentOptions } from './options.js';
import { TaskTable, type TaskRecord, type UpdateCounters } from './status-update-manager.js';

/** A task to launch: a TaskInfo whose `name`, `agent_id` and `executor` may be left out. */
export type TaskInput = Omit<TaskInfo, 'name' | 'agent_id' | 'task_id'> & {
  task_id: TaskID | string;
  name?: string;
  agent_id?: TaskInfo['agent_id'];
};

export interface RestartOptions {
  /** Time with no listener (connections refused). Default 0. */
  downMs?: number;
  /** Then time answering 503 to every request (containerizer recovery). Default 0. */
  recoverMs?: number;
  /** Then time in RECOVERING: SUBSCRIBE served, UPDATE/MESSAGE get 503 (the re-registration window). Default 0. */
  reregisterMs?: number;
}

/** What sendGarbage writes on the stream. */
export type GarbageKind = 'bad-length' | 'bad-record';

interface PendingAck {
  readonly task_id: TaskID;
  readonly uuid: Uint8Array;
}

/** The agent's own counters; the update outcomes are the TaskTable's (see `counters`). */
type MutableCounters = { -readonly [K in Exclude<keyof AgentCounters, keyof UpdateCounters>]: AgentCounters[K] };

const CODECS_BY_TYPE = (): Record<ContentType, Codec> => ({
  'application/json': jsonCodec,
  'application/x-protobuf': protobufCodec,
});

/**
 * A Mesos agent for one framework and one executor, on 127.0.0.1 by default, speaking the
 * executor HTTP API on the real wire (PROTOCOL.md §2, §3, §8). Typical use:
 *
 * ```ts
 * const agent = new LocalAgent({ heartbeatIntervalMs: 1000 });
 * await agent.start();
 * await agent.launchExecutor({ command: process.execPath, args: ['dist/src/cli/main.js'] });
 * await agent.nextEvent('subscribed');
 * agent.launchTask({ task_id: 't1', data: Buffer.from('{"job":"noop"}') });
 * await agent.nextEvent('taskTerminal', { filter: (t) => t.taskId === 't1' });
 * await agent.stop();
 * ```
 *
 * Deliberate differences from a real agent: authentication tokens are opaque strings mapped to
 * claims rather than JWTs; the executor inherits our PATH; there is no registration or
 * re-registration timeout, no domain socket, no gzip of error bodies.
 */
export class LocalAgent extends EventEmitter<LocalAgentEvents> {
  /** The resolved, frozen configuration. */
  readonly config: AgentConfig;

  #server: Server | undefined;
  /** The Unix-socket listener, with `domainSocket`. */
  #socketServer: Server | undefined;
  #socketDir: string | undefined;
  #port = 0;
  #phase: AgentPhase = 'stopped';
  #executorState: ExecutorState = 'REGISTERING';
  #containerId: string;
  #everSubscribed = false;
  #restartedSinceSubscribe = false;
  #stream: EventStream | undefined;
  #heartbeat: NodeJS.Timeout | undefined;
  #shutdownTimer: NodeJS.Timeout | undefined;
  readonly #tasks: TaskTable;
  readonly #calls: CallRecord[] = [];
  readonly #counters: MutableCounters;
  #withholding = false;
  #withheld: PendingAck[] = [];
  readonly #faults = new StatusFaults();
  #process: ExecutorProcess | undefined;
  readonly #processes = new Set<ExecutorProcess>();
  readonly #sleeps = new Map<NodeJS.Timeout, () => void>();
  #restarting = false;
  #sandbox: string | undefined;
  #ownSandbox = false;
  #groupSeq = 0;
  readonly #codecs: Record<ContentType, Codec>;
  readonly #routes: ReadonlySet<string>;
  readonly #context: EndpointContext;

  constructor(options: LocalAgentOptions = {}) {
    super();
    this.config = resolveAgentOptions(options);
    this.#containerId = this.config.containerId;
    this.#tasks = new TaskTable(this.config.agentId, this.config.executorId, this.config.recordStatuses);
    this.#codecs = CODECS_BY_TYPE();
    this.#routes = new Set(['/api/v1/executor', `/${this.config.pidId}/api/v1/executor`]);
    this.#counters = {
      requests: 0,
      subscribes: 0,
      updatesReceived: 0,
      updatesReplayed: 0,
      acksSent: 0,
      acksWithheld: 0,
      acksDropped: 0,
      acksLost: 0,
      messagesReceived: 0,
      heartbeatsSent: 0,
      launchesSent: 0,
      eventsSent: 0,
      eventsLost: 0,
    };
    // One context object for every request: getters read the live state, nothing is allocated per call.
    const agent = this;
    const config = this.config;
    const tokens = new Map<string, () => ExecutorClaims>();
    for (const [token, claims] of Object.entries(config.extraAuthTokens)) tokens.set(token, () => claims);
    if (config.authToken !== undefined) {
      // The agent's own token always stands for the current executor run.
      tokens.set(config.authToken, () => ({ fid: config.frameworkId, eid: config.executorId, cid: agent.#containerId }));
    }
    this.#context = {
      get containerizerRecovering() {
        return agent.#phase === 'containerizer-recovery';
      },
      get recovering() {
        return agent.#phase === 'recovering';
      },
      lookupToken: tokens.size > 0 || config.authToken !== undefined ? (token) => tokens.get(token)?.() : undefined,
      frameworkId: config.frameworkId,
      executorId: config.executorId,
      get containerId() {
        return agent.#containerId;
      },
      get executorRegistering() {
        return agent.#executorState === 'REGISTERING';
      },
      contentTypes: config.contentTypes,
      codecs: this.#codecs,
    };
  }

  // ---- lifecycle ----

  /** Binds the server (a random free port unless `port` was given). Resolves once listening. */
  async start(): Promise<void> {
    if (this.#phase !== 'stopped' || this.#server !== undefined) {
      throw new MesosExecutorError('MPE_INVALID_OPTION', 'LocalAgent.start(): already started');
    }
    if (this.config.sandboxDir !== undefined) {
      this.#sandbox = this.config.sandboxDir;
    } else {
      this.#sandbox = await mkdtemp(join(tmpdir(), 'mesos-local-agent-'));
      this.#ownSandbox = true;
    }
    if (this.config.domainSocket) this.#socketDir = await mkdtemp(join(tmpdir(), 'mesos-agent-sock-'));
    await this.#listen(this.config.port);
    this.#setPhase('running');
  }

  /** The Unix socket the executor API is also served on (`domainSocket`), else undefined. */
  get domainSocketPath(): string | undefined {
    return this.#socketDir === undefined ? undefined : join(this.#socketDir, 'agent.sock');
  }

  /** Closes the stream and the server, kills launched executors (SIGKILL) and waits for them. Idempotent. */
  async stop(): Promise<void> {
    if (this.#server === undefined && this.#phase === 'stopped') return;
    this.#setPhase('stopped');
    for (const [timer, wake] of this.#sleeps) {
      clearTimeout(timer);
      wake();
    }
    this.#sleeps.clear();
    this.#stopHeartbeat();
    if (this.#shutdownTimer !== undefined) clearTimeout(this.#shutdownTimer);
    this.#closeStream('stopped', 'end');
    const exits: Promise<ExecutorExit>[] = [];
    for (const proc of this.#processes) {
      proc.kill('SIGKILL');
      exits.push(proc.exited);
    }
    await Promise.all(exits);
    await this.#closeServer();
    if (this.#socketDir !== undefined) {
      await rm(this.#socketDir, { recursive: true, force: true });
      this.#socketDir = undefined;
    }
    if (this.#ownSandbox && this.#sandbox !== undefined) {
      await rm(this.#sandbox, { recursive: true, force: true });
      this.#sandbox = undefined;
      this.#ownSandbox = false;
    }
  }

  // ---- identity ----

  get phase(): AgentPhase {
    return this.#phase;
  }

  get port(): number {
    return this.#port;
  }

  /** `host:port` (MESOS_AGENT_ENDPOINT). */
  get endpoint(): string {
    this.#requireStarted('endpoint');
    return formatHostPort({ host: this.config.host, port: this.#port });
  }

  /** The libprocess PID, e.g. `slave(1)@127.0.0.1:40123` (MESOS_SLAVE_PID). */
  get pid(): string {
    return `${this.config.pidId}@${this.endpoint}`;
  }

  /** The executor endpoint URL with the PID prefix, as the reference library builds it. */
  get url(): string {
    return `http://${this.endpoint}/${this.config.pidId}/api/v1/executor`;
  }

  get frameworkId(): string {
    return this.config.frameworkId;
  }

  get executorId(): string {
    return this.config.executorId;
  }

  get agentId(): string {
    return this.config.agentId;
  }

  /** The current executor run's container id (SUBSCRIBED.container_id, the token's `cid`). */
  get containerId(): string {
    return this.#containerId;
  }

  get sandboxDir(): string {
    this.#requireStarted('sandboxDir');
    return this.#sandbox!;
  }

  get executorState(): ExecutorState {
    return this.#executorState;
  }

  /** An executor is subscribed and its stream is open. */
  get subscribed(): boolean {
    return this.#executorState === 'RUNNING' && this.#stream?.open === true;
  }

  // ---- observation ----

  /** Every request answered on the executor endpoint (empty when `recordCalls` is false). */
  get calls(): readonly CallRecord[] {
    return this.#calls;
  }

  /** The tasks, by task id, in the order they were given. A live view: do not hold it across awaits if you need a snapshot. */
  get tasks(): ReadonlyMap<string, TaskRecord> {
    return this.#tasks.map;
  }

  task(taskId: string): TaskRecord | undefined {
    return this.#tasks.get(taskId);
  }

  /** A snapshot of the counters. */
  get counters(): AgentCounters {
    return { ...this.#counters, ...this.#tasks.counters };
  }

  /** The executor process launched last (undefined: none). */
  get executorProcess(): ExecutorHandle | undefined {
    return this.#process;
  }

  /**
   * The next `name` event for which `filter` holds, as a promise; rejects after `timeoutMs`
   * (default 10 s) with a message naming the event.
   */
  nextEvent<K extends keyof LocalAgentEvents>(
    name: K,
    options: { filter?: (value: LocalAgentEvents[K][0]) => boolean; timeoutMs?: number } = {},
  ): Promise<LocalAgentEvents[K][0]> {
    const timeoutMs = options.timeoutMs ?? 10_000;
    return new Promise((resolve, reject) => {
      const listener = (value: LocalAgentEvents[K][0]): void => {
        if (options.filter !== undefined && !options.filter(value)) return;
        clearTimeout(timer);
        this.off(name, listener as never);
        resolve(value);
      };
      const timer = setTimeout(() => {
        this.off(name, listener as never);
        reject(new Error(`LocalAgent: no '${String(name)}' event within ${timeoutMs} ms`));
      }, timeoutMs);
      this.on(name, listener as never);
    });
  }

  // ---- the executor process ----

  /**
   * The environment a Mesos agent gives this executor (PROTOCOL.md §1.1), then
   * `executorInfo.command.environment`, then `extra` (later ones win, as in the containerizer).
   */
  executorEnvironment(extra: Readonly<Record<string, string>> = {}): Record<string, string> {
    this.#requireStarted('executorEnvironment');
    const c = this.config;
    const env = buildExecutorEnvironment({
      frameworkId: c.frameworkId,
      executorId: c.executorId,
      agentId: c.agentId,
      agentAddress: this.endpoint,
      pidId: c.pidId,
      directory: this.#sandbox!,
      checkpoint: c.frameworkInfo.checkpoint === true,
      shutdownGracePeriodMs: c.shutdownGracePeriodMs,
      recoveryTimeoutMs: c.recoveryTimeoutMs,
      subscriptionBackoffMaxMs: c.subscriptionBackoffMaxMs,
      ...(c.authToken !== undefined ? { authenticationToken: c.authToken } : {}),
      ...(this.domainSocketPath !== undefined ? { domainSocket: this.domainSocketPath } : {}),
      extraVariables: c.extraEnvironment,
    });
    for (const variable of c.executorInfo.command?.environment?.variables ?? []) {
      if (variable.value !== undefined && (variable.type === undefined || variable.type === 'VALUE')) {
        env[variable.name] = variable.value;
      }
    }
    return Object.assign(env, extra);
  }

  /**
   * Spawns the executor with exactly {@link executorEnvironment} plus `options.env`, not our
   * own environment (the Mesos containerizer since 1.0), except `PATH`, copied from ours when
   * not given so that `node` and `/bin/sh` resolve as they do for us (upstream sets a host
   * default PATH instead). Runs in the sandbox, in its own process group. A new launch after
   * the previous executor exited starts a new executor run (new container id, REGISTERING).
   */
  async launchExecutor(options: LaunchExecutorOptions): Promise<ExecutorHandle> {
    this.#requireStarted('launchExecutor');
    if (options === null || typeof options !== 'object' || typeof options.command !== 'string' || options.command === '') {
      throw new InvalidOptionError('command', 'launchExecutor: options.command: expected a non-empty string');
    }
    if (this.#process?.alive === true) {
      throw new MesosExecutorError('MPE_EXECUTOR_PROCESS', `an executor is already running (pid ${this.#process.pid})`);
    }
    if (this.#executorState === 'TERMINATED' || this.#executorState === 'TERMINATING') this.#newExecutorRun();
    const env = { ...this.executorEnvironment(), ...(options.env ?? {}) };
    if (env['PATH'] === undefined && process.env['PATH'] !== undefined) env['PATH'] = process.env['PATH'];
    const proc: ExecutorProcess = await ExecutorProcess.spawn(options, env, this.#sandbox!, (exit) => this.#onExecutorExit(proc, exit));
    this.#process = proc;
    this.#processes.add(proc);
    return proc;
  }

  // ---- driving the executor ----

  /**
   * Gives the executor a task: sent as LAUNCH at once when it is subscribed, else queued and
   * sent right after its SUBSCRIBED (as upstream queues tasks for a registering executor).
   * While subscribed but with a dead stream the LAUNCH is lost, as upstream's would be; the
   * task then stays in TASK_STAGING until the next SUBSCRIBE settles it (§2.3).
   */
  launchTask(input: TaskInput | string): TaskInfo {
    const info = this.#completeTask(typeof input === 'string' ? { task_id: input } : input);
    this.#checkNewTaskIds([info.task_id.value]);
    if (this.#executorState === 'RUNNING') {
      this.#tasks.add(info, 'launched');
      this.#counters.launchesSent++;
      this.#send({ type: 'LAUNCH', launch: { task: info } });
    } else {
      this.#tasks.add(info, 'queued');
    }
    return info;
  }

  /** Gives the executor a task group (LAUNCH_GROUP), with the same queueing as {@link launchTask}. */
  launchTaskGroup(inputs: ReadonlyArray<TaskInput | string>): TaskGroupInfo {
    if (!Array.isArray(inputs) || inputs.length === 0) {
      throw new InvalidOptionError('tasks', 'launchTaskGroup: expected a non-empty array of tasks');
    }
    const tasks = inputs.map((t) => this.#completeTask(typeof t === 'string' ? { task_id: t } : t));
    this.#checkNewTaskIds(tasks.map((t) => t.task_id.value));
    const group = ++this.#groupSeq;
    const running = this.#executorState === 'RUNNING';
    for (const task of tasks) this.#tasks.add(task, running ? 'launched' : 'queued', group);
    const taskGroup: TaskGroupInfo = { tasks };
    if (running) {
      this.#counters.launchesSent++;
      this.#send({ type: 'LAUNCH_GROUP', launch_group: { task_group: taskGroup } });
    }
    return taskGroup;
  }

  /**
   * Asks the executor to kill a task (KILL, with `killPolicy` if given). A task still queued never
   * reaches the executor: the agent itself reports TASK_KILLED (REASON_TASK_KILLED_DURING_LAUNCH),
   * for its whole group if it has one, as `Slave::killTask` does. Returns whether a KILL was written.
   */
  killTask(taskId: string, killPolicy?: KillPolicy): boolean {
    const task = this.#tasks.get(taskId);
    if (task?.phase === 'queued') {
      const victims = task.group === undefined ? [task] : this.#tasks.queued().filter((t) => t.group === task.group);
      for (const victim of victims) {
        this.#agentUpdate(victim.taskId, 'TASK_KILLED', 'REASON_TASK_KILLED_DURING_LAUNCH', 'Killed before delivery to the executor');
      }
      return false;
    }
    return this.#send({ type: 'KILL', kill: { task_id: { value: taskId }, ...(killPolicy !== undefined ? { kill_policy: killPolicy } : {}) } });
  }

  /** A MESSAGE event (scheduler → executor data). Returns whether it was written; no delivery guarantee. */
  sendFrameworkMessage(data: Uint8Array): boolean {
    return this.#send({ type: 'MESSAGE', message: { data } });
  }

  /** An ERROR event. Upstream agents never send one (§3.2), but executors must cope with it. */
  sendError(message: string): boolean {
    return this.#send({ type: 'ERROR', error: { message } });
  }

  /**
   * SHUTDOWN: the executor should kill its tasks and exit. After the grace period the agent
   * kills the executor's process group if it is still alive (the container is destroyed).
   * Resolves with the exit when an executor process was launched, else at once.
   */
  async shutdownExecutor(): Promise<ExecutorExit | undefined> {
    this.#send({ type: 'SHUTDOWN' });
    if (this.#executorState !== 'TERMINATED') this.#executorState = 'TERMINATING';
    const proc = this.#process;
    if (proc === undefined || !proc.alive) return proc === undefined ? undefined : proc.exited;
    if (this.#shutdownTimer !== undefined) clearTimeout(this.#shutdownTimer);
    this.#shutdownTimer = setTimeout(() => {
      this.#shutdownTimer = undefined;
      if (proc.alive) proc.kill('SIGKILL');
    }, this.config.shutdownGracePeriodMs);
    this.#shutdownTimer.unref();
    return proc.exited;
  }

  // ---- faults ----

  /**
   * Simulates an agent restart with checkpointing: connections are reset (the stream with no
   * terminating chunk), withheld ACKs are forgotten, connections are refused for `downMs`
   * (the listener is closed and later reopened on the same port), then every request gets 503
   * for `recoverMs`, then SUBSCRIBE is served while UPDATE/MESSAGE still get 503 for
   * `reregisterMs`. The executor must SUBSCRIBE again; queued tasks were recovered as launched
   * (TASK_STAGING), so unless the SUBSCRIBE lists them they become LOST/DROPPED (§2.3).
   * Resolves once the agent is `running` again.
   */
  async restart(options: RestartOptions = {}): Promise<void> {
    this.#requireStarted('restart');
    if (this.#restarting) throw new MesosExecutorError('MPE_INVALID_OPTION', 'LocalAgent.restart(): a restart is already in progress');
    const downMs = checkMs(options.downMs, 'downMs');
    const recoverMs = checkMs(options.recoverMs, 'recoverMs');
    const reregisterMs = checkMs(options.reregisterMs, 'reregisterMs');
    this.#restarting = true;
    try {
      this.#setPhase('down');
      this.#closeStream('restart', 'destroy');
      this.#counters.acksDropped += this.#withheld.length;
      this.#withheld = [];
      if (this.#executorState === 'RUNNING') this.#executorState = 'REGISTERING';
      for (const task of this.#tasks.queued()) this.#tasks.markLaunched(task.taskId);
      this.#restartedSinceSubscribe = true;
      await this.#closeServer();
      await this.#sleep(downMs);
      if (this.#isStopped()) return;
      await this.#listen(this.#port);
      if (this.#isStopped()) {
        // stop() ran while the listener was being reopened.
        await this.#closeServer();
        return;
      }
      this.#setPhase('containerizer-recovery');
      await this.#sleep(recoverMs);
      if (this.#isStopped()) return;
      this.#setPhase('recovering');
      await this.#sleep(reregisterMs);
      if (this.#isStopped()) return;
      this.#setPhase('running');
    } finally {
      this.#restarting = false;
    }
  }

  /**
   * Closes the event stream. `'end'` (default) finishes the chunked body as an agent closing its
   * pipe does; `'destroy'` resets the connection. The executor stays RUNNING in the agent's view.
   */
  dropStream(mode: 'end' | 'destroy' = 'end'): boolean {
    if (this.#stream?.open !== true) return false;
    this.#closeStream('dropped', mode);
    return true;
  }

  /** Stops writing to the stream but keeps the connection open (a half-open stream): later events are lost. */
  goSilent(): boolean {
    if (this.#stream?.open !== true) return false;
    this.#stream.goSilent();
    return true;
  }

  /**
   * Writes garbage on the stream: `'bad-length'` a length prefix that is not a number,
   * `'bad-record'` (default) a well-framed record that does not decode as an Event, or the given bytes.
   */
  sendGarbage(garbage: GarbageKind | Uint8Array = 'bad-record'): boolean {
    const stream = this.#stream;
    if (stream?.open !== true) return false;
    let bytes: Uint8Array;
    if (garbage === 'bad-length') {
      bytes = Buffer.from('12x\n{}');
    } else if (garbage === 'bad-record') {
      // JSON: not JSON. Protobuf: field 1 with wire type 7, which does not exist.
      const payload = stream.codec.contentType === 'application/json' ? Buffer.from('{"type":') : Buffer.from([0x0f, 0xff, 0xff]);
      bytes = Buffer.concat([Buffer.from(`${payload.length}\n`), payload]);
    } else {
      bytes = garbage;
    }
    return stream.sendRaw(bytes);
  }

  /**
   * While on, ACKNOWLEDGED events are held back. Turning it off drops them (as a restarted agent
   * would: the executor gets them again by re-sending the updates in its next SUBSCRIBE), or
   * sends them when `deliver` is true.
   */
  withholdAcks(on: boolean, options: { deliver?: boolean } = {}): void {
    this.#withholding = on;
    if (on) return;
    const held = this.#withheld;
    this.#withheld = [];
    if (options.deliver === true) {
      for (const ack of held) this.#sendAck(ack);
    } else {
      this.#counters.acksDropped += held.length;
    }
  }

  /**
   * Answers the next `count` matching requests on the executor endpoint with `status`
   * (before any other check, as a proxy or a starting agent would), e.g. 503 storms, 404.
   */
  respondStatus(status: number, count = 1, options: RespondStatusOptions = {}): void {
    this.#faults.add(status, count, options);
  }

  /** Removes every pending {@link respondStatus} rule. */
  clearFaults(): void {
    this.#faults.clear();
  }

  // ---- HTTP ----

  #listen(port: number): Promise<void> {
    const server = createServer((req, res) => this.#onRequest(req, res));
    // libprocess never closes an idle keep-alive connection, and the reference library treats
    // the loss of its call connection as a disconnection (§3.3): no idle timeout here either.
    server.keepAliveTimeout = 0;
    this.#server = server;
    return new Promise<void>((resolve, reject) => {
      const onError = (error: Error): void => {
        this.#server = undefined;
        reject(new MesosExecutorError('MPE_CONNECTION', `LocalAgent cannot listen on ${this.config.host}:${port}: ${error.message}`, { cause: error }));
      };
      server.once('error', onError);
      server.listen(port, this.config.host, () => {
        server.off('error', onError);
        const address = server.address();
        this.#port = typeof address === 'object' && address !== null ? address.port : port;
        resolve();
      });
    }).then(() => this.#listenSocket());
  }

  /** The domain-socket listener: the same endpoint, but only under the PID's path (§1.2). */
  async #listenSocket(): Promise<void> {
    const path = this.domainSocketPath;
    if (path === undefined) return;
    await rm(path, { force: true });
    const allowed = new Set([`/${this.config.pidId}/api/v1/executor`, `/${this.config.pidId}/api/v1`]);
    const server = createServer((req, res) => {
      if (!allowed.has(routePath(req.url ?? '/'))) {
        // Upstream's socket server refuses every other path (Slave::initialize).
        req.resume();
        this.#counters.requests++;
        writeReply(res, 403, STATUS_TEXT[403] ?? 'Forbidden');
        return;
      }
      this.#onRequest(req, res);
    });
    server.keepAliveTimeout = 0;
    this.#socketServer = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', (error: Error) =>
        reject(new MesosExecutorError('MPE_CONNECTION', `LocalAgent cannot listen on ${path}: ${error.message}`, { cause: error })),
      );
      server.listen(path, () => resolve());
    });
  }

  #closeServer(): Promise<void> {
    const servers = [this.#server, this.#socketServer];
    this.#server = undefined;
    this.#socketServer = undefined;
    return Promise.all(
      servers.map(
        (server) =>
          new Promise<void>((resolve) => {
            if (server === undefined) return resolve();
            server.close(() => resolve());
            // An agent going away takes every connection with it, idle or streaming.
            server.closeAllConnections();
          }),
      ),
    ).then(() => undefined);
  }

  #onRequest(req: IncomingMessage, res: ServerResponse): void {
    this.#counters.requests++;
    const path = routePath(req.url ?? '/');
    if (!this.#isExecutorRoute(path)) {
      req.resume();
      writeReply(res, 404, STATUS_TEXT[404]!);
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk: Buffer) => {
      if (tooLarge) return;
      size += chunk.length;
      if (size > this.config.maxBodyBytes) {
        tooLarge = true;
        res.setHeader('Connection', 'close');
        writeReply(res, 413, `Request body larger than ${this.config.maxBodyBytes} bytes`);
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (tooLarge) return;
      const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
      this.#handle(req, res, path, body);
    });
  }

  #isExecutorRoute(path: string): boolean {
    if (this.#routes.has(path)) return true;
    // A client may percent-encode the PID's parentheses: /slave%281%29/api/v1/executor.
    if (!path.includes('%')) return false;
    try {
      return this.#routes.has(decodeURIComponent(path));
    } catch {
      return false;
    }
  }

  #handle(req: IncomingMessage, res: ServerResponse, path: string, body: Buffer): void {
    const contentType = req.headers['content-type'];
    if (this.#faults.active) {
      const type = this.#faults.needsCallType ? peekCallType(this.#codecs, contentType, body) : undefined;
      const forced = this.#faults.take(type);
      if (forced !== undefined) {
        writeReply(res, forced.status, forced.body, forced.headers);
        this.#record(req, path, contentType, undefined, forced.status, forced.body, true, type);
        return;
      }
    }
    const decision = decideExecutorRequest(
      {
        method: req.method ?? 'GET',
        contentType,
        accept: req.headers.accept,
        authorization: req.headers.authorization,
        body,
      },
      this.#context,
    );
    switch (decision.kind) {
      case 'reply':
        writeReply(res, decision.status, decision.body, decision.headers);
        this.#record(req, path, contentType, decision.call, decision.status, decision.body, false);
        return;
      case 'subscribe':
        this.#record(req, path, contentType, decision.call, 200, '', false);
        this.#subscribe(decision.call, decision.streamCodec, res);
        return;
      case 'update':
        this.#counters.updatesReceived++;
        writeReply(res, 202, '');
        this.#record(req, path, contentType, decision.call, 202, '', false);
        this.#processUpdate(decision.call.update!.status, 'executor', undefined);
        return;
      case 'message':
        this.#counters.messagesReceived++;
        writeReply(res, 202, '');
        this.#record(req, path, contentType, decision.call, 202, '', false);
        this.emit('frameworkMessage', decision.call.message!.data);
        return;
    }
  }

  #record(
    req: IncomingMessage,
    path: string,
    contentType: string | undefined,
    call: Call | undefined,
    status: number,
    body: string,
    forced: boolean,
    type: Call['type'] = call?.type,
  ): void {
    const wanted = this.listenerCount('call') > 0;
    if (!this.config.recordCalls && !wanted) return;
    const record: CallRecord = {
      at: Date.now(),
      method: req.method ?? '',
      path,
      // A Unix-socket connection has no remote address.
      transport: req.socket.remoteAddress === undefined ? 'unix' : 'tcp',
      contentType,
      type,
      call,
      status,
      body,
      forced,
    };
    if (this.config.recordCalls) this.#calls.push(record);
    if (wanted) this.emit('call', record);
  }

  // ---- SUBSCRIBE (§2.3) ----

  #subscribe(call: Call, codec: Codec, res: ServerResponse): void {
    this.#counters.subscribes++;
    if (this.#executorState === 'TERMINATING' || this.#executorState === 'TERMINATED') {
      // Slave::subscribe: a terminating executor's stream carries only SHUTDOWN, then ends.
      const stream = new EventStream(res, codec, () => {});
      this.#sendOn(stream, { type: 'SHUTDOWN' });
      stream.end('shutdown-only');
      return;
    }
    const resubscribe = this.#everSubscribed;
    const afterRestart = this.#restartedSinceSubscribe;
    // The previous connection sees the end of its chunked body.
    this.#closeStream('resubscribed', 'end');
    // The 200 and its headers go out first, as upstream answers with its pipe at once and
    // subscribes asynchronously: a long replay must not look like a hung SUBSCRIBE.
    const stream: EventStream = new EventStream(res, codec, (reason) => this.#onStreamClosed(stream, reason));

    // Replay the unacknowledged updates through the normal path: recorded unless duplicates;
    // their ACKs go out after SUBSCRIBED (upstream handles them asynchronously).
    const acks: PendingAck[] = [];
    for (const update of call.subscribe?.unacknowledged_updates ?? []) {
      this.#counters.updatesReplayed++;
      this.#processUpdate(update.status, 'replay', acks);
    }
    // Launched tasks still STAGING that the executor does not list never reached it.
    if (this.config.unlistedStagingTasks === 'always' || afterRestart) {
      const listed = new Set((call.subscribe?.unacknowledged_tasks ?? []).map((t) => t.task_id.value));
      for (const task of this.#tasks.nonTerminal()) {
        if (task.phase === 'launched' && task.state === 'TASK_STAGING' && !listed.has(task.taskId)) {
          const state: TaskState = this.config.partitionAware ? 'TASK_DROPPED' : 'TASK_LOST';
          this.#agentUpdate(task.taskId, state, 'REASON_AGENT_RESTARTED', 'Task launched during agent restart');
        }
      }
    }
    this.#restartedSinceSubscribe = false;
    this.#executorState = 'RUNNING';
    this.#everSubscribed = true;

    this.#stream = stream;
    this.#send({
      type: 'SUBSCRIBED',
      subscribed: {
        executor_info: this.config.executorInfo,
        framework_info: this.config.frameworkInfo,
        agent_info: { hostname: this.config.hostname, port: this.#port, id: { value: this.config.agentId } },
        container_id: { value: this.#containerId },
      },
    });
    this.#deliverQueued();
    for (const ack of acks) this.#sendAck(ack);
    this.#startHeartbeat(stream);
    this.emit('subscribed', { call, contentType: codec.contentType, resubscribe, afterRestart });
  }

  #deliverQueued(): void {
    const queued = this.#tasks.queued();
    const groups = new Map<number, TaskInfo[]>();
    for (const task of queued) {
      if (task.group === undefined) continue;
      const members = groups.get(task.group) ?? [];
      members.push(task.info!);
      groups.set(task.group, members);
    }
    for (const task of queued) {
      if (task.group === undefined) {
        const info = task.info!;
        this.#tasks.markLaunched(task.taskId);
        this.#counters.launchesSent++;
        this.#send({ type: 'LAUNCH', launch: { task: info } });
      } else if (groups.has(task.group)) {
        const members = groups.get(task.group)!;
        groups.delete(task.group);
        for (const member of members) this.#tasks.markLaunched(member.task_id.value);
        this.#counters.launchesSent++;
        this.#send({ type: 'LAUNCH_GROUP', launch_group: { task_group: { tasks: members } } });
      }
    }
  }

  // ---- status updates (§8.3) ----

  #processUpdate(status: TaskStatus, source: UpdateSource, deferAcks: PendingAck[] | undefined): void {
    const result = this.#tasks.apply(status, source === 'agent' ? 'agent' : 'executor', Date.now() / 1000);
    const taskId = status.task_id.value;
    // Hot path (benchmarks push 100k tasks): build event payloads only for listeners.
    if (this.listenerCount('statusUpdate') > 0) {
      this.emit('statusUpdate', {
        taskId,
        status: result.status,
        outcome: result.outcome,
        duplicate: result.outcome === 'duplicate',
        source,
        ackDue: result.ack,
      });
    }
    if (result.terminal && this.listenerCount('taskTerminal') > 0) this.emit('taskTerminal', { taskId, status: result.status });
    if (result.ack && status.uuid !== undefined) {
      const ack = { task_id: status.task_id, uuid: status.uuid };
      if (deferAcks !== undefined) deferAcks.push(ack);
      else this.#sendAck(ack);
    }
  }

  #sendAck(ack: PendingAck): void {
    if (this.#withholding) {
      this.#counters.acksWithheld++;
      this.#withheld.push(ack);
      return;
    }
    const delivered = this.#send({ type: 'ACKNOWLEDGED', acknowledged: { task_id: ack.task_id, uuid: ack.uuid } });
    if (delivered) this.#counters.acksSent++;
    else this.#counters.acksLost++;
    if (this.listenerCount('acknowledged') > 0) this.emit('acknowledged', { taskId: ack.task_id.value, uuid: ack.uuid, delivered });
  }

  /** An update the agent makes itself (source AGENT): recorded, never ACKed to the executor. */
  #agentUpdate(taskId: string, state: TaskState, reason: TaskStatusReason, message: string): void {
    this.#processUpdate(
      {
        task_id: { value: taskId },
        state,
        message,
        source: 'SOURCE_AGENT',
        reason,
        agent_id: { value: this.config.agentId },
        executor_id: { value: this.config.executorId },
        timestamp: Date.now() / 1000,
        uuid: randomUuidBytes(),
      },
      'agent',
      undefined,
    );
  }

  // ---- the stream ----

  #send(event: Event): boolean {
    const stream = this.#stream;
    return stream === undefined ? this.#lost(event) : this.#sendOn(stream, event);
  }

  #sendOn(stream: EventStream, event: Event): boolean {
    const delivered = stream.send(event);
    if (delivered) this.#counters.eventsSent++;
    else this.#counters.eventsLost++;
    if (this.listenerCount('event') > 0) this.emit('event', { event, delivered });
    return delivered;
  }

  #lost(event: Event): false {
    this.#counters.eventsLost++;
    if (this.listenerCount('event') > 0) this.emit('event', { event, delivered: false });
    return false;
  }

  #closeStream(reason: StreamCloseReason, mode: 'end' | 'destroy'): void {
    const stream = this.#stream;
    if (stream === undefined) return;
    if (mode === 'end') stream.end(reason);
    else stream.destroy(reason);
  }

  #onStreamClosed(stream: EventStream, reason: StreamCloseReason): void {
    if (this.#stream !== stream) return;
    this.#stream = undefined;
    this.#stopHeartbeat();
    this.emit('streamClosed', reason);
  }

  #startHeartbeat(stream: EventStream): void {
    this.#stopHeartbeat();
    // Upstream's heartbeater starts with a delay of one interval: no HEARTBEAT right after SUBSCRIBED.
    this.#heartbeat = setInterval(() => {
      if (this.#stream !== stream) return;
      if (this.#sendOn(stream, { type: 'HEARTBEAT' })) this.#counters.heartbeatsSent++;
    }, this.config.heartbeatIntervalMs);
    this.#heartbeat.unref();
  }

  #stopHeartbeat(): void {
    if (this.#heartbeat !== undefined) clearInterval(this.#heartbeat);
    this.#heartbeat = undefined;
  }

  // ---- executor runs ----

  #onExecutorExit(proc: ExecutorProcess, exit: ExecutorExit): void {
    this.#processes.delete(proc);
    if (proc !== this.#process) return;
    if (this.#shutdownTimer !== undefined) {
      clearTimeout(this.#shutdownTimer);
      this.#shutdownTimer = undefined;
    }
    // Slave::executorTerminated: every task not terminal in the agent's view fails.
    for (const task of this.#tasks.nonTerminal()) {
      this.#agentUpdate(task.taskId, 'TASK_FAILED', 'REASON_EXECUTOR_TERMINATED', 'Executor terminated');
    }
    this.#executorState = 'TERMINATED';
    this.#closeStream('executor-exited', 'end');
    this.emit('executorExited', exit);
  }

  #newExecutorRun(): void {
    this.#containerId = randomUUID();
    this.#executorState = 'REGISTERING';
    this.#everSubscribed = false;
    this.#restartedSinceSubscribe = false;
  }

  // ---- helpers ----

  #completeTask(input: TaskInput): TaskInfo {
    if (input === null || typeof input !== 'object') throw new InvalidOptionError('task', 'task: expected a TaskInfo or a task id');
    const taskId = typeof input.task_id === 'string' ? { value: input.task_id } : input.task_id;
    if (taskId === undefined || typeof taskId.value !== 'string' || taskId.value === '') {
      throw new InvalidOptionError('task_id', 'task.task_id: expected a non-empty task id');
    }
    return {
      ...input,
      name: input.name ?? taskId.value,
      task_id: taskId,
      agent_id: input.agent_id ?? { value: this.config.agentId },
      executor: input.executor ?? this.config.executorInfo,
    };
  }

  #checkNewTaskIds(ids: readonly string[]): void {
    const seen = new Set<string>();
    for (const id of ids) {
      // The master refuses a task id already in use; so do we.
      if (this.#tasks.has(id) || seen.has(id)) throw new InvalidOptionError('task_id', `task id ${JSON.stringify(id)} is already in use`);
      seen.add(id);
    }
  }

  // A method, not an inline comparison: TypeScript would keep the narrowing across awaits.
  #isStopped(): boolean {
    return this.#phase === 'stopped';
  }

  #setPhase(phase: AgentPhase): void {
    if (this.#phase === phase) return;
    this.#phase = phase;
    this.emit('phase', phase);
  }

  #requireStarted(what: string): void {
    if (this.#sandbox === undefined) {
      throw new MesosExecutorError('MPE_INVALID_OPTION', `LocalAgent.${what}: call start() first`);
    }
  }

  /** A fault's duration; stop() cuts it short. */
  #sleep(ms: number): Promise<void> {
    if (this.#isStopped()) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#sleeps.delete(timer);
        resolve();
      }, ms);
      this.#sleeps.set(timer, resolve);
    });
  }
}

function writeReply(res: ServerResponse, status: number, body: string, headers?: Readonly<Record<string, string>>): void {
  if (body === '') {
    res.writeHead(status, { 'Content-Length': '0', ...headers });
    res.end();
    return;
  }
  const bytes = Buffer.from(body, 'utf8');
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': String(bytes.length), ...headers });
  res.end(bytes);
}

function routePath(url: string): string {
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}

function peekCallType(codecs: Record<ContentType, Codec>, contentType: string | undefined, body: Uint8Array): Call['type'] {
  const codec = contentType === 'application/json' || contentType === 'application/x-protobuf' ? codecs[contentType] : undefined;
  if (codec === undefined) return undefined;
  try {
    return codec.decodeCall(body).type;
  } catch {
    return undefined;
  }
}

function checkMs(value: number | undefined, option: string): number {
  if (value === undefined) return 0;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new InvalidOptionError(option, `${option}: expected a finite number of milliseconds >= 0, got ${String(value)}`);
  }
  return value;
}

function randomUuidBytes(): Buffer {
  return Buffer.from(randomUUID().replaceAll('-', ''), 'hex');
}
