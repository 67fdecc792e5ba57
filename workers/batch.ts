// A chunk of a batch task's items, run in the worker: one call of the job per item, one after
// another, each with a context of its own; an item's error is that item's, and an abort stops the
// chunk before its next item. The chunk is what crosses the thread boundary (one request, one
// response, one channel), so its cost on the main thread is shared by all its items.
import { performance } from 'node:perf_hooks';
import { threadId } from 'node:worker_threads';
import { boundMessage } from '../src/protocol/utf8.js';
import type { RunLink } from './channel.js';
import { createTaskContext } from './context.js';
import { describeThrown } from './describe.js';
import type { Job, JobContext } from './job.js';
import type { ChunkRequest, ChunkResponse, ItemResponse } from './protocol.js';
import { encodeJson } from './result.js';

/** What a chunk needs of its worker: the job by name, or why there is none. */
export type JobLookup = (name: string) => { readonly ok: true; readonly job: Job } | { readonly ok: false; readonly failure: 'unknown-job' | 'jobs-unavailable'; readonly message: string };

/** An item's own context: the task's signal and channel, its own index; progress is the batch's own. */
function itemContext(task: JobContext, batchIndex: number): JobContext {
  return Object.freeze({
    taskId: task.taskId,
    batchIndex,
    signal: task.signal,
    get aborted(): boolean {
      return task.aborted;
    },
    throwIfAborted: () => task.throwIfAborted(),
    progress(message: string): void {
      if (typeof message !== 'string') throw new TypeError(`ctx.progress: message must be a string, got ${typeof message}`);
    },
    sendFrameworkMessage: (data: Uint8Array | string) => task.sendFrameworkMessage(data),
    spawn: task.spawn,
  });
}

export async function runChunk(request: ChunkRequest, link: RunLink, lookup: JobLookup): Promise<ChunkResponse> {
  const { taskId, job: name, first, items, maxResultBytes, maxFrameworkMessageBytes } = request;
  const task = createTaskContext(taskId, link, maxResultBytes, maxFrameworkMessageBytes);
  try {
    // As a single run: a chunk killed on its way here never starts (and says so before "started").
    if (task.aborted) return { kind: 'chunk', ok: false, failure: 'stopped', message: 'stopped before it started' };
    link.post({ type: 'started', runId: link.runId, threadId });
    const found = lookup(name);
    if (!found.ok) return { kind: 'chunk', ok: false, failure: found.failure, message: found.message };
    const started = performance.now();
    const outcomes: ItemResponse[] = [];
    for (let i = 0; i < items.length; i++) {
      // Checked between items: once the task is being killed, its queued items never start.
      if (task.aborted) break;
      let value: unknown;
      try {
        value = await found.job(items[i], itemContext(task.ctx, first + i));
      } catch (error) {
        const described = describeThrown(error);
        outcomes.push({ ok: false, failure: task.aborted ? 'stopped' : 'threw', ...described, message: boundMessage(described.message) });
        continue;
      }
      const encoded = encodeJson(value, maxResultBytes);
      outcomes.push(encoded.ok ? { ok: true, json: encoded.json } : { ok: false, failure: encoded.failure, message: encoded.message });
    }
    return { kind: 'chunk', ok: true, items: outcomes, elapsedMs: performance.now() - started };
  } finally {
    task.close();
  }
}
