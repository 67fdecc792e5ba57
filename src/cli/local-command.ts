import { writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { InvalidOptionError } from '../errors.js';
import { PoolExecutor } from '../pool/index.js';
import { executorArgs, type LocalCommandOptions } from './args.js';
import { describeResources, tasksAtOnce, type LaunchPlan, type Resources } from './local/allocator.js';
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
  const title = ours
    ? `mesos-pool-executor local: ${workload.length} tasks${options.payloads ? ` from ${options.payloads}` : ` of ${options.job} ${options.input === undefined ? '' : JSON.stringify(options.input)}`} on ${options.executor.threads ?? `${availableParallelism()}+`} threads (${options.executor.contentType})`
    : `mesos-pool-executor local: ${workload.length} tasks under "${options.executorCommand}"`;
  if (!options.quiet) out.write(`${[title, ...describeLaunch(options.launch)].join('\n')}\n`);
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
      pipeExecutorOutput: !options.quiet && options.executor.logLevel !== 'silent' && (!ours || options.executorLogs),
      signal: interrupt.signal,
      onAgentStarted: (agent) => {
        if (!options.quiet) out.write(`  local agent      ${agent.url} (pid ${agent.pid})\n`);
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

/** The header's lines on how tasks are launched (each within 80 columns). */
export function describeLaunch(plan: LaunchPlan): string[] {
  if (plan.kind === 'all-at-once') {
    const given = (r: Resources): string => (r.cpus === 0 && r.mem === 0 ? 'none' : describeResources(r));
    return ['  launch           every task at once (--all-at-once)', `  resources        executor ${given(plan.executor)}; each task ${given(plan.task)}`];
  }
  const n = tasksAtOnce(plan.agent, plan.executor, plan.task);
  return [
    `  launch           as resources free up (offers): ${n} task${n === 1 ? '' : 's'} at once`,
    `  resources        agent ${describeResources(plan.agent)}; executor ${describeResources(plan.executor)}`,
    `                   each task ${describeResources(plan.task)}`,
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
