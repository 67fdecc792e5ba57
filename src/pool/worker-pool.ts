/**
 * The piscina side: one pool ("lane") of worker threads per heap limit.
 *
 * V8's heap limit (`resourceLimits.maxOldGenerationSizeMb`) is fixed when a thread starts, so
 * a task asking for its own limit (its `mem` resource) cannot share a thread with tasks of
 * another limit. Rule: tasks without `mem`, or whose `mem` equals `workerMemoryMb`, run on the
 * default lane (`threads` warm workers); each other limit gets a lane of its own, created on
 * first use, whose threads start on demand and retire after `idleTimeoutMs`. The executor caps
 * the runs in flight across all lanes at `threads`, so lanes never add CPU contention.
 */
import type { Worker } from 'node:worker_threads';
import { Piscina } from 'piscina';
import type { DescribeResponse, RunRequest, RunResponse, WorkerRequest, WorkerResponse, WorkerStartup } from '../../workers/protocol.js';

/** A smaller heap cannot even load the worker and its job modules. */
export const MIN_WORKER_MEMORY_MB = 16;

export interface WorkerPoolConfig {
  readonly threads: number;
  /** The compiled worker entry (dist/workers/worker.js). */
  readonly workerFile: URL;
  readonly startup: WorkerStartup;
  /** Heap limit of the default lane's threads; undefined: Node's default. */
  readonly workerMemoryMb: number | undefined;
  /** How long an idle thread of a per-limit lane lives. */
  readonly idleTimeoutMs: number;
  /** An error of a worker with no task in hand (for example a leftover timer that threw). */
  readonly onIdleWorkerError: (error: unknown) => void;
}

function isRunResponse(value: unknown): value is RunResponse {
  return typeof value === 'object' && value !== null && (value as WorkerResponse).kind === 'result';
}

export class WorkerPool {
  readonly #config: WorkerPoolConfig;
  readonly #default: Piscina;
  readonly #lanes = new Map<number, Piscina>();
  #destroyed = false;

  constructor(config: WorkerPoolConfig) {
    this.#config = config;
    this.#default = this.#createLane(config.workerMemoryMb, true);
  }

  /** The heap limit a task with this `mem` runs under (undefined: Node's default). */
  heapLimitFor(memoryMb: number | undefined): number | undefined {
    return memoryMb === undefined ? this.#config.workerMemoryMb : Math.max(MIN_WORKER_MEMORY_MB, memoryMb);
  }

  /** The ready handshake: one worker loads the job modules and lists the jobs. */
  async describe(): Promise<DescribeResponse> {
    const request: WorkerRequest = { kind: 'describe' };
    return (await this.#default.run(request)) as DescribeResponse;
  }

  run(request: RunRequest, memoryMb: number | undefined, signal: AbortSignal): Promise<RunResponse> {
    const lane = this.#laneFor(memoryMb);
    return lane.run(request, { signal, transferList: [request.port] }).then((value: unknown) => {
      if (!isRunResponse(value)) throw new TypeError('worker answered a run with something else than a result');
      return value;
    });
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
  }

  *#allLanes(): Iterable<Piscina> {
    yield this.#default;
    yield* this.#lanes.values();
  }

  #laneFor(memoryMb: number | undefined): Piscina {
    const limit = this.heapLimitFor(memoryMb);
    if (memoryMb === undefined || limit === this.#config.workerMemoryMb) return this.#default;
    let lane = this.#lanes.get(limit!);
    if (lane === undefined) {
      lane = this.#createLane(limit, false);
      this.#lanes.set(limit!, lane);
    }
    return lane;
  }

  #createLane(heapLimitMb: number | undefined, warm: boolean): Piscina {
    const { threads, workerFile, startup, idleTimeoutMs } = this.#config;
    const pool = new Piscina({
      filename: workerFile.href,
      minThreads: warm ? threads : 0,
      maxThreads: threads,
      idleTimeout: idleTimeoutMs,
      concurrentTasksPerWorker: 1,
      // Atomics off, on purpose. With piscina's default ('sync') an idle worker blocks in
      // Atomics.wait, which freezes its event loop between tasks: a job's leftover timers and
      // promises stall and then run inside the NEXT task (blaming the wrong one), and nothing
      // is processed on the per-task ports. With 'disabled' every worker keeps a live event
      // loop, which the per-task channel (started/progress/abort) relies on; the cost is a few
      // microseconds of message-passing latency per task, small beside a CPU-bound job.
      atomics: 'disabled',
      ...(heapLimitMb !== undefined ? { resourceLimits: { maxOldGenerationSizeMb: heapLimitMb } } : {}),
      workerData: startup,
    });
    pool.on('error', (error: unknown) => this.#config.onIdleWorkerError(error));
    return pool;
  }
}
