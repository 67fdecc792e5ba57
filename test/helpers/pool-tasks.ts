// Building TaskInfos for pool executor tests.
import type { KillPolicy, TaskInfo } from '../../src/proto/types.js';

export interface TaskExtras {
  readonly memMb?: number;
  readonly cpus?: number;
  readonly killGraceMs?: number;
}

export function killPolicy(ms: number): KillPolicy {
  return { grace_period: { nanoseconds: ms * 1_000_000 } };
}

/** A task whose data is `payload`: bytes as given, a string as UTF-8, anything else as JSON. */
export function task(id: string, payload: unknown, extras: TaskExtras = {}): TaskInfo {
  const data = payload instanceof Uint8Array
    ? payload
    : Buffer.from(typeof payload === 'string' ? payload : JSON.stringify(payload), 'utf8');
  const info: TaskInfo = { name: id, task_id: { value: id }, agent_id: { value: 'agent-1' }, data };
  const resources: NonNullable<TaskInfo['resources']> = [];
  if (extras.memMb !== undefined) resources.push({ name: 'mem', type: 'SCALAR', scalar: { value: extras.memMb } });
  if (extras.cpus !== undefined) resources.push({ name: 'cpus', type: 'SCALAR', scalar: { value: extras.cpus } });
  if (resources.length > 0) info.resources = resources;
  if (extras.killGraceMs !== undefined) info.kill_policy = killPolicy(extras.killGraceMs);
  return info;
}

/** A task running `job` with `input`. */
export function jobTask(id: string, job: string, input?: unknown, extras: TaskExtras = {}): TaskInfo {
  return task(id, input === undefined ? { job } : { job, input }, extras);
}
