// The JobContext of one run, wired to the run's link on the thread's channel (channel.ts).
import { spawn as spawnProcess, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { boundMessage } from '../src/protocol/utf8.js';
import type { RunLink } from './channel.js';
import type { JobContext } from './job.js';
import type { WorkerToMain } from './protocol.js';
import { killGroup } from './process-group.js';
import { encodeJson } from './result.js';

export interface TaskContext {
  readonly ctx: JobContext;
  /** True once the main thread asked the job to stop. */
  readonly aborted: boolean;
  /** Detaches from the link: nothing the job does later reaches the main thread (the link stays open for the result). */
  close(): void;
}

const encoder = new TextEncoder();

export function createTaskContext(taskId: string, link: RunLink, maxDataBytes: number, maxMessageBytes = maxDataBytes): TaskContext {
  const controller = new AbortController();
  let closed = false;
  /** Process groups started with ctx.spawn and not yet exited, by leader pid. */
  const children = new Set<number>();
  const signalGroups = (signal: NodeJS.Signals): void => {
    for (const pid of children) killGroup(pid, signal);
  };
  controller.signal.addEventListener('abort', () => signalGroups('SIGTERM'), { once: true });

  const abort = (reason: string): void => {
    if (!controller.signal.aborted) controller.abort(new DOMException(reason, 'AbortError'));
  };
  // Aborted already (on its way here): the caller checks `aborted` before "started".
  if (link.abortReason !== undefined) abort(link.abortReason);
  else link.onAbort = abort;

  // A job in a synchronous loop never yields to the event loop, so the channel's 'message'
  // listener cannot run: take pending messages off the channel directly.
  const poll = (): boolean => {
    if (!controller.signal.aborted && !closed) link.poll();
    return controller.signal.aborted;
  };

  const runId = link.runId;
  const post = (message: WorkerToMain): void => {
    if (!closed) link.post(message);
  };

  const ctx: JobContext = Object.freeze({
    taskId,
    signal: controller.signal,
    get aborted(): boolean {
      return poll();
    },
    throwIfAborted(): void {
      if (poll()) controller.signal.throwIfAborted();
    },
    progress(message: string, data?: unknown): void {
      if (typeof message !== 'string') throw new TypeError(`ctx.progress: message must be a string, got ${typeof message}`);
      // Bounded before it crosses to the main thread (which bounds every update's text again).
      message = boundMessage(message);
      if (data === undefined) {
        post({ type: 'progress', runId, message });
        return;
      }
      const encoded = encodeJson(data, maxDataBytes, 'progress data');
      if (!encoded.ok) throw new TypeError(`ctx.progress: ${encoded.message}`);
      post({ type: 'progress', runId, message, data: encoded.json });
    },
    sendFrameworkMessage(data: Uint8Array | string): void {
      // Best effort by contract: too large is dropped (the main thread logs it), measured before
      // any copy (a string's UTF-8 is at least its length; Buffer.byteLength does not allocate).
      let bytes: number;
      if (typeof data === 'string') bytes = data.length > maxMessageBytes ? data.length : Buffer.byteLength(data, 'utf8');
      else if (data instanceof Uint8Array) bytes = data.byteLength;
      else throw new TypeError('ctx.sendFrameworkMessage: data must be a Uint8Array or a string');
      if (bytes > maxMessageBytes) {
        post({ type: 'frameworkMessageDropped', runId, bytes });
        return;
      }
      post({ type: 'frameworkMessage', runId, data: typeof data === 'string' ? encoder.encode(data) : data });
    },
    spawn(command: string, args: readonly string[] = [], options: SpawnOptions = {}): ChildProcess {
      if (closed) throw new Error('ctx.spawn: the task is over');
      // A group of its own, so that the task's end can kill everything it started.
      const child = spawnProcess(command, args, { ...options, detached: true });
      const pid = child.pid;
      if (pid !== undefined) {
        children.add(pid);
        post({ type: 'spawned', runId, pid });
        child.once('exit', () => {
          children.delete(pid);
          post({ type: 'childExited', runId, pid });
        });
        if (controller.signal.aborted) killGroup(pid, 'SIGTERM');
      }
      return child;
    },
  });

  return {
    ctx,
    get aborted(): boolean {
      return poll();
    },
    close(): void {
      if (closed) return;
      poll();
      // Nothing the task started outlives it (the main thread kills the groups too: a thread
      // that was terminated cannot).
      signalGroups('SIGKILL');
      closed = true;
      link.onAbort = undefined;
    },
  };
}

