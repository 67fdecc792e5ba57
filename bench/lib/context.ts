// What every benchmark gets and gives back.
import { availableParallelism } from 'node:os';

export interface BenchContext {
  /** The < 60 s version: fewer tasks, fewer repeats. */
  readonly quick: boolean;
  /** Worker threads for the executors: the machine's cores. */
  readonly threads: number;
  /** Executor processes get `node --cpu-prof --cpu-prof-dir=<dir>` (see docs/performance.md, "Reproduce"). */
  readonly profileDir: string | undefined;
  log(message: string): void;
}

/** One performance target, against its measured figure. */
export interface TargetResult {
  readonly id: string;
  /** e.g. "≥ 0.95". */
  readonly target: string;
  readonly value: number;
  /** The figure as shown, e.g. "0.97". */
  readonly measured: string;
  readonly met: boolean;
  /** How it was measured (one line). */
  readonly how: string;
}

export interface SectionOutput {
  /** The section's JSON (goes under results.sections[name]). */
  readonly data: unknown;
  /** Markdown: a heading-less block of tables for results.md. */
  readonly markdown: string;
  readonly targets?: readonly TargetResult[];
}

export type Benchmark = (ctx: BenchContext) => Promise<SectionOutput>;

export function defaultThreads(): number {
  return availableParallelism();
}

/** Node flags that make an executor process write a CPU profile on exit, when asked. */
export function profileFlags(ctx: BenchContext, name: string): string[] {
  return ctx.profileDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${ctx.profileDir}`, `--cpu-prof-name=${name}-${Date.now()}.cpuprofile`];
}

/** A markdown table. */
export function table(header: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const line = (cells: readonly string[]): string => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}
