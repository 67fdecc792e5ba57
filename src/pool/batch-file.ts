// A batch's results file: written in the sandbox when its results are too large for the terminal
// update's data. Mesos users read sandbox files through the agent (`/files/read`, `/files/download`,
// the web UI), so the update names the path relative to the sandbox.
import { createHash } from 'node:crypto';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { BatchResults } from './batch-results.js';

/** The folder of results files, under the sandbox. */
export const BATCH_RESULTS_FOLDER = 'batch-results';

/** Longest task id used as it is in a file name (a longer one is cut and given a hash). */
const MAX_NAME_CHARS = 100;
const SAFE_NAME = /^[A-Za-z0-9_-][A-Za-z0-9._-]*$/;

/**
 * The file name of a task's results: its id when that is a safe file name, else the id with
 * every other character replaced and a hash of the whole id appended (two ids that differ only in
 * replaced characters must not share a file). A task id comes from the framework: it never picks
 * a folder.
 */
export function resultsFileName(taskId: string): string {
  if (SAFE_NAME.test(taskId) && taskId.length <= MAX_NAME_CHARS) return `${taskId}.ndjson`;
  const readable = taskId.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\./, '_').slice(0, MAX_NAME_CHARS);
  const hash = createHash('sha256').update(taskId, 'utf8').digest('hex').slice(0, 12);
  return `${readable}-${hash}.ndjson`;
}

export interface WrittenResults {
  /** Relative to the sandbox, with `/` separators (as the agent's file API takes it). */
  readonly path: string;
  readonly bytes: number;
}

/**
 * Writes the results as NDJSON under `<sandbox>/batch-results/`, replacing the file of an earlier
 * task of the same id. Written to a temporary name and renamed: a reader never sees half a file.
 */
export async function writeResultsFile(sandbox: string, taskId: string, results: BatchResults): Promise<WrittenResults> {
  const folder = join(sandbox, BATCH_RESULTS_FOLDER);
  await mkdir(folder, { recursive: true });
  const name = resultsFileName(taskId);
  const target = join(folder, name);
  const temporary = join(folder, `.${name}.${process.pid}.tmp`);
  const handle = await open(temporary, 'w', 0o644);
  let bytes = 0;
  try {
    for (const chunk of results.ndjson()) {
      // A write may take less than asked (it does not, for a regular file, on Linux; it may elsewhere).
      for (let offset = 0; offset < chunk.byteLength; ) {
        const { bytesWritten } = await handle.write(chunk, offset);
        offset += bytesWritten;
      }
      bytes += chunk.byteLength;
    }
    await handle.close();
    await rename(temporary, target);
  } catch (error) {
    await handle.close().catch(() => {});
    await rm(temporary, { force: true });
    throw error;
  }
  return { path: `${BATCH_RESULTS_FOLDER}/${name}`, bytes };
}

/** A batch's terminal update, short of its state's bookkeeping: FINISHED when every item succeeded. */
export interface BatchEnd {
  readonly state: 'TASK_FINISHED' | 'TASK_FAILED';
  readonly message: string;
  readonly data?: Uint8Array;
}

/**
 * The terminal update of a batch whose every item has its outcome: the results in its data when
 * their JSON fits in `maxDataBytes` (the `maxResultBytes` a single task's data is held to), else
 * in a results file named by the message, and by the data (`{"resultsFile", "bytes", "items",
 * "failed"}`) for a program to read.
 */
export async function concludeBatch(results: BatchResults, maxDataBytes: number, sandbox: string, taskId: string): Promise<BatchEnd> {
  const state = results.failed === 0 ? 'TASK_FINISHED' : 'TASK_FAILED';
  const summary = results.summary();
  const inline = results.inlineJson(maxDataBytes);
  if (inline !== undefined) return { state, message: summary, data: inline };
  let written: WrittenResults;
  try {
    written = await writeResultsFile(sandbox, taskId, results);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return { state: 'TASK_FAILED', message: `${summary}; the results (over ${maxDataBytes} bytes, too large for the update) could not be written to the sandbox: ${reason}` };
  }
  const pointer = { resultsFile: written.path, bytes: written.bytes, items: results.count, failed: results.failed };
  return {
    state,
    message: `${summary}; results in the sandbox's ${written.path} (${written.bytes} bytes of NDJSON, over the ${maxDataBytes}-byte limit of an update's data)`,
    data: new TextEncoder().encode(JSON.stringify(pointer)),
  };
}
