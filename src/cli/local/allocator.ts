// `local`'s stand-in for the Mesos allocator: the local agent's resources, what the executor and
// the live tasks hold of them, and whether the next task fits. A task's resources come back when
// the agent sees its terminal update (the master recovers them then: Master::updateTask); the
// executor's stay taken while it lives.
import { totalmem } from 'node:os';

/** Scalar resources: `cpus` and `mem` (MB), as in a Mesos Resource. */
export interface Resources {
  readonly cpus: number;
  readonly mem: number;
}

/**
 * Mesos adds and compares scalars in fixed point with three decimal digits
 * (src/common/values.cpp, convertToFixed), so that ten tasks of 0.1 cpus fill one cpu exactly
 * instead of missing it by a rounding error. The same here, in thousandths.
 */
function fixed(value: number): number {
  return Math.round(value * 1000);
}

/** `a` + `b`, exact to the thousandth (see {@link fixed}). */
export function addResources(a: Resources, b: Resources): Resources {
  return { cpus: (fixed(a.cpus) + fixed(b.cpus)) / 1000, mem: (fixed(a.mem) + fixed(b.mem)) / 1000 };
}

/**
 * `offers` (the default): the local agent has `agent`, the executor holds `executor` while it
 * lives, each task `task` until its terminal update; a task is launched once it fits.
 * `all-at-once` (`--all-at-once`): every task at the start, whatever the resources; a resource
 * of 0 is left out of the ExecutorInfo / TaskInfo (by default both, as before offers existed).
 */
export type LaunchPlan =
  | { readonly kind: 'offers'; readonly agent: Resources; readonly executor: Resources; readonly task: Resources }
  | { readonly kind: 'all-at-once'; readonly executor: Resources; readonly task: Resources };

/** Today's launches before offers: every task at once, and no resources in any Info. */
export const ALL_AT_ONCE: LaunchPlan = Object.freeze({ kind: 'all-at-once', executor: Object.freeze({ cpus: 0, mem: 0 }), task: Object.freeze({ cpus: 0, mem: 0 }) });

export class Allocator {
  readonly total: Resources;
  #freeCpus: number;
  #freeMem: number;

  constructor(total: Resources) {
    this.total = Object.freeze({ ...total });
    this.#freeCpus = fixed(total.cpus);
    this.#freeMem = fixed(total.mem);
  }

  get free(): Resources {
    return { cpus: this.#freeCpus / 1000, mem: this.#freeMem / 1000 };
  }

  fits(wanted: Resources): boolean {
    return fixed(wanted.cpus) <= this.#freeCpus && fixed(wanted.mem) <= this.#freeMem;
  }

  /** Allocates `wanted`; throws when it does not fit (check {@link fits} first). */
  take(wanted: Resources): void {
    if (!this.fits(wanted)) throw new RangeError(`cannot allocate ${describeResources(wanted)}: ${describeResources(this.free)} free`);
    this.#freeCpus -= fixed(wanted.cpus);
    this.#freeMem -= fixed(wanted.mem);
  }

  /** Returns `held` (taken earlier); throws when that would free more than the total. */
  give(held: Resources): void {
    const cpus = this.#freeCpus + fixed(held.cpus);
    const mem = this.#freeMem + fixed(held.mem);
    if (cpus > fixed(this.total.cpus) || mem > fixed(this.total.mem)) {
      throw new RangeError(`cannot give back ${describeResources(held)}: only ${describeResources(this.free)} of ${describeResources(this.total)} were free`);
    }
    this.#freeCpus = cpus;
    this.#freeMem = mem;
  }
}

/**
 * Why a task of `task` can never run on an agent of `agent` whose executor holds `executor`
 * (undefined: it can, once the other tasks have ended).
 */
export function neverFits(agent: Resources, executor: Resources, task: Resources): string | undefined {
  const needed = addResources(executor, task);
  const short: string[] = [];
  if (fixed(needed.cpus) > fixed(agent.cpus)) short.push(`${formatScalar(needed.cpus)} cpus`);
  if (fixed(needed.mem) > fixed(agent.mem)) short.push(`${formatScalar(needed.mem)} MB of mem`);
  if (short.length === 0) return undefined;
  return (
    `a task of ${describeResources(task)} never fits the local agent's ${describeResources(agent)}: with the executor's ` +
    `${describeResources(executor)} it needs ${short.join(' and ')}`
  );
}

/** How many tasks of `task` run at once on `agent` beside the executor's `executor`. */
export function tasksAtOnce(agent: Resources, executor: Resources, task: Resources): number {
  const limit = (free: number, each: number): number => (each <= 0 ? Number.POSITIVE_INFINITY : Math.floor(free / each));
  const cpus = limit(fixed(agent.cpus) - fixed(executor.cpus), fixed(task.cpus));
  const mem = limit(fixed(agent.mem) - fixed(executor.mem), fixed(task.mem));
  return Math.max(0, Math.min(cpus, mem));
}

/** A scalar as Mesos prints one: at most three decimals, no trailing zeros. */
export function formatScalar(value: number): string {
  return String(fixed(value) / 1000);
}

export function describeResources(r: Resources): string {
  return `${formatScalar(r.cpus)} ${fixed(r.cpus) === 1000 ? 'cpu' : 'cpus'}, ${formatScalar(r.mem)} MB`;
}

/**
 * A Mesos agent's resources when its `--resources` does not name them (upstream
 * containerizer.cpp): every cpu, and the memory less 1 GB left to the system (half of it on a
 * machine with less than 2 GB), in whole MB.
 */
export function defaultAgentMemMb(total: number = totalmem()): number {
  const gb = 1024 ** 3;
  const mem = total >= 2 * gb ? total - gb : total / 2;
  return Math.floor(mem / 1024 ** 2);
}
