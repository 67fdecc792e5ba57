// One executor as the agent knows it (upstream `Executor` in src/slave/slave.hpp): its run
// (container id, state), its subscription and event stream, the heartbeat, its tasks and the
// ACKNOWLEDGED events its updates are owed. No HTTP listener, no process: the LocalAgent
// facade hands it decoded calls and tells it when the process exits or the agent restarts.
import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { EventEmitter } from 'eventemitter3';
import { InvalidOptionError } from '../errors.js';
import type { Codec } from '../protocol/codec.js';
import { randomUuidBytes } from '../protocol/uuid.js';
import type { Call, Event, KillPolicy, TaskGroupInfo, TaskID, TaskInfo, TaskState, TaskStatus, TaskStatusReason } from '../proto/types.js';
import { AckQueue, type AckTiming, type PendingAck } from './ack-queue.js';
import { AgentTaskTable, type UpdateCounters } from './agent-task-table.js';
import type { AgentCounters, ExecutorState, LocalAgentEvents, UpdateSource } from './events.js';
import { EventChannel, type GarbageKind } from './event-channel.js';
import type { StreamCloseReason } from './agent-event-stream.js';
import type { AgentConfig } from './options.js';

/** A task to launch: a TaskInfo whose `name`, `agent_id` and `executor` may be left out. */
export type TaskInput = Omit<TaskInfo, 'name' | 'agent_id' | 'task_id'> & {
  task_id: TaskID | string;
  name?: string;
  agent_id?: TaskInfo['agent_id'];
};

/** The agent's own counters; the update outcomes are the task table's. */
export type MutableCounters = { -readonly [K in Exclude<keyof AgentCounters, keyof UpdateCounters>]: AgentCounters[K] };

export function newCounters(): MutableCounters {
  return {
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
}

/**
 * Why the agent is ending an executor run, for the updates of its unfinished tasks
 * (upstream `Executor::pendingTermination`, read by `sendExecutorTerminatedStatusUpdate`).
 */
export interface PendingTermination {
  readonly state: TaskState;
  readonly reason: TaskStatusReason;
  readonly message: string;
}

/** What the session needs from the agent around it. */
export interface SessionHost {
  readonly config: AgentConfig;
  readonly counters: MutableCounters;
  /** The agent, which emits the session's events. */
  readonly events: EventEmitter<LocalAgentEvents>;
  /** The agent's bound port (SUBSCRIBED.agent_info.port). */
  port(): number;
}

export class ExecutorSession {
  readonly tasks: AgentTaskTable;
  #state: ExecutorState = 'REGISTERING';
  /** The agent knows the framework and this executor (false after a restart without checkpointing). */
  #known = true;
  /** Tasks of an executor the agent forgot: the master reconciles them once the agent is back. */
  #forgotten: string[] = [];
  /** A process was launched for this run, or it subscribed: the agent has an executor to time out. */
  #exists = false;
  #pendingTermination: PendingTermination | undefined;
  #containerId: string;
  #everSubscribed = false;
  #restartedSinceSubscribe = false;
  readonly #channel: EventChannel;
  #withholding = false;
  #withheld: PendingAck[] = [];
  readonly #acks: AckQueue;
  #groupSeq = 0;
  readonly #host: SessionHost;
  readonly #config: AgentConfig;
  readonly #counters: MutableCounters;
  readonly #events: EventEmitter<LocalAgentEvents>;

  constructor(host: SessionHost) {
    this.#host = host;
    this.#config = host.config;
    this.#counters = host.counters;
    this.#events = host.events;
    this.#containerId = host.config.containerId;
    this.tasks = new AgentTaskTable(host.config.agentId, host.config.executorId, host.config.recordStatuses);
    this.#channel = new EventChannel(host.config.heartbeatIntervalMs, host.counters, host.events);
    this.#acks = new AckQueue({ delayMs: host.config.ackDelayMs, reorder: host.config.reorderAcks }, (ack) => this.#deliverAck(ack));
  }

  get state(): ExecutorState {
    return this.#state;
  }

  get containerId(): string {
    return this.#containerId;
  }

  /** This run was launched or has subscribed (a run that is only a queue of tasks is not timed out). */
  get exists(): boolean {
    return this.#exists;
  }

  /** Calls naming the framework get 400 "Framework cannot be found" while this is false. */
  get known(): boolean {
    return this.#known;
  }

  /** Subscribed, with an open stream. */
  get subscribed(): boolean {
    return this.#state === 'RUNNING' && this.#channel.open;
  }

  get streamOpen(): boolean {
    return this.#channel.open;
  }

  // ---- SUBSCRIBE (§2.3) ----

  subscribe(call: Call, codec: Codec, res: ServerResponse): void {
    this.#counters.subscribes++;
    if (this.#state === 'TERMINATING' || this.#state === 'TERMINATED') {
      // Slave::subscribe: a terminating executor's stream carries only SHUTDOWN, then ends.
      this.#channel.shutdownOnly(res, codec);
      return;
    }
    const resubscribe = this.#everSubscribed;
    const afterRestart = this.#restartedSinceSubscribe;
    // The previous connection sees the end of its chunked body; the 200 and its headers go out
    // first, as upstream answers with its pipe at once and subscribes asynchronously: a long
    // replay must not look like a hung SUBSCRIBE.
    const stream = this.#channel.open200(res, codec);

    // Replay the unacknowledged updates through the normal path: recorded unless duplicates;
    // their ACKs go out after SUBSCRIBED (upstream handles them asynchronously).
    const acks: PendingAck[] = [];
    for (const update of call.subscribe?.unacknowledged_updates ?? []) {
      this.#counters.updatesReplayed++;
      this.#processUpdate(update.status, 'replay', acks);
    }
    // Launched tasks still STAGING that the executor does not list never reached it.
    if (this.#config.unlistedStagingTasks === 'always' || afterRestart) {
      const listed = new Set((call.subscribe?.unacknowledged_tasks ?? []).map((t) => t.task_id.value));
      for (const task of this.tasks.nonTerminal()) {
        if (task.phase === 'launched' && task.state === 'TASK_STAGING' && !listed.has(task.taskId)) {
          const state: TaskState = this.#config.partitionAware ? 'TASK_DROPPED' : 'TASK_LOST';
          this.agentUpdate(task.taskId, state, 'REASON_AGENT_RESTARTED', 'Task launched during agent restart');
        }
      }
    }
    this.#restartedSinceSubscribe = false;
    this.#state = 'RUNNING';
    this.#everSubscribed = true;
    this.#exists = true;

    this.#channel.attach(stream);
    this.send({
      type: 'SUBSCRIBED',
      subscribed: {
        executor_info: this.#config.executorInfo,
        framework_info: this.#config.frameworkInfo,
        agent_info: { hostname: this.#config.hostname, port: this.#host.port(), id: { value: this.#config.agentId } },
        container_id: { value: this.#containerId },
      },
    });
    this.#deliverQueued();
    for (const ack of acks) this.#sendAck(ack);
    this.#events.emit('subscribed', { call, contentType: codec.contentType, resubscribe, afterRestart });
  }

  #deliverQueued(): void {
    const queued = this.tasks.queued();
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
        this.tasks.markLaunched(task.taskId);
        this.#counters.launchesSent++;
        this.send({ type: 'LAUNCH', launch: { task: info } });
      } else if (groups.has(task.group)) {
        const members = groups.get(task.group)!;
        groups.delete(task.group);
        for (const member of members) this.tasks.markLaunched(member.task_id.value);
        this.#counters.launchesSent++;
        this.send({ type: 'LAUNCH_GROUP', launch_group: { task_group: { tasks: members } } });
      }
    }
  }

  // ---- tasks ----

  launchTask(input: TaskInput | string): TaskInfo {
    const info = this.#completeTask(typeof input === 'string' ? { task_id: input } : input);
    this.#checkNewTaskIds([info.task_id.value]);
    if (this.#state === 'RUNNING') {
      this.tasks.add(info, 'launched');
      this.#counters.launchesSent++;
      this.send({ type: 'LAUNCH', launch: { task: info } });
    } else {
      this.tasks.add(info, 'queued');
    }
    return info;
  }

  launchTaskGroup(inputs: ReadonlyArray<TaskInput | string>): TaskGroupInfo {
    if (!Array.isArray(inputs) || inputs.length === 0) {
      throw new InvalidOptionError('tasks', 'launchTaskGroup: expected a non-empty array of tasks');
    }
    const tasks = inputs.map((t) => this.#completeTask(typeof t === 'string' ? { task_id: t } : t));
    this.#checkNewTaskIds(tasks.map((t) => t.task_id.value));
    const group = ++this.#groupSeq;
    const running = this.#state === 'RUNNING';
    for (const task of tasks) this.tasks.add(task, running ? 'launched' : 'queued', group);
    const taskGroup: TaskGroupInfo = { tasks };
    if (running) {
      this.#counters.launchesSent++;
      this.send({ type: 'LAUNCH_GROUP', launch_group: { task_group: taskGroup } });
    }
    return taskGroup;
  }

  killTask(taskId: string, killPolicy?: KillPolicy): boolean {
    const task = this.tasks.get(taskId);
    if (task?.phase === 'queued') {
      const victims = task.group === undefined ? [task] : this.tasks.queued().filter((t) => t.group === task.group);
      for (const victim of victims) {
        this.agentUpdate(victim.taskId, 'TASK_KILLED', 'REASON_TASK_KILLED_DURING_LAUNCH', 'Killed before delivery to the executor');
      }
      return false;
    }
    return this.send({ type: 'KILL', kill: { task_id: { value: taskId }, ...(killPolicy !== undefined ? { kill_policy: killPolicy } : {}) } });
  }

  // ---- status updates (§8.3) ----

  /** An UPDATE call answered 202. */
  receiveUpdate(status: TaskStatus): void {
    this.#processUpdate(status, 'executor', undefined);
  }

  #processUpdate(status: TaskStatus, source: UpdateSource, deferAcks: PendingAck[] | undefined): void {
    const result = this.tasks.apply(status, source === 'agent' ? 'agent' : 'executor', Date.now() / 1000);
    const taskId = status.task_id.value;
    const events = this.#events;
    // Hot path (benchmarks push 100k tasks): build event payloads only for listeners.
    if (events.listenerCount('statusUpdate') > 0) {
      events.emit('statusUpdate', {
        taskId,
        status: result.status,
        outcome: result.outcome,
        duplicate: result.outcome === 'duplicate',
        source,
        ackDue: result.ack,
      });
    }
    if (result.terminal && events.listenerCount('taskTerminal') > 0) events.emit('taskTerminal', { taskId, status: result.status });
    if (result.ack && status.uuid !== undefined) {
      const ack = { task_id: status.task_id, uuid: status.uuid };
      if (deferAcks !== undefined) deferAcks.push(ack);
      else this.#sendAck(ack);
    }
  }

  /** An ACK is due: held back while withholding, else queued (it leaves asynchronously, see AckQueue). */
  #sendAck(ack: PendingAck): void {
    if (this.#withholding) {
      this.#counters.acksWithheld++;
      this.#withheld.push(ack);
      return;
    }
    this.#acks.push(ack);
  }

  #deliverAck(ack: PendingAck): void {
    const delivered = this.send({ type: 'ACKNOWLEDGED', acknowledged: { task_id: ack.task_id, uuid: ack.uuid } });
    if (delivered) this.#counters.acksSent++;
    else this.#counters.acksLost++;
    if (this.#events.listenerCount('acknowledged') > 0) this.#events.emit('acknowledged', { taskId: ack.task_id.value, uuid: ack.uuid, delivered });
  }

  /** See LocalAgent.withholdAcks. */
  withholdAcks(on: boolean, deliver: boolean): void {
    this.#withholding = on;
    if (on) return;
    const held = this.#withheld;
    this.#withheld = [];
    if (deliver) {
      for (const ack of held) this.#acks.push(ack);
    } else {
      this.#counters.acksDropped += held.length;
    }
  }

  /** See LocalAgent.delayAcks. */
  setAckTiming(timing: AckTiming): void {
    this.#acks.setTiming(timing);
  }

  /** An update the agent makes itself (source AGENT): recorded, never ACKed to the executor. */
  agentUpdate(taskId: string, state: TaskState, reason: TaskStatusReason, message: string): void {
    this.#processUpdate(
      {
        task_id: { value: taskId },
        state,
        message,
        source: 'SOURCE_AGENT',
        reason,
        agent_id: { value: this.#config.agentId },
        executor_id: { value: this.#config.executorId },
        timestamp: Date.now() / 1000,
        uuid: randomUuidBytes(),
      },
      'agent',
      undefined,
    );
  }

  // ---- the stream ----

  /** Writes an event on the current stream; false when it was lost. */
  send(event: Event): boolean {
    return this.#channel.send(event);
  }

  closeStream(reason: StreamCloseReason, mode: 'end' | 'destroy'): void {
    this.#channel.close(reason, mode);
  }

  /** Stops writing to the stream but keeps the connection open. False without an open stream. */
  goSilent(): boolean {
    return this.#channel.goSilent();
  }

  sendGarbage(garbage: GarbageKind | Uint8Array): boolean {
    return this.#channel.sendGarbage(garbage);
  }

  // ---- the executor run ----

  /** SHUTDOWN was sent: the executor is TERMINATING (unless it already terminated). */
  markTerminating(): void {
    if (this.#state !== 'TERMINATED') this.#state = 'TERMINATING';
  }

  /** A process was launched for this run. */
  markLaunched(): void {
    this.#exists = true;
  }

  /**
   * The agent is destroying the executor's container (a registration or re-registration
   * timeout): TERMINATING, and its unfinished tasks will be reported with `termination`.
   */
  terminate(termination: PendingTermination): void {
    this.#state = 'TERMINATING';
    this.#pendingTermination = termination;
  }

  /**
   * The executor's process exited, or its container was destroyed (Slave::executorTerminated):
   * every task not terminal in the agent's view gets the pending termination's state and reason
   * (by default TASK_FAILED, REASON_EXECUTOR_TERMINATED), the stream ends.
   */
  terminated(): void {
    const t = this.#pendingTermination ?? { state: 'TASK_FAILED', reason: 'REASON_EXECUTOR_TERMINATED', message: 'Executor terminated' };
    for (const task of this.tasks.nonTerminal()) this.agentUpdate(task.taskId, t.state, t.reason, t.message);
    this.#state = 'TERMINATED';
    this.closeStream('executor-exited', 'end');
  }

  /** A new launch after the previous run ended (or was forgotten): new container id, REGISTERING. */
  newRunIfEnded(): void {
    if (this.#state !== 'TERMINATED' && this.#state !== 'TERMINATING') return;
    this.#containerId = randomUUID();
    this.#state = 'REGISTERING';
    this.#known = true;
    this.#exists = false;
    this.#pendingTermination = undefined;
    this.#everSubscribed = false;
    this.#restartedSinceSubscribe = false;
  }

  /**
   * The agent went down. The stream is reset and withheld ACKs are forgotten. With
   * checkpointing the agent recovers the executor: a running one is REGISTERING again, queued
   * tasks were recovered as launched. Without, it recovers nothing: the executor and its tasks
   * are unknown to it from now on (its container is an orphan, destroyed by the containerizer).
   */
  agentRestarted(checkpoint: boolean): void {
    this.closeStream('restart', 'destroy');
    // ACKs withheld or not yet sent die with the agent.
    this.#counters.acksDropped += this.#withheld.length + this.#acks.drop();
    this.#withheld = [];
    if (!checkpoint) {
      if (this.#known) this.#forgotten = this.tasks.nonTerminal().map((t) => t.taskId);
      this.#known = false;
      this.#state = 'TERMINATED';
      return;
    }
    if (this.#state === 'RUNNING') this.#state = 'REGISTERING';
    for (const task of this.tasks.queued()) this.tasks.markLaunched(task.taskId);
    this.#restartedSinceSubscribe = true;
  }

  /**
   * The agent registered with the master again: every task it forgot is reconciled
   * (Master::reconcileKnownSlave, then Slave::reconcileTasks for a task unknown to the agent).
   */
  reconcileForgotten(): void {
    const forgotten = this.#forgotten;
    this.#forgotten = [];
    const state: TaskState = this.#config.partitionAware ? 'TASK_DROPPED' : 'TASK_LOST';
    for (const taskId of forgotten) {
      if (this.tasks.get(taskId)?.phase === 'terminated') continue;
      this.agentUpdate(taskId, state, 'REASON_RECONCILIATION', 'Reconciliation: task unknown to the agent');
    }
  }

  /** stop(): the stream ends, the heartbeat stops. */
  stop(): void {
    this.#acks.drop();
    this.#channel.close('stopped', 'end');
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
      agent_id: input.agent_id ?? { value: this.#config.agentId },
      executor: input.executor ?? this.#config.executorInfo,
    };
  }

  #checkNewTaskIds(ids: readonly string[]): void {
    const seen = new Set<string>();
    for (const id of ids) {
      // The master refuses a task id already in use; so do we.
      if (this.tasks.has(id) || seen.has(id)) throw new InvalidOptionError('task_id', `task id ${JSON.stringify(id)} is already in use`);
      seen.add(id);
    }
  }
}
