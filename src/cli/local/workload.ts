import { readFileSync } from 'node:fs';
import { InvalidOptionError } from '../../errors.js';
import { readMesosJson } from '../../protocol/codec-json-reader.js';
import { messageSpec } from '../../proto/schema.js';
import type { CheckInfo, HealthCheck } from '../../proto/types.js';

/** One task to submit: its payload bytes (TaskInfo.data) and a label for the summary. */
export interface WorkItem {
  readonly data: Buffer;
  readonly job: string;
  /** TaskInfo.health_check, from the line's `health_check` (Mesos JSON). */
  readonly healthCheck?: HealthCheck;
  /** TaskInfo.check, from the line's `check` (Mesos JSON). */
  readonly check?: CheckInfo;
}

/** Line fields that are TaskInfo fields, not payload: taken off the line before it is sent. */
const TASK_FIELDS = { health_check: 'mesos.v1.HealthCheck', check: 'mesos.v1.CheckInfo' } as const;

/** N copies of `{"job": job, "input": input}`. */
export function repeatedWorkload(tasks: number, job: string, input: unknown): WorkItem[] {
  const data = Buffer.from(JSON.stringify(input === undefined ? { job } : { job, input }));
  return Array.from({ length: tasks }, () => ({ data, job }));
}

/**
 * A file of task payloads: one per line (JSON Lines). Each line is sent as it is, so a file may
 * also hold deliberately bad payloads to see how the executor answers them; the job label is
 * the line's `job` when it parses, else `(invalid)`. A line that is a JSON object may carry
 * `health_check` and `check` (Mesos JSON of HealthCheck / CheckInfo): they become the task's
 * `TaskInfo.health_check` / `TaskInfo.check` and the rest of the object is the payload, e.g.
 * `{"job":"sleep","input":{"ms":5000},"health_check":{"type":"COMMAND","command":{"value":"true"}}}`.
 */
export function workloadFromFile(path: string): WorkItem[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new InvalidOptionError('payloads', `--payloads ${path}: ${(error as Error).message}`);
  }
  const items: WorkItem[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === '') continue;
    let job = '(invalid)';
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      // Sent as it is: the executor's answer (TASK_ERROR) is the point.
      items.push({ data: Buffer.from(line), job });
      continue;
    }
    if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) && Object.keys(TASK_FIELDS).some((k) => Object.hasOwn(parsed as object, k))) {
      const { health_check: healthJson, check: checkJson, ...rest } = parsed as Record<string, unknown>;
      const read = (field: keyof typeof TASK_FIELDS, json: unknown): Record<string, unknown> => {
        try {
          return readMesosJson(messageSpec(TASK_FIELDS[field]), json, true);
        } catch (error) {
          throw new InvalidOptionError('payloads', `--payloads ${path}, line ${i + 1}: ${field}: ${(error as Error).message}`);
        }
      };
      items.push({
        data: Buffer.from(JSON.stringify(rest)),
        job: typeof rest['job'] === 'string' ? rest['job'] : job,
        ...(healthJson !== undefined ? { healthCheck: read('health_check', healthJson) as unknown as HealthCheck } : {}),
        ...(checkJson !== undefined ? { check: read('check', checkJson) as unknown as CheckInfo } : {}),
      });
      continue;
    }
    if (parsed !== null && typeof parsed === 'object' && typeof (parsed as { job?: unknown }).job === 'string') {
      job = (parsed as { job: string }).job;
    }
    items.push({ data: Buffer.from(line), job });
  }
  if (items.length === 0) throw new InvalidOptionError('payloads', `--payloads ${path}: no payload lines`);
  return items;
}
