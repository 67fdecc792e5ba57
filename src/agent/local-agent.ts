// LocalAgent: the agent side of the Mesos v1 executor HTTP API on one machine, speaking the real
// wire (HTTP/1.1, RecordIO, protobuf or JSON) so that an executor cannot tell it from an agent
// for the behaviours of PROTOCOL.md §2, §3, §8. A facade: the listeners live in http-server.ts,
// the executor's subscription, stream, updates and tasks in executor-session.ts; this file owns
// the agent's lifecycle (start, stop, restart), the executor process and the fault switches.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventEmitter } from 'eventemitter3';
import { AgentStateError } from '../errors.js';
import { jsonCodec, protobufCodec, type Codec, type ContentType } from '../protocol/codec.js';
import { formatHostPort } from '../protocol/environment-variables.js';
import type { KillPolicy, TaskGroupInfo, TaskInfo } from '../proto/types.js';
import * as is from '../validate.js';
import type { AgentTaskRecord } from './agent-task-table.js';
import type { AgentCounters, AgentPhase, CallRecord, ExecutorState, LocalAgentEvents } from './events.js';
import { ExecutorEndpoint, endpointContext } from './executor-endpoint.js';
import type { ExecutorExit, ExecutorHandle, LaunchExecutorOptions } from './executor-process.js';
import { ExecutorRuns, executorEnvironment } from './executor-runs.js';
import type { GarbageKind } from './event-channel.js';
import { ExecutorSession, newCounters, type MutableCounters, type TaskInput } from './executor-session.js';
import { StatusFaults, type RespondStatusOptions } from './faults.js';
import { AgentHttpServer } from './http-server.js';
import { runRestart, type RestartOptions } from './restart.js';
import { resolveAgentOptions, type AgentConfig, type LocalAgentOptions } from './options.js';

export type { GarbageKind } from './event-channel.js';
export type { TaskInput } from './executor-session.js';
export type { RestartOptions } from './restart.js';

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
 * claims rather than JWTs; the executor inherits our PATH; a restart is a crash (no SHUTDOWN to
 * non-checkpointing executors first); no gzip of error bodies.
 */
export class LocalAgent extends EventEmitter<LocalAgentEvents> {
  /** The resolved, frozen configuration. */
  readonly config: AgentConfig;

  readonly #http: AgentHttpServer;
  readonly #session: ExecutorSession;
  readonly #endpoint: ExecutorEndpoint;
  readonly #runs: ExecutorRuns;
  #socketDir: string | undefined;
  #port = 0;
  #phase: AgentPhase = 'stopped';
  readonly #counters: MutableCounters = newCounters();
  readonly #faults = new StatusFaults();
  readonly #sleeps = new Map<NodeJS.Timeout, () => void>();
  #restarting = false;
  #sandbox: string | undefined;
  #ownSandbox = false;
  readonly #codecs: Record<ContentType, Codec> = { 'application/json': jsonCodec, 'application/x-protobuf': protobufCodec };

  constructor(options: LocalAgentOptions = {}) {
    super();
    this.config = resolveAgentOptions(options);
    const config = this.config;
    this.#session = new ExecutorSession({ config, counters: this.#counters, events: this, port: () => this.#port });
    this.#endpoint = new ExecutorEndpoint({
      context: endpointContext(config, this.#session, () => this.#phase, this.#codecs),
      codecs: this.#codecs,
      faults: this.#faults,
      session: this.#session,
      counters: this.#counters,
      events: this,
      recordCalls: config.recordCalls,
    });
    this.#http = new AgentHttpServer({
      host: config.host,
      pidId: config.pidId,
      maxBodyBytes: config.maxBodyBytes,
      tls: config.tls,
      onRequest: () => this.#counters.requests++,
      onCall: (req, res, path, body) => this.#endpoint.handle(req, res, path, body),
    });
    this.#runs = new ExecutorRuns(config, this.#session, (exit) => this.emit('executorExited', exit));
  }

  // ---- lifecycle ----

  /** Binds the server (a random free port unless `port` was given). Resolves once listening. */
  async start(): Promise<void> {
    if (this.#phase !== 'stopped' || this.#http.listening) {
      throw new AgentStateError('start()', 'already started');
    }
    if (this.config.sandboxDir !== undefined) {
      this.#sandbox = this.config.sandboxDir;
    } else {
      this.#sandbox = await mkdtemp(join(tmpdir(), 'mesos-local-agent-'));
      this.#ownSandbox = true;
    }
    if (this.config.domainSocket) this.#socketDir = await mkdtemp(join(tmpdir(), 'mesos-agent-sock-'));
    this.#port = await this.#http.listen(this.config.port, this.domainSocketPath);
    this.#setPhase('running');
  }

  /** The Unix socket the executor API is also served on (`domainSocket`), else undefined. */
  get domainSocketPath(): string | undefined {
    return this.#socketDir === undefined ? undefined : join(this.#socketDir, 'agent.sock');
  }

  /** Closes the stream and the server, kills launched executors (SIGKILL) and waits for them. Idempotent. */
  async stop(): Promise<void> {
    if (!this.#http.listening && this.#phase === 'stopped') return;
    this.#setPhase('stopped');
    for (const [timer, wake] of this.#sleeps) {
      clearTimeout(timer);
      wake();
    }
    this.#sleeps.clear();
    this.#endpoint.abandonDelayed();
    this.#session.stop();
    await this.#runs.stop();
    await this.#http.close();
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

  /** The executor endpoint URL with the PID prefix, as the reference library builds it (https with `tls`). */
  get url(): string {
    return `${this.config.tls === undefined ? 'http' : 'https'}://${this.endpoint}/${this.config.pidId}/api/v1/executor`;
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
    return this.#session.containerId;
  }

  get sandboxDir(): string {
    this.#requireStarted('sandboxDir');
    return this.#sandbox!;
  }

  get executorState(): ExecutorState {
    return this.#session.state;
  }

  /** An executor is subscribed and its stream is open. */
  get subscribed(): boolean {
    return this.#session.subscribed;
  }

  // ---- observation ----

  /** Every request answered on the executor endpoint (empty when `recordCalls` is false). */
  get calls(): readonly CallRecord[] {
    return this.#endpoint.calls;
  }

  /** The tasks, by task id, in the order they were given. A live view: do not hold it across awaits if you need a snapshot. */
  get tasks(): ReadonlyMap<string, AgentTaskRecord> {
    return this.#session.tasks.map;
  }

  task(taskId: string): AgentTaskRecord | undefined {
    return this.#session.tasks.get(taskId);
  }

  /** A snapshot of the counters. */
  get counters(): AgentCounters {
    return { ...this.#counters, ...this.#session.tasks.counters };
  }

  /** The executor process launched last (undefined: none). */
  get executorProcess(): ExecutorHandle | undefined {
    return this.#runs.current;
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
    this.#requireStarted('executorEnvironment()');
    return executorEnvironment(this.config, { endpoint: this.endpoint, sandbox: this.#sandbox!, domainSocket: this.domainSocketPath }, extra);
  }

  /**
   * Spawns the executor with exactly {@link executorEnvironment} plus `options.env`, not our
   * own environment (the Mesos containerizer since 1.0), except `PATH`, copied from ours when
   * not given so that `node` and `/bin/sh` resolve as they do for us (upstream sets a host
   * default PATH instead). Runs in the sandbox, in its own process group. A new launch after
   * the previous executor exited starts a new executor run (new container id, REGISTERING).
   * Unless it subscribes within `executorRegistrationTimeoutMs` it is killed (see the option).
   */
  async launchExecutor(options: LaunchExecutorOptions): Promise<ExecutorHandle> {
    this.#requireStarted('launchExecutor()');
    return this.#runs.launch(options, () => this.executorEnvironment(), this.#sandbox!);
  }

  // ---- driving the executor ----

  /**
   * Gives the executor a task: sent as LAUNCH at once when it is subscribed, else queued and
   * sent right after its SUBSCRIBED (as upstream queues tasks for a registering executor).
   * While subscribed but with a dead stream the LAUNCH is lost, as upstream's would be; the
   * task then stays in TASK_STAGING until the next SUBSCRIBE settles it (§2.3).
   */
  launchTask(input: TaskInput | string): TaskInfo {
    return this.#session.launchTask(input);
  }

  /** Gives the executor a task group (LAUNCH_GROUP), with the same queueing as {@link launchTask}. */
  launchTaskGroup(inputs: ReadonlyArray<TaskInput | string>): TaskGroupInfo {
    return this.#session.launchTaskGroup(inputs);
  }

  /**
   * Asks the executor to kill a task (KILL, with `killPolicy` if given). A task still queued never
   * reaches the executor: the agent itself reports TASK_KILLED (REASON_TASK_KILLED_DURING_LAUNCH),
   * for its whole group if it has one, as `Slave::killTask` does. Returns whether a KILL was written.
   */
  killTask(taskId: string, killPolicy?: KillPolicy): boolean {
    return this.#session.killTask(taskId, killPolicy);
  }

  /** A MESSAGE event (scheduler → executor data). Returns whether it was written; no delivery guarantee. */
  sendFrameworkMessage(data: Uint8Array): boolean {
    return this.#session.send({ type: 'MESSAGE', message: { data } });
  }

  /** An ERROR event. Upstream agents never send one (§3.2), but executors must cope with it. */
  sendError(message: string): boolean {
    return this.#session.send({ type: 'ERROR', error: { message } });
  }

  /**
   * SHUTDOWN: the executor should kill its tasks and exit. After the grace period the agent
   * kills the executor's process group if it is still alive (the container is destroyed).
   * Resolves with the exit when an executor process was launched, else at once.
   */
  async shutdownExecutor(): Promise<ExecutorExit | undefined> {
    this.#session.send({ type: 'SHUTDOWN' });
    this.#session.markTerminating();
    return this.#runs.destroyAfter(this.config.shutdownGracePeriodMs);
  }

  // ---- faults ----

  /**
   * Simulates an agent restart (the agent process dies and comes back): connections are reset
   * (the stream with no terminating chunk), withheld ACKs are forgotten, connections are refused
   * for `downMs` (the listener is closed and later reopened on the same port), then every
   * request gets 503 `Agent has not finished recovery` for `recoverMs` (containerizer recovery).
   *
   * With checkpointing the agent recovers the executor: SUBSCRIBE is then served while other
   * calls still get 503 for `reregisterMs` (the re-registration window); the executor must
   * SUBSCRIBE again; queued tasks were recovered as launched (TASK_STAGING), so unless the
   * SUBSCRIBE lists them they become LOST/DROPPED (§2.3).
   *
   * Without checkpointing the agent recovers nothing (`Slave::recover` has no state for the
   * framework): there is no re-registration window, the executor's process is killed as an
   * orphan container at the end of containerizer recovery, every call naming the framework gets
   * 400 `Framework cannot be found`, and once the agent is back each of the executor's
   * non-terminal tasks becomes TASK_LOST (TASK_DROPPED if partition-aware) with
   * REASON_RECONCILIATION, as the master's reconciliation through the agent makes it.
   * A later launchExecutor() starts a new executor run.
   *
   * Resolves once the agent is `running` again.
   */
  async restart(options: RestartOptions = {}): Promise<void> {
    this.#requireStarted('restart()');
    if (this.#restarting) throw new AgentStateError('restart()', 'a restart is already in progress');
    this.#restarting = true;
    const config = this.config;
    try {
      await runRestart(
        {
          checkpoint: config.checkpoint,
          reregistrationTimeoutMs: config.executorReregistrationTimeoutMs,
          setPhase: (phase) => this.#setPhase(phase),
          stopped: () => this.#phase === 'stopped',
          sleep: (ms) => this.#sleep(ms),
          crash: () => {
            this.#endpoint.abandonDelayed();
            this.#session.agentRestarted(config.checkpoint);
            return this.#http.close();
          },
          listen: async () => {
            await this.#http.listen(this.#port, this.domainSocketPath);
          },
          closeListeners: () => this.#http.close(),
          windowEnded: (ms) => this.#runs.reregistrationTimedOut(ms),
          destroyOrphans: () => this.#runs.destroyOrphan(),
          reregistered: () => this.#session.reconcileForgotten(),
        },
        options,
      );
    } finally {
      this.#restarting = false;
    }
  }

  /**
   * Closes the event stream. `'end'` (default) finishes the chunked body as an agent closing its
   * pipe does; `'destroy'` resets the connection. The executor stays RUNNING in the agent's view.
   */
  dropStream(mode: 'end' | 'destroy' = 'end'): boolean {
    if (!this.#session.streamOpen) return false;
    this.#session.closeStream('dropped', mode);
    return true;
  }

  /** Stops writing to the stream but keeps the connection open (a half-open stream): later events are lost. */
  goSilent(): boolean {
    return this.#session.goSilent();
  }

  /**
   * Writes garbage on the stream: `'bad-length'` a length prefix that is not a number,
   * `'bad-record'` (default) a well-framed record that does not decode as an Event, or the given bytes.
   */
  sendGarbage(garbage: GarbageKind | Uint8Array = 'bad-record'): boolean {
    return this.#session.sendGarbage(garbage);
  }

  /**
   * While on, ACKNOWLEDGED events are held back. Turning it off drops them (as a restarted agent
   * would: the executor gets them again by re-sending the updates in its next SUBSCRIBE), or
   * sends them when `deliver` is true.
   */
  withholdAcks(on: boolean, options: { deliver?: boolean } = {}): void {
    this.#session.withholdAcks(on, options.deliver === true);
  }

  /**
   * ACK timing from now on (the `ackDelayMs` and `reorderAcks` options): every ACKNOWLEDGED is
   * held back and those due within `delayMs` of the first go out together, in reverse order
   * with `reorder`. ACKs already waiting keep their batch.
   */
  delayAcks(delayMs: number, options: { reorder?: boolean } = {}): void {
    const ms = is.optional(delayMs, 'delayMs', is.milliseconds()) ?? 0;
    const reorder = is.optional(options.reorder, 'reorder', is.boolean) ?? false;
    this.#session.setAckTiming({ delayMs: ms, reorder });
  }

  /**
   * The next `count` SUBSCRIBE calls that pass every check are processed `ms` late: no answer
   * (not even the 200 head) and no change to the agent until then, as from an agent busy
   * replaying after a restart. A restart or stop() in between loses them.
   */
  delaySubscribe(ms: number, count = 1): void {
    const delay = is.optional(ms, 'ms', is.milliseconds()) ?? 0;
    is.required(count, 'count', is.positiveInteger);
    this.#endpoint.delaySubscribe(delay, count);
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

  // ---- helpers ----

  #setPhase(phase: AgentPhase): void {
    if (this.#phase === phase) return;
    this.#phase = phase;
    this.emit('phase', phase);
  }

  #requireStarted(what: string): void {
    if (this.#sandbox === undefined) {
      throw new AgentStateError(what, 'call start() first');
    }
  }

  /** A fault's duration; stop() cuts it short. */
  #sleep(ms: number): Promise<void> {
    if (this.#phase === 'stopped') return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#sleeps.delete(timer);
        resolve();
      }, ms);
      this.#sleeps.set(timer, resolve);
    });
  }
}
