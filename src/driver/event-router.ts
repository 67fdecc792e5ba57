// What each event from the agent's stream asks of the executor, after the checks a lenient
// decode leaves to us. SUBSCRIBED and HEARTBEAT's liveness are the connection's business
// (connection.ts); everything else arrives here.
import { missingRequiredFields } from '../proto/schema.js';
import { echoedTask } from './outbox.js';
import type { Event, KillPolicy, TaskID, TaskInfo } from '../proto/types.js';

/** The driver's side of each event. */
export interface EventHandlers {
  launch(task: TaskInfo): void;
  launchGroup(tasks: TaskInfo[]): void;
  kill(taskId: TaskID, killPolicy: KillPolicy | undefined): void;
  acknowledged(taskId: string, uuid: Uint8Array): void;
  message(data: Uint8Array): void;
  /** An ERROR event. */
  error(message: string): void;
  shutdown(): void;
  heartbeat(): void;
  /** A known event without what it must carry: logged and dropped. */
  malformed(type: string, why: string): void;
  /** A type this executor does not know (added upstream behind UNKNOWN = 0). */
  unknown(type: unknown): void;
}

/** The event's type name ('UNKNOWN' for a number no enum value has). */
export function eventTypeName(event: Event): string {
  return typeof event.type === 'string' ? event.type : 'UNKNOWN';
}

export function routeEvent(event: Event, to: EventHandlers): void {
  const type = eventTypeName(event);
  switch (type) {
    case 'SUBSCRIBED':
      // A second SUBSCRIBED on one stream: nothing new to act on.
      return to.malformed(type, 'already subscribed on this stream');
    case 'LAUNCH': {
      const task = event.launch?.task;
      if (task === undefined) return to.malformed(type, 'no task');
      // Events are decoded leniently: a TaskInfo missing a required field would crash the next
      // SUBSCRIBE (it is re-encoded in unacknowledged_tasks), and one without a task id cannot
      // even be recorded. A real agent never sends one; upstream fails to parse it.
      // A health check or check missing a field is the executor's to refuse (TASK_ERROR), and
      // is not echoed back (echoedTask): only what the echo carries must be whole.
      const missing = missingRequiredFields('mesos.v1.TaskInfo', echoedTask(task));
      if (missing.length > 0) return to.malformed(type, `task lacks ${missing.join(', ')}`);
      return to.launch(task);
    }
    case 'LAUNCH_GROUP': {
      const tasks = event.launch_group?.task_group?.tasks ?? [];
      if (tasks.length === 0) return to.malformed(type, 'no tasks');
      const missing = tasks.flatMap((task) => missingRequiredFields('mesos.v1.TaskInfo', echoedTask(task)));
      if (missing.length > 0) return to.malformed(type, `a task lacks ${missing.join(', ')}`);
      return to.launchGroup(tasks);
    }
    case 'KILL': {
      const kill = event.kill;
      if (typeof kill?.task_id?.value !== 'string') return to.malformed(type, 'no kill.task_id');
      return to.kill(kill.task_id, kill.kill_policy);
    }
    case 'ACKNOWLEDGED': {
      const ack = event.acknowledged;
      if (typeof ack?.task_id?.value !== 'string' || !(ack.uuid instanceof Uint8Array)) return to.malformed(type, 'no acknowledged.task_id or uuid');
      return to.acknowledged(ack.task_id.value, ack.uuid);
    }
    case 'MESSAGE':
      return to.message(event.message?.data ?? new Uint8Array(0));
    case 'ERROR':
      return to.error(event.error?.message ?? 'ERROR event without a message');
    case 'SHUTDOWN':
      return to.shutdown();
    case 'HEARTBEAT':
      return to.heartbeat();
    default:
      return to.unknown(event.type);
  }
}
