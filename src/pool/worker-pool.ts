/**
 * The piscina side: one pool ("lane") of worker threads per heap limit.
 *
 * V8's heap limit (`resourceLimits.maxOldGenerationSizeMb`) is fixed when a thread starts, so
 * a task asking for its own limit (its `mem` resource) cannot share a thread with tasks of
 * another limit. Rule: a task's `mem` is rounded DOWN to one of a few buckets (4 per doubling,
 * {@link memoryBucketMb}: 64, 80, 96, 112, 128, 160, ...), so that 60 distinct `mem` values make
 * a handful of lanes, not 60. Tasks without `mem`, or whose bucket equals `workerMemoryMb`, run
 * on the default lane (`threads` warm workers); each other bucket gets a lane of its own, created
 * on first use, whose threads start on demand and retire after `idleTimeoutMs`. At most
 * `maxIdleLanes` lanes are kept with no run in flight: past that the least recently used idle
 * lane is destroyed at once (its threads end). The executor caps the runs in flight across all
 * lanes at `threads`, so lanes never add CPU contention, and the live threads stay below
 * `threads` × (1 + lanes busy + `maxIdleLanes`), lanes busy being at most `threads`.
 */
import { receiveMessageOnPort, type MessagePort, type Worker } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { JobModuleError } from './errors.js';
import { isChannelAnnouncement, type ChunkRequest, type DescribeResponse, type MainToWorker, type RunRequest, type WorkerRequest, type WorkerResponse, type WorkerStartup, type WorkerToMain } from '../../workers/protocol.js';

/** A smaller heap cannot even load the worker and its job modules. */
export const MIN_WORKER_MEMORY_MB = 16;

/**
 * The heap limit a task asking for `mb` runs under: `mb` rounded down to 3 significant bits
 * (m, 1.25 m, 1.5 m, 1.75 m for each power of two m), at least {@link MIN_WORKER_MEMORY_MB}.
 * Down, not up: a task's `mem` pays for all of its memory, of which the V8 heap is only a part.
 */
export function memoryBucketMb(mb: number): number {
  const m = Math.max(MIN_WORKER_MEMORY_MB, Math.floor(mb));
  const step = 2 ** Math.floor(Math.log2(m)) / 4;
  return Math.floor(m / step) * step;
}

interface Lane {
  readonly pool: Piscina;
  inFlight: number;
  /** Ordinal of its latest run, for least-recently-used retirement. */
  lastUsed: number;
}

export interface WorkerPoolConfig {
  /** Warm threads of the default lane. */
  readonly threads: number;
  /** Threads a lane may grow to (the executor never has more runs in flight). */
  readonly maxThreads: number;
  /** The compiled worker entry (dist/workers/worker.js). */
  readonly workerFile: URL;
  readonly startup: WorkerStartup;
  /** Heap limit of the default lane's threads; undefined: Node's default. */
  readonly workerMemoryMb: number | undefined;
  /** How long an idle thread of a per-limit lane lives. */
  readonly idleTimeoutMs: number;
  /** Per-limit lanes kept while no run is in flight on them; more are destroyed, least recently used first. */
  readonly maxIdleLanes: number;
  /** An error of a worker with no task in hand (for example a leftover timer that threw). */
  readonly onIdleWorkerError: (error: unknown) => void;
}

function isPosted(value: unknown): boolean {
  return typeof value === 'object' && value !== null && (value as WorkerResponse).kind === 'posted';
}

/** A run's abort signal as piscina takes it: an AbortSignal, or the lighter EventEmitter form. */
export type RunAbortSignal = AbortSignal | { readonly aborted: boolean; readonly reason?: unknown; once(name: 'abort', listener: () => void): unknown; off(name: 'abort', listener: () => void): unknown };

/** Where a run's messages go (see {@link WorkerPool.open}). */
export interface RunListener {
  /** A message of the run, in the order its worker posted it; the last is its `result`. */
  message(message: WorkerToMain, threadId: number): void;
}

export class WorkerPool {
  readonly #config: WorkerPoolConfig;
  readonly #default: Piscina;
  readonly #lanes = new Map<number, Lane>();
  #runs = 0;
  #destroyed = false;
  /** The main thread's end of each worker's channel, by threadId (workers/channel.ts). */
  readonly #channels = new Map<number, MessagePort>();
  /** Runs whose messages are awaited, by run id. */
  readonly #listeners = new Map<number, RunListener>();
  #lastRunId = 0;

  /**
   * Creates the pool and waits for the ready handshake: a worker loads the job modules and
   * lists their jobs. Rejects with MPE_JOB_MODULE (the pool destroyed) when it cannot.
   */
  static async start(config: WorkerPoolConfig): Promise<{ pool: WorkerPool; jobs: readonly string[] }> {
    const pool = new WorkerPool(config);
    try {
      const described = await pool.describe();
      if (!described.ok) throw new JobModuleError(described.message);
      return { pool, jobs: described.jobs };
    } catch (error) {
      await pool.destroy();
      if (error instanceof JobModuleError) throw error;
      const reason = error instanceof Error ? error.message : String(error);
      throw new JobModuleError(`the worker pool failed to start: ${reason}`, { cause: error });
    }
  }

  constructor(config: WorkerPoolConfig) {
    this.#config = config;
    this.#default = this.#createLane(config.workerMemoryMb, true);
  }

  /** The heap limit a task with this `mem` runs under (undefined: Node's default). */
  heapLimitFor(memoryMb: number | undefined): number | undefined {
    return memoryMb === undefined ? this.#config.workerMemoryMb : memoryBucketMb(memoryMb);
  }

  /** The ready handshake: one worker loads the job modules and lists the jobs. */
  async describe(): Promise<DescribeResponse> {
    const request: WorkerRequest = { kind: 'describe' };
    return (await this.#default.run(request)) as DescribeResponse;
  }

  /** A new run id whose messages go to `listener` until {@link close}. Ids increase (workers rely on it). */
  open(listener: RunListener): number {
    const runId = ++this.#lastRunId;
    this.#listeners.set(runId, listener);
    return runId;
  }

  /** No more messages of this run are wanted. */
  close(runId: number): void {
    this.#listeners.delete(runId);
  }

  /**
   * Hands an opened run to a thread. Resolves once the worker has posted the run's result on
   * its channel and piscina has the thread back; rejects when the thread is lost (or `signal`
   * aborts: piscina drops the queued run, or terminates the thread running it).
   */
  run(request: RunRequest | ChunkRequest, memoryMb: number | undefined, signal: RunAbortSignal): Promise<void> {
    const limit = this.heapLimitFor(memoryMb);
    if (memoryMb === undefined || limit === this.#config.workerMemoryMb) return this.#runOn(this.#default, request, signal);
    let lane = this.#lanes.get(limit!);
    if (lane === undefined) {
      lane = { pool: this.#createLane(limit, false), inFlight: 0, lastUsed: 0 };
      this.#lanes.set(limit!, lane);
    }
    const used = lane;
    used.inFlight++;
    used.lastUsed = ++this.#runs;
    const done = (): void => {
      used.inFlight--;
      if (used.inFlight === 0) this.#retireIdleLanes();
    };
    const pending = this.#runOn(used.pool, request, signal);
    pending.then(done, done);
    return pending;
  }

  /**
   * Asks run `runId` to stop. `threadId`: the thread it said "started" on; before that it could
   * be on its way to any thread, so every thread is told (the others drop it, channel.ts).
   */
  abort(runId: number, reason: string, threadId: number | undefined): void {
    const message: MainToWorker = { type: 'abort', runId, reason };
    const port = threadId === undefined ? undefined : this.#channels.get(threadId);
    if (port !== undefined) {
      port.postMessage(message);
      return;
    }
    for (const channel of this.#channels.values()) channel.postMessage(message);
  }

  /**
   * Handles now whatever is waiting on every channel. Only for a thread's loss, which races
   * the channels (a rejection is not ordered with them): what the run said before it is then
   * taken first.
   */
  drainChannels(): void {
    for (const [threadId, port] of this.#channels) this.#drain(threadId, port);
  }

  /** Heap-limit lanes (besides the default one) alive now. */
  get laneCount(): number {
    return this.#lanes.size;
  }

  #runOn(pool: Piscina, request: RunRequest | ChunkRequest, signal: RunAbortSignal): Promise<void> {
    return pool.run(request, { signal }).then((value: unknown) => {
      if (!isPosted(value)) throw new TypeError('worker answered a run with something else than "posted"');
    });
  }

  /** A worker announced its channel (on piscina's port, when it loaded). */
  #attach(threadId: number, port: MessagePort): void {
    port.on('message', (message: WorkerToMain) => this.#route(message, threadId));
    // As piscina's idle workers: the channels never keep the process alive.
    port.unref();
    const worker = this.thread(threadId);
    if (worker === undefined || this.#destroyed) {
      // Gone already (the announcement is delivered as the thread exits): what it said is taken now.
      this.#drain(threadId, port);
      port.close();
      return;
    }
    this.#channels.set(threadId, port);
    // Node delivers a worker's own messages before its 'exit': by then every post of the thread
    // is in our port's queue, so this drain loses nothing; then the channel is closed.
    worker.once('exit', () => {
      this.#drain(threadId, port);
      this.#channels.delete(threadId);
      port.close();
    });
  }

  #drain(threadId: number, port: MessagePort): void {
    for (let entry = receiveMessageOnPort(port); entry !== undefined; entry = receiveMessageOnPort(port)) {
      this.#route(entry.message as WorkerToMain, threadId);
    }
  }

  #route(message: WorkerToMain, threadId: number): void {
    // A run closed already (ended, or the pool destroyed): its late messages are dropped.
    this.#listeners.get(message.runId)?.message(message, threadId);
  }

  /** Destroys idle lanes beyond `maxIdleLanes`, least recently used first. */
  #retireIdleLanes(): void {
    if (this.#destroyed) return;
    const idle = [...this.#lanes].filter(([, lane]) => lane.inFlight === 0).sort((a, b) => a[1].lastUsed - b[1].lastUsed);
    for (const [limit, lane] of idle.slice(0, Math.max(0, idle.length - this.#config.maxIdleLanes))) {
      this.#lanes.delete(limit);
      // Nothing is in flight on it: destroying it only ends its idle threads.
      lane.pool.destroy().catch(() => {});
    }
  }

  /** The live worker with this threadId, in any lane. */
  thread(threadId: number): Worker | undefined {
    for (const lane of this.#allLanes()) {
      for (const worker of lane.threads) if (worker.threadId === threadId) return worker;
    }
    return undefined;
  }

  /** Runs waiting in piscina's queues (normally 0: the executor keeps runs ≤ threads). */
  get queueSize(): number {
    let size = 0;
    for (const lane of this.#allLanes()) size += lane.queueSize;
    return size;
  }

  /** Worker threads alive, all lanes. */
  get threadCount(): number {
    let count = 0;
    for (const lane of this.#allLanes()) count += lane.threads.length;
    return count;
  }

  /** The default lane's utilization (piscina's: time running tasks / capacity, 0..1). */
  get utilization(): number {
    return this.#default.utilization;
  }

  /** Terminates every thread now; runs still in flight reject. */
  async destroy(): Promise<void> {
    if (this.#destroyed) return;
    this.#destroyed = true;
    await Promise.allSettled([...this.#allLanes()].map((lane) => lane.destroy()));
    for (const port of this.#channels.values()) port.close();
    this.#channels.clear();
    this.#listeners.clear();
  }

  *#allLanes(): Iterable<Piscina> {
    yield this.#default;
    for (const lane of this.#lanes.values()) yield lane.pool;
  }

  #createLane(heapLimitMb: number | undefined, warm: boolean): Piscina {
    const { threads, maxThreads, workerFile, startup, idleTimeoutMs } = this.#config;
    const pool = new Piscina({
      filename: workerFile.href,
      minThreads: warm ? threads : 0,
      maxThreads,
      idleTimeout: idleTimeoutMs,
      concurrentTasksPerWorker: 1,
      // Atomics off, on purpose. With piscina's default ('sync') an idle worker blocks in
      // Atomics.wait, which freezes its event loop between tasks: a job's leftover timers and
      // promises stall and then run inside the NEXT task (blaming the wrong one), and nothing
      // is processed on the thread's channel. With 'disabled' every worker keeps a live event
      // loop, which the channel (the main thread's aborts) relies on; the cost is a few
      // microseconds of message-passing latency per task, small beside a CPU-bound job.
      atomics: 'disabled',
      ...(heapLimitMb !== undefined ? { resourceLimits: { maxOldGenerationSizeMb: heapLimitMb } } : {}),
      workerData: startup,
    });
    pool.on('error', (error: unknown) => this.#config.onIdleWorkerError(error));
    pool.on('message', (message: unknown) => {
      if (isChannelAnnouncement(message)) this.#attach(message.threadId, message.port);
    });
    return pool;
  }
}
