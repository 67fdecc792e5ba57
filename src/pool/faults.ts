// What a rejected pool run means. Jobs' own errors come back inside the worker's response
// (workers/protocol.ts), so a rejection is always about the worker THREAD: it ran out of
// memory, exited, had an uncaught exception, or we terminated it.
import type { Outcome } from './task-state.js';

export type WorkerLoss = 'crash' | 'oom' | 'exit' | 'kill';

export interface Fault {
  readonly outcome: Outcome;
  readonly loss: WorkerLoss;
}

// piscina 5 rejects with `new Error('worker exited with code: N')` when a worker exits with a
// task in hand (dist/index.js onWorkerExit) and gives no code; the pool tests pin this text.
const EXIT_MESSAGE = /^worker exited with code: (-?\d+)$/;

function errorParts(error: unknown): { name: string; message: string; code: unknown } {
  if (error instanceof Error) return { name: error.name, message: error.message, code: (error as { code?: unknown }).code };
  return { name: typeof error, message: String(error), code: undefined };
}

/**
 * Classifies a pool rejection. `heapLimitMb` is the limit of the worker the task ran on, for
 * the message (undefined: Node's default).
 */
export function classifyRunError(error: unknown, heapLimitMb: number | undefined, escalated: boolean): Fault {
  const { name, message, code } = errorParts(error);
  if (escalated && name === 'AbortError') return { outcome: { kind: 'terminated' }, loss: 'kill' };
  if (code === 'ERR_WORKER_OUT_OF_MEMORY') {
    const limit = heapLimitMb === undefined ? "Node's default heap limit" : `its heap limit of ${heapLimitMb} MB`;
    return {
      outcome: { kind: 'failed', message: `the job ran out of memory: its worker thread reached ${limit} and was replaced`, reason: 'REASON_CONTAINER_LIMITATION_MEMORY' },
      loss: 'oom',
    };
  }
  const exit = EXIT_MESSAGE.exec(message);
  if (exit !== null) {
    return { outcome: { kind: 'failed', message: `the job ended its worker thread with process.exit(${exit[1]}); the thread was replaced` }, loss: 'exit' };
  }
  if (name === 'AbortError') {
    // Not ours (the pool is being destroyed under the task).
    return { outcome: { kind: 'failed', message: `the worker pool dropped the task: ${message}` }, loss: 'kill' };
  }
  return { outcome: { kind: 'failed', message: `the job left an uncaught exception on its worker thread: ${message}; the thread was replaced` }, loss: 'crash' };
}
