// What Mesos allocated to this executor: the `cpus` of its ExecutorInfo (from SUBSCRIBED) and of
// every live task. With `concurrency: 'resources'` the pool runs that many tasks at once.
import type { ResolvedPoolOptions } from './options.js';

export class Allocation {
  #executorCpus = 0;
  #liveCpus = 0;
  readonly #taskCpus = new Map<string, number>();

  setExecutor(cpus: number): void {
    this.#executorCpus = cpus;
  }

  addTask(taskId: string, cpus: number): void {
    if (cpus <= 0) return;
    this.#taskCpus.set(taskId, cpus);
    this.#liveCpus += cpus;
  }

  removeTask(taskId: string): void {
    const cpus = this.#taskCpus.get(taskId);
    if (cpus === undefined) return;
    this.#taskCpus.delete(taskId);
    // Back to exactly 0 when none is left: no floating-point residue accumulates.
    this.#liveCpus = this.#taskCpus.size === 0 ? 0 : this.#liveCpus - cpus;
  }

  /**
   * The most tasks running at once now: fixed `threads`, or (following the resources) the
   * host's cores, or the executor's cpus plus those of every live task, rounded up, if more;
   * at most `maxThreads`. `extraCpus`: those of tasks being admitted, not live yet.
   */
  threads(options: Pick<ResolvedPoolOptions, 'concurrency' | 'threads' | 'maxThreads'>, extraCpus = 0): number {
    const { concurrency, threads, maxThreads } = options;
    if (concurrency === 'fixed') return threads;
    // A little slack so that 0.1 + 0.2 cpus rounds to 1, not 2.
    const allocated = Math.ceil(this.#executorCpus + this.#liveCpus + extraCpus - 1e-9);
    return Math.min(maxThreads, Math.max(threads, allocated));
  }
}
