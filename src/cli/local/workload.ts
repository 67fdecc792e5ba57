import { readFileSync } from 'node:fs';
import { InvalidOptionError } from '../../errors.js';

/** One task to submit: its payload bytes (TaskInfo.data) and a label for the summary. */
export interface WorkItem {
  readonly data: Buffer;
  readonly job: string;
}

/** N copies of `{"job": job, "input": input}`. */
export function repeatedWorkload(tasks: number, job: string, input: unknown): WorkItem[] {
  const data = Buffer.from(JSON.stringify(input === undefined ? { job } : { job, input }));
  return Array.from({ length: tasks }, () => ({ data, job }));
}

/**
 * A file of task payloads: one per line (JSON Lines). Each line is sent as it is, so a file may
 * also hold deliberately bad payloads to see how the executor answers them; the job label is
 * the line's `job` when it parses, else `(invalid)`.
 */
export function workloadFromFile(path: string): WorkItem[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new InvalidOptionError('payloads', `--payloads ${path}: ${(error as Error).message}`);
  }
  const items: WorkItem[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    let job = '(invalid)';
    try {
      const parsed: unknown = JSON.parse(line);
      if (parsed !== null && typeof parsed === 'object' && typeof (parsed as { job?: unknown }).job === 'string') {
        job = (parsed as { job: string }).job;
      }
    } catch {
      // Sent as it is: the executor's answer (TASK_ERROR) is the point.
    }
    items.push({ data: Buffer.from(line), job });
  }
  if (items.length === 0) throw new InvalidOptionError('payloads', `--payloads ${path}: no payload lines`);
  return items;
}
