// The JobContext of one task, wired to the task's MessagePort.
import { spawn as spawnProcess, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { boundMessage } from '../src/protocol/utf8.js';
import type { JobContext } from './job.js';
import type { MainToWorker, WorkerToMain } from './protocol.js';
import { killGroup } from './process-group.js';
import { encodeJson } from './result.js';

export interface TaskContext {
  readonly ctx: JobContext;
  /** True once the main thread asked the job to stop. */
  readonly aborted: boolean;
  /** Detaches from the port and closes it: nothing the job does later reaches the main thread. */
  close(): void;
}

const encoder = new TextEncoder();

export function createTaskContext(taskId: string, port: MessagePort, maxDataBytes: number, maxMessageBytes = maxDataBytes): TaskContext {
  const controller = new AbortController();
  let closed = false;
  /** Process groups started with ctx.spawn and not yet exited, by leader pid. */
  const children = new Set<number>();
  const signalGroups = (signal: NodeJS.Signals): void => {
    for (const pid of children) killGroup(pid, signal);
  };
  controller.signal.addEventListener('abort', () => signalGroups('SIGTERM'), { once: true });

  const handle = (message: MainToWorker): void => {
    if (message.type === 'abort' && !controller.signal.aborted) {
      controller.abort(new DOMException(message.reason, 'AbortError'));
    }
  };
  const onMessage = (message: MainToWorker): void => handle(message);
  port.on('message', onMessage);

  // A job in a synchronous loop never yields to the event loop, so the 'message' listener
  // cannot run: take pending messages off the port directly.
  const poll = (): boolean => {
    if (!controller.signal.aborted && !closed) {
      for (let entry = receiveMessageOnPort(port); entry !== undefined; entry = receiveMessageOnPort(port)) {
        handle(entry.message as MainToWorker);
      }
    }
    return controller.signal.aborted;
  };

  const post = (message: WorkerToMain): void => {
    if (!closed) port.postMessage(message);
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
        post({ type: 'progress', message });
        return;
      }
      const encoded = encodeJson(data, maxDataBytes, 'progress data');
      if (!encoded.ok) throw new TypeError(`ctx.progress: ${encoded.message}`);
      post({ type: 'progress', message, data: encoded.json });
    },
    sendFrameworkMessage(data: Uint8Array | string): void {
      // Best effort by contract: too large is dropped (the main thread logs it), measured before
      // any copy (a string's UTF-8 is at least its length; Buffer.byteLength does not allocate).
      let bytes: number;
      if (typeof data === 'string') bytes = data.length > maxMessageBytes ? data.length : Buffer.byteLength(data, 'utf8');
      else if (data instanceof Uint8Array) bytes = data.byteLength;
      else throw new TypeError('ctx.sendFrameworkMessage: data must be a Uint8Array or a string');
      if (bytes > maxMessageBytes) {
        post({ type: 'frameworkMessageDropped', bytes });
        return;
      }
      post({ type: 'frameworkMessage', data: typeof data === 'string' ? encoder.encode(data) : data });
    },
    spawn(command: string, args: readonly string[] = [], options: SpawnOptions = {}): ChildProcess {
      if (closed) throw new Error('ctx.spawn: the task is over');
      // A group of its own, so that the task's end can kill everything it started.
      const child = spawnProcess(command, args, { ...options, detached: true });
      const pid = child.pid;
      if (pid !== undefined) {
        children.add(pid);
        post({ type: 'spawned', pid });
        child.once('exit', () => {
          children.delete(pid);
          post({ type: 'childExited', pid });
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
      port.off('message', onMessage);
      port.close();
    },
  };
}

