// TaskRun against a fake pool: when a run settles (its result on the channel AND its thread
// back, or its thread lost), where its aborts go, and that nothing of it outlives it.
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { silentLogger } from '../../src/log.js';
import type { ChunkResponse, RunRequest, ChunkRequest, WorkerToMain } from '../../workers/protocol.js';
import { TaskLifecycle, type Outcome } from '../../src/pool/task-state.js';
import { TaskRun, type RunHost, type RunPool } from '../../src/pool/task-run.js';
import type { RunListener } from '../../src/pool/worker-pool.js';
import type { ProgressUpdate, TaskRecord } from '../../src/pool/task-table.js';
import { FakeClock } from '../helpers/fake-clock.js';

/** A pool that records what the run asks of it; the test plays the worker. */
class FakePool implements RunPool {
  readonly listeners = new Map<number, RunListener>();
  readonly requests: Array<RunRequest | ChunkRequest> = [];
  readonly aborts: Array<{ runId: number; reason: string; threadId: number | undefined }> = [];
  drains = 0;
  #nextId = 0;
  #settle: { resolve: () => void; reject: (error: unknown) => void } | undefined;
  /** What drainChannels() delivers (messages still on a channel when a thread is lost). */
  pending: Array<{ message: WorkerToMain; threadId: number }> = [];

  open(listener: RunListener): number {
    const runId = ++this.#nextId;
    this.listeners.set(runId, listener);
    return runId;
  }
  close(runId: number): void {
    this.listeners.delete(runId);
  }
  run(request: RunRequest | ChunkRequest): Promise<void> {
    this.requests.push(request);
    return new Promise((resolve, reject) => (this.#settle = { resolve, reject }));
  }
  abort(runId: number, reason: string, threadId: number | undefined): void {
    this.aborts.push({ runId, reason, threadId });
  }
  drainChannels(): void {
    this.drains++;
    const pending = this.pending;
    this.pending = [];
    for (const { message, threadId } of pending) this.listeners.get(message.runId)?.message(message, threadId);
  }
  thread(): undefined {
    return undefined;
  }
  heapLimitFor(): number | undefined {
    return undefined;
  }
  /** The worker's message, on its thread's channel. */
  post(message: WorkerToMain, threadId = 7): void {
    this.listeners.get(message.runId)?.message(message, threadId);
  }
  /** piscina has the thread back. */
  release(): void {
    this.#settle?.resolve();
  }
  lose(error: unknown): void {
    this.#settle?.reject(error);
  }
}

interface Reported {
  started: number;
  progress: ProgressUpdate[];
  settled: Outcome[];
  answered: ChunkResponse[];
}

function setup(): { pool: FakePool; run: TaskRun; reported: Reported; record: TaskRecord } {
  const pool = new FakePool();
  const reported: Reported = { started: 0, progress: [], settled: [], answered: [] };
  const lifecycle = new TaskLifecycle();
  lifecycle.accept();
  lifecycle.dispatch();
  const record: TaskRecord = { id: 't1', job: 'j', input: 1, dataBytes: 0, killPolicy: undefined, memoryMb: undefined, group: undefined, batch: undefined, lifecycle, acceptedAt: 0 };
  const host: RunHost = {
    clock: new FakeClock(),
    logger: silentLogger,
    pool,
    progressIntervalMs: 0,
    maxResultBytes: 100,
    maxFrameworkMessageBytes: 100,
    terminateWaitMs: 10,
    destroyed: false,
    reporter: { sendFrameworkMessage: () => {} },
    emit: () => {},
    started: () => {
      reported.started++;
      lifecycle.started();
    },
    progress: (_run, update) => reported.progress.push(update),
    lingering: () => {},
    settled: (_run, outcome) => reported.settled.push(outcome),
    chunkAnswered: (_run, response) => reported.answered.push(response),
  };
  const run = new TaskRun(record, host);
  return { pool, run, reported, record };
}

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
const ok = (runId: number): WorkerToMain => ({ type: 'result', runId, response: { kind: 'result', ok: true, json: new Uint8Array([49]) } });

describe('TaskRun', () => {
  it('is handed to the pool at once with a run id of its own; no port crosses', () => {
    const { pool, run } = setup();
    assert.equal(pool.requests.length, 1);
    const request = pool.requests[0]!;
    assert.equal(request.runId, run.runId);
    assert.deepEqual(Object.keys(request).sort(), ['input', 'job', 'kind', 'maxFrameworkMessageBytes', 'maxResultBytes', 'runId', 'taskId']);
  });

  it('settles once its result has come AND its thread is back, in either order, and only once', async () => {
    for (const order of ['result first', 'thread first'] as const) {
      const { pool, run, reported } = setup();
      pool.post({ type: 'started', runId: run.runId, threadId: 7 });
      pool.post({ type: 'progress', runId: run.runId, message: 'half' });
      if (order === 'result first') pool.post(ok(run.runId));
      else pool.release();
      await tick();
      assert.equal(reported.settled.length, 0, `${order}: not before both`);
      if (order === 'result first') pool.release();
      else pool.post(ok(run.runId));
      await tick();
      assert.equal(reported.settled.length, 1, order);
      assert.equal(reported.settled[0]!.kind, 'succeeded');
      assert.deepEqual(reported.progress, [{ message: 'half' }], 'the progress before the result was handled');
      // Disposed: its messages are no longer listened to.
      run.dispose();
      assert.equal(pool.listeners.has(run.runId), false);
      pool.post(ok(run.runId));
      assert.equal(reported.settled.length, 1);
    }
  });

  it('a stop before "started" goes to every thread, and again to its own thread once known', () => {
    const { pool, run } = setup();
    run.stop('killed on request');
    assert.deepEqual(pool.aborts, [{ runId: run.runId, reason: 'killed on request', threadId: undefined }]);
    pool.post({ type: 'started', runId: run.runId, threadId: 3 }, 3);
    assert.deepEqual(pool.aborts[1], { runId: run.runId, reason: 'killed on request', threadId: 3 });
    run.stop('again');
    assert.deepEqual(pool.aborts[2], { runId: run.runId, reason: 'again', threadId: 3 });
  });

  it('a lost thread drains the channels first: what the run said before the loss is handled, then it settles with the loss', async () => {
    const { pool, run, reported } = setup();
    pool.pending = [
      { message: { type: 'started', runId: run.runId, threadId: 5 }, threadId: 5 },
      { message: { type: 'progress', runId: run.runId, message: 'before the crash' }, threadId: 5 },
    ];
    pool.lose(new Error('boom'));
    await tick();
    assert.equal(pool.drains, 1);
    assert.equal(reported.started, 1);
    assert.deepEqual(reported.progress, [{ message: 'before the crash' }]);
    assert.equal(reported.settled.length, 1);
    assert.equal(reported.settled[0]!.kind, 'failed');
    assert.match((reported.settled[0] as { message: string }).message, /uncaught exception on its worker thread: boom/);
  });

  it('a thread lost after the run posted its result: the result stands', async () => {
    const { pool, run, reported } = setup();
    pool.post({ type: 'started', runId: run.runId, threadId: 5 });
    pool.pending = [{ message: ok(run.runId), threadId: 5 }];
    pool.lose(new Error('a leftover timer threw'));
    await tick();
    assert.deepEqual(reported.settled.map((o) => o.kind), ['succeeded']);
  });

  it("a chunk's answer goes to chunkAnswered, not settled", async () => {
    const { pool, run, reported } = setup();
    const response: ChunkResponse = { kind: 'chunk', ok: true, items: [], elapsedMs: 1 };
    pool.post({ type: 'result', runId: run.runId, response });
    pool.release();
    await tick();
    assert.deepEqual(reported.answered, [response]);
    assert.equal(reported.settled.length, 0);
  });
});
