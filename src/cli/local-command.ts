import { writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { InvalidOptionError } from '../errors.js';
import { PoolExecutor } from '../pool/index.js';
import { executorArgs, type LocalCommandOptions } from './args.js';
import { describeResources, tasksAtOnce, type LaunchPlan, type Resources } from './local/allocator.js';
import { field, keep, wrap } from './local/fit.js';
import { runLocal } from './local/run-local.js';
import { jsonSummary } from './local/json-summary.js';
import { formatResults, formatSummary } from './local/summary.js';
import { repeatedWorkload, workloadFromFile, type WorkItem } from './local/workload.js';

const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/** `mesos-pool-executor local`: returns the process exit code (0 when every task ended as expected). */
export async function localCommand(options: LocalCommandOptions): Promise<number> {
  const workload: WorkItem[] =
    options.payloads !== undefined ? workloadFromFile(options.payloads) : repeatedWorkload(options.tasks, options.job, options.input);
  if (workload.length === 0) throw new InvalidOptionError('tasks', 'the workload is empty');
  // With --json, stdout carries the JSON only: everything for people goes to stderr.
  const out = options.json.kind === 'stdout' ? process.stderr : process.stdout;
  const ours = options.executorCommand === undefined;
  // A bad job module fails here, with its own message (exit 2), before any agent starts: loaded
  // once on one thread exactly as the executor will load it.
  if (ours && options.executor.jobs.length > 0) await checkJobModules(options);
  // Local mode always serves our executor's metrics: on --metrics-port if given, else on a free
  // port (the executor tells us which through a file in its sandbox; see runLocal).
  const executor = ours && options.executor.metricsPort === undefined ? { ...options.executor, metricsPort: 0 } : options.executor;
  const what = options.payloads !== undefined ? `from ${options.payloads}` : `of ${options.job}${options.input === undefined ? '' : ` ${JSON.stringify(options.input)}`}`;
  const header = [
    ...wrap('', `mesos-pool-executor local: ${workload.length} tasks ${what}`, '  '),
    ...field(
      'executor',
      ours
        ? `ours, ${options.executor.threads === undefined ? `threads from the cpus (at least ${availableParallelism()})` : `${options.executor.threads} thread${options.executor.threads === 1 ? '' : 's'}`}, ${options.executor.contentType}`
        : `under ${options.executorCommand}`,
    ),
    ...describeLaunch(options.launch),
  ];
  if (!options.quiet) out.write(`${header.join('\n')}\n`);
  // Ctrl-C, SIGTERM (kill, docker stop) and SIGHUP (a closed terminal) all stop the run the same
  // way: the executor is shut down (its process group stopped if it does not exit), the sandbox
  // removed, the metrics endpoint closed with it. Only the first is handled: a second signal has
  // the default effect (the process ends at once).
  const interrupt = new AbortController();
  const onSignal = (): void => {
    for (const signal of STOP_SIGNALS) process.off(signal, onSignal);
    interrupt.abort();
  };
  for (const signal of STOP_SIGNALS) process.on(signal, onSignal);
  try {
    const result = await runLocal({
      workload,
      launch: options.launch,
      ...(options.executorCommand !== undefined ? { executorCommand: options.executorCommand } : {}),
      executorArgs: executorArgs(executor),
      expect: options.expect,
      checkpoint: options.checkpoint,
      timeoutMs: options.timeoutMs,
      progress: options.progress && !options.quiet ? process.stderr : undefined,
      // Another executor's output always (it is what is being tested); ours on --executor-logs.
      // With --json on stdout, all of it goes to stderr: stdout is the one JSON document.
      pipeExecutorOutput:
        !options.quiet && options.executor.logLevel !== 'silent' && (!ours || options.executorLogs) ? (options.json.kind === 'stdout' ? 'stderr' : true) : false,
      signal: interrupt.signal,
      onAgentStarted: (agent) => {
        if (!options.quiet) out.write(`${field('local agent', `${agent.url} ${keep('(pid', `${agent.pid})`)}`).join('\n')}\n`);
      },
      metrics: ours,
      onMetricsListening: (address) => {
        if (!options.quiet || options.keepMetrics) out.write(`  metrics          ${address.url}\n`);
      },
      ...(options.keepMetrics ? { hold: () => holdUntilStopped(interrupt.signal, out) } : {}),
    });
    if (options.results) out.write(formatResults(result, out.isTTY ? out.columns : undefined));
    out.write(formatSummary(result, { title: 'Summary', expect: options.expect }));
    if (options.json.kind !== 'none') {
      const text = `${JSON.stringify(jsonSummary(result, options.expect, options.results), null, 2)}\n`;
      if (options.json.kind === 'stdout') process.stdout.write(text);
      else await writeFile(options.json.path, text);
    }
    return result.ok ? 0 : 1;
  } finally {
    for (const signal of STOP_SIGNALS) process.off(signal, onSignal);
  }
}

/** The header's lines on how tasks are launched. */
export function describeLaunch(plan: LaunchPlan): string[] {
  const r = (resources: Resources): string => keep(...describeResources(resources).split(' '));
  if (plan.kind === 'all-at-once') {
    const given = (resources: Resources): string => (resources.cpus === 0 && resources.mem === 0 ? 'none' : r(resources));
    return [...field('launch', 'every task at once (--all-at-once)'), ...field('resources', `executor ${given(plan.executor)}; ${keep('each', 'task', given(plan.task))}`)];
  }
  const n = tasksAtOnce(plan.agent, plan.executor, plan.task);
  return [
    ...field('launch', `as resources free up (offers): ${n} task${n === 1 ? '' : 's'} at once`),
    ...field('resources', `agent ${r(plan.agent)}; executor ${r(plan.executor)}; ${keep('each', 'task', r(plan.task))}`),
  ];
}

/**
 * `--keep-metrics`: the workload is done; keep the executor (and so its metrics endpoint) up until
 * Ctrl-C or SIGTERM, for a last scrape or a look. A Ctrl-C during the workload skips this.
 */
function holdUntilStopped(interrupted: AbortSignal, out: NodeJS.WriteStream): Promise<void> {
  if (interrupted.aborted) return Promise.resolve();
  out.write('  workload done: the executor and its metrics endpoint stay up; Ctrl-C to shut it down\n');
  // Ctrl-C, SIGTERM and SIGHUP abort `interrupted` (localCommand).
  return new Promise((resolve) => interrupted.addEventListener('abort', () => resolve(), { once: true }));
}

async function checkJobModules(options: LocalCommandOptions): Promise<void> {
  const pool = await PoolExecutor.create({ jobs: options.executor.jobs, builtinJobs: options.executor.builtinJobs, threads: 1, taskMemoryLimits: false });
  await pool.destroy();
}
