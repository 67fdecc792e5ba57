import { availableParallelism } from 'node:os';
import { delimiter, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { InvalidOptionError } from '../errors.js';
import { LOG_LEVELS, type LogLevel } from '../log.js';
import { JOBS_ENV, jobsFromEnvironment, mergeJobModules, resolveJobModule } from '../pool/job-modules.js';
import type { ContentType } from '../protocol/codec.js';
import type { TaskState } from '../proto/types.js';
import { defaultAgentMemMb, neverFits, type LaunchPlan } from './local/allocator.js';

/** Options of the executor itself (no subcommand), also passed through by `local`. */
export interface ExecutorCommandOptions {
  /** Job modules as absolute `file:` URLs (with `#names` when selected), resolved at parse time. */
  readonly jobs: readonly string[];
  /** `--no-builtin-jobs`: false. */
  readonly builtinJobs: boolean;
  /** `--threads`: a fixed concurrency; undefined: it follows the Mesos resources. */
  readonly threads: number | undefined;
  /** `--max-threads`: the cap of the concurrency that follows the resources. */
  readonly maxThreads: number | undefined;
  /** `--max-batch-items`: the most items of a batch task (the pool's default when undefined). */
  readonly maxBatchItems: number | undefined;
  /** `--max-batch-result-bytes`: the most bytes of results a batch task keeps. */
  readonly maxBatchResultBytes: number | undefined;
  readonly contentType: ContentType;
  readonly logLevel: LogLevel;
  readonly metricsPort: number | undefined;
  readonly metricsHost: string;
  /** `--metrics-address-file`: where to write the endpoint's address once it listens. */
  readonly metricsAddressFile: string | undefined;
  /** `--metrics-final-file`: where to write the last exposition, once the executor stopped (before it exits). */
  readonly metricsFinalFile: string | undefined;
  /** `--metrics-cache-ms`: how long one collection serves scrapes (default 1000; `local` uses 0). */
  readonly metricsCacheMs: number;
}

export interface LocalCommandOptions {
  readonly executor: ExecutorCommandOptions;
  /** `--executor "<command>"`: another executor command to run under the local agent. */
  readonly executorCommand: string | undefined;
  readonly tasks: number;
  readonly job: string;
  readonly input: unknown;
  readonly payloads: string | undefined;
  readonly expect: TaskState;
  readonly checkpoint: boolean;
  readonly timeoutMs: number;
  readonly progress: boolean;
  readonly quiet: boolean;
  /** `--keep-metrics`: after the workload, keep the executor and its metrics endpoint up until Ctrl-C. */
  readonly keepMetrics: boolean;
  /** `--executor-logs`: copy our executor's logs (its stderr) to ours as they come. */
  readonly executorLogs: boolean;
  /** `--results`: print each task's result (or message) after the run. */
  readonly results: boolean;
  /** Where the machine-readable summary goes: `--json` (stdout), `--json-file <path>`, or nowhere. */
  readonly json: JsonOutput;
  /** How tasks are launched: as the agent's resources allow (offers), or all at the start. */
  readonly launch: LaunchPlan;
}

/** What the executor and each task are given when offers bound the launches. */
export const DEFAULT_LOCAL_RESOURCES = Object.freeze({
  // The cluster guide's ExecutorInfo: 0.1 cpus (upstream's DEFAULT_EXECUTOR_CPUS too) and
  // 128 MB (its measured idle RSS is ~80 MB plus ~10 MB per thread).
  executor: Object.freeze({ cpus: 0.1, mem: 128 }),
  // One worker thread per task: 1 cpu lets the executor run every task it was given at once.
  task: Object.freeze({ cpus: 1, mem: 128 }),
});

export type JsonOutput = { readonly kind: 'none' } | { readonly kind: 'stdout' } | { readonly kind: 'file'; readonly path: string };

export type Command =
  | { readonly kind: 'executor'; readonly options: ExecutorCommandOptions }
  | { readonly kind: 'local'; readonly options: LocalCommandOptions }
  | { readonly kind: 'help' }
  | { readonly kind: 'version' };

const EXECUTOR_OPTIONS = {
  jobs: { type: 'string', multiple: true },
  'no-builtin-jobs': { type: 'boolean' },
  threads: { type: 'string' },
  'max-threads': { type: 'string' },
  'max-batch-items': { type: 'string' },
  'max-batch-result-bytes': { type: 'string' },
  'content-type': { type: 'string' },
  'log-level': { type: 'string' },
  'metrics-port': { type: 'string' },
  'metrics-host': { type: 'string' },
  'metrics-address-file': { type: 'string' },
  'metrics-final-file': { type: 'string' },
  'metrics-cache-ms': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' },
} as const;

const LOCAL_OPTIONS = {
  ...EXECUTOR_OPTIONS,
  executor: { type: 'string' },
  tasks: { type: 'string', short: 'n' },
  job: { type: 'string' },
  input: { type: 'string' },
  payloads: { type: 'string' },
  expect: { type: 'string' },
  'no-checkpoint': { type: 'boolean' },
  timeout: { type: 'string' },
  'no-progress': { type: 'boolean' },
  quiet: { type: 'boolean', short: 'q' },
  'keep-metrics': { type: 'boolean' },
  results: { type: 'boolean' },
  'executor-logs': { type: 'boolean' },
  json: { type: 'boolean' },
  'json-file': { type: 'string' },
  'all-at-once': { type: 'boolean' },
  'agent-cpus': { type: 'string' },
  'agent-mem': { type: 'string' },
  'executor-cpus': { type: 'string' },
  'executor-mem': { type: 'string' },
  'task-cpus': { type: 'string' },
  'task-mem': { type: 'string' },
} as const;

/** The default workload of `local` (and so of `npm start`): enough CPU work to see the pool at work. */
export const DEFAULT_LOCAL_WORKLOAD = Object.freeze({ tasks: 400, job: 'primes', input: Object.freeze({ limit: 1_000_000 }) });

const TERMINAL_STATES: readonly TaskState[] = ['TASK_FINISHED', 'TASK_FAILED', 'TASK_KILLED', 'TASK_ERROR'];

function integer(option: string, text: string | undefined, fallback: number, min: number, max: number): number {
  if (text === undefined) return fallback;
  if (!/^\d+$/.test(text)) throw new InvalidOptionError(option, `--${option} expects a whole number, got "${text}"`);
  const value = Number(text);
  if (value < min || value > max) throw new InvalidOptionError(option, `--${option} must be between ${min} and ${max}, got ${value}`);
  return value;
}

/** A Mesos scalar option (`--task-cpus 0.5`): a decimal number of at most three decimals, as Mesos keeps. */
function scalar(option: string, text: string | undefined, fallback: number, min: number, max: number, minIncluded: boolean): number {
  if (text === undefined) return fallback;
  if (!/^\d+(\.\d{1,3})?$/.test(text)) throw new InvalidOptionError(option, `--${option} expects a number with at most 3 decimals, got "${text}"`);
  const value = Number(text);
  if (value > max || (minIncluded ? value < min : value <= min)) {
    throw new InvalidOptionError(option, `--${option} must be ${minIncluded ? 'at least' : 'more than'} ${min} and at most ${max}, got ${value}`);
  }
  return value;
}

/** The local agent's cpus when `--agent-cpus` is not given: this machine's cores plus the executor's (in Mesos' thousandths). */
export function defaultAgentCpus(executorCpus: number): number {
  return Math.round((availableParallelism() + executorCpus) * 1000) / 1000;
}

function launchPlan(values: Record<string, unknown>): LaunchPlan {
  const text = (name: string): string | undefined => values[name] as string | undefined;
  const cpus = (name: string, fallback: number): number => scalar(name, text(name), fallback, 0, 100_000, false);
  const mem = (name: string, fallback: number): number => scalar(name, text(name), fallback, 0, 1024 ** 3, true);
  if (values['all-at-once'] === true) {
    for (const name of ['agent-cpus', 'agent-mem']) {
      if (values[name] !== undefined) throw new InvalidOptionError(name, `--${name}: the agent's resources bound the launches, which --all-at-once does not`);
    }
    return {
      kind: 'all-at-once',
      executor: { cpus: cpus('executor-cpus', 0), mem: mem('executor-mem', 0) },
      task: { cpus: cpus('task-cpus', 0), mem: mem('task-mem', 0) },
    };
  }
  const d = DEFAULT_LOCAL_RESOURCES;
  const executor = { cpus: cpus('executor-cpus', d.executor.cpus), mem: mem('executor-mem', d.executor.mem) };
  const plan = {
    kind: 'offers',
    // By default the agent is sized as an operator sizes one for a single executor: every core
    // for tasks, plus the executor's own share. With only the cores, the executor's 0.1 cpus
    // would leave room for one 1-cpu task fewer than the machine runs (one at a time on 2 cores).
    agent: { cpus: cpus('agent-cpus', defaultAgentCpus(executor.cpus)), mem: mem('agent-mem', defaultAgentMemMb()) },
    executor,
    task: { cpus: cpus('task-cpus', d.task.cpus), mem: mem('task-mem', d.task.mem) },
  } as const;
  // Checked now (exit 2): a scheduler would wait for such an offer forever.
  const why = neverFits(plan.agent, plan.executor, plan.task);
  const option = neverFits(plan.agent, { cpus: plan.executor.cpus, mem: 0 }, { cpus: plan.task.cpus, mem: 0 }) !== undefined ? 'task-cpus' : 'task-mem';
  if (why !== undefined) throw new InvalidOptionError(option, `${why} (give --agent-cpus / --agent-mem, smaller --task-cpus / --task-mem, or --all-at-once)`);
  return plan;
}

/**
 * MESOS_POOL_EXECUTOR_JOBS (first) and every --jobs, resolved against the working directory (the
 * sandbox under Mesos) now: a missing file or package is a configuration error (exit 2) before
 * anything starts, and `local` hands its executor absolute URLs, whatever that one's cwd.
 */
function jobModules(values: Record<string, unknown>, env: Readonly<Record<string, string | undefined>>): string[] {
  const cwd = process.cwd();
  const fromEnv = jobsFromEnvironment(env, delimiter).map((entry) => resolveJobModule(entry, cwd, `${JOBS_ENV} entry ${JSON.stringify(entry)}`));
  const fromFlags = ((values.jobs as string[] | undefined) ?? []).map((entry) => resolveJobModule(entry, cwd, `--jobs ${entry}`));
  return mergeJobModules([...fromEnv, ...fromFlags]);
}

function executorOptions(values: Record<string, unknown>, env: Readonly<Record<string, string | undefined>>): ExecutorCommandOptions {
  const contentTypeText = (values['content-type'] as string | undefined) ?? 'protobuf';
  const contentType: ContentType | undefined =
    contentTypeText === 'protobuf' || contentTypeText === 'application/x-protobuf'
      ? 'application/x-protobuf'
      : contentTypeText === 'json' || contentTypeText === 'application/json'
        ? 'application/json'
        : undefined;
  if (contentType === undefined) {
    throw new InvalidOptionError('content-type', `--content-type expects json or protobuf, got "${contentTypeText}"`);
  }
  const logLevel = (values['log-level'] as string | undefined) ?? 'info';
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) {
    throw new InvalidOptionError('log-level', `--log-level expects one of ${LOG_LEVELS.join(', ')}, got "${logLevel}"`);
  }
  const jobs = jobModules(values, env);
  const builtinJobs = values['no-builtin-jobs'] !== true;
  if (!builtinJobs && jobs.length === 0) {
    throw new InvalidOptionError('jobs', `--no-builtin-jobs leaves no job at all: give --jobs (or ${JOBS_ENV})`);
  }
  const portText = values['metrics-port'] as string | undefined;
  const addressFile = values['metrics-address-file'] as string | undefined;
  if (addressFile !== undefined && portText === undefined) {
    throw new InvalidOptionError('metrics-address-file', '--metrics-address-file needs --metrics-port (the endpoint whose address it holds)');
  }
  const finalFile = values['metrics-final-file'] as string | undefined;
  if (finalFile !== undefined && portText === undefined) {
    throw new InvalidOptionError('metrics-final-file', '--metrics-final-file needs --metrics-port (the metrics it writes are the endpoint\'s)');
  }
  return Object.freeze({
    jobs: Object.freeze(jobs),
    builtinJobs,
    threads: values.threads === undefined ? undefined : integer('threads', values.threads as string, 1, 1, 1024),
    maxThreads: values['max-threads'] === undefined ? undefined : integer('max-threads', values['max-threads'] as string, 1, 1, 1024),
    maxBatchItems: values['max-batch-items'] === undefined ? undefined : integer('max-batch-items', values['max-batch-items'] as string, 1, 1, 10_000_000),
    maxBatchResultBytes:
      values['max-batch-result-bytes'] === undefined ? undefined : integer('max-batch-result-bytes', values['max-batch-result-bytes'] as string, 16, 16, 16 * 1024 ** 3),
    contentType,
    logLevel: logLevel as LogLevel,
    metricsPort: portText === undefined ? undefined : integer('metrics-port', portText, 0, 0, 65535),
    metricsHost: (values['metrics-host'] as string | undefined) ?? '127.0.0.1',
    // Resolved by the process that writes it (under Mesos, against the sandbox).
    metricsAddressFile: addressFile,
    metricsFinalFile: finalFile,
    metricsCacheMs: integer('metrics-cache-ms', values['metrics-cache-ms'] as string | undefined, 1000, 0, 60_000),
  });
}

/** Parses the command line (without `node` and the script). Throws InvalidOptionError. */
export function parseCommand(argv: readonly string[], env: Readonly<Record<string, string | undefined>> = process.env): Command {
  const local = argv[0] === 'local';
  const args = local ? argv.slice(1) : [...argv];
  let values: Record<string, unknown>;
  try {
    ({ values } = parseArgs({ args, options: local ? LOCAL_OPTIONS : EXECUTOR_OPTIONS, strict: true, allowPositionals: false }));
  } catch (error) {
    throw new InvalidOptionError('arguments', (error as Error).message);
  }
  if (values.help === true) return { kind: 'help' };
  if (values.version === true) return { kind: 'version' };
  const executor = executorOptions(values, env);
  if (!local) return { kind: 'executor', options: executor };

  let input: unknown = DEFAULT_LOCAL_WORKLOAD.input;
  const job = (values.job as string | undefined) ?? DEFAULT_LOCAL_WORKLOAD.job;
  if (values.input !== undefined) {
    try {
      input = JSON.parse(values.input as string);
    } catch (error) {
      throw new InvalidOptionError('input', `--input expects JSON: ${(error as Error).message}`);
    }
  } else if (values.job !== undefined) {
    input = undefined;
  }
  const expect = ((values.expect as string | undefined) ?? 'TASK_FINISHED') as TaskState;
  if (!TERMINAL_STATES.includes(expect)) {
    throw new InvalidOptionError('expect', `--expect expects one of ${TERMINAL_STATES.join(', ')}, got "${expect}"`);
  }
  if (values['keep-metrics'] === true && values.executor !== undefined) {
    throw new InvalidOptionError('keep-metrics', '--keep-metrics keeps our executor\'s metrics endpoint up; it does not apply to --executor');
  }
  if (values.payloads !== undefined && (values.tasks !== undefined || values.job !== undefined || values.input !== undefined)) {
    throw new InvalidOptionError('payloads', '--payloads replaces --tasks, --job and --input; give one or the other');
  }
  if (values.json === true && values['json-file'] !== undefined) {
    throw new InvalidOptionError('json', '--json writes the summary to stdout, --json-file to a file: give one');
  }
  const json: JsonOutput =
    values.json === true ? { kind: 'stdout' } : values['json-file'] !== undefined ? { kind: 'file', path: resolve(values['json-file'] as string) } : { kind: 'none' };
  return {
    kind: 'local',
    options: Object.freeze({
      executor,
      executorCommand: values.executor as string | undefined,
      tasks: integer('tasks', values.tasks as string | undefined, DEFAULT_LOCAL_WORKLOAD.tasks, 1, 10_000_000),
      job,
      input,
      payloads: values.payloads as string | undefined,
      expect,
      checkpoint: values['no-checkpoint'] !== true,
      timeoutMs: integer('timeout', values.timeout as string | undefined, 600, 1, 86_400) * 1000,
      progress: values['no-progress'] !== true,
      quiet: values.quiet === true,
      keepMetrics: values['keep-metrics'] === true,
      results: values.results === true,
      executorLogs: values['executor-logs'] === true,
      json,
      launch: launchPlan(values),
    }),
  };
}

/** The arguments that give our executor process the same executor options. */
export function executorArgs(options: ExecutorCommandOptions): string[] {
  const args = ['--content-type', options.contentType === 'application/json' ? 'json' : 'protobuf'];
  if (options.threads !== undefined) args.push('--threads', String(options.threads));
  if (options.maxThreads !== undefined) args.push('--max-threads', String(options.maxThreads));
  if (options.maxBatchItems !== undefined) args.push('--max-batch-items', String(options.maxBatchItems));
  if (options.maxBatchResultBytes !== undefined) args.push('--max-batch-result-bytes', String(options.maxBatchResultBytes));
  args.push('--log-level', options.logLevel);
  for (const job of options.jobs) args.push('--jobs', job);
  if (!options.builtinJobs) args.push('--no-builtin-jobs');
  if (options.metricsPort !== undefined) args.push('--metrics-port', String(options.metricsPort), '--metrics-host', options.metricsHost);
  if (options.metricsAddressFile !== undefined) args.push('--metrics-address-file', options.metricsAddressFile);
  if (options.metricsFinalFile !== undefined) args.push('--metrics-final-file', options.metricsFinalFile);
  // local's summary scrapes once the workload is done: it must see the end, not a cached second before.
  if (options.metricsPort !== undefined) args.push('--metrics-cache-ms', '0');
  return args;
}

export const USAGE = `Usage:
  mesos-pool-executor [options]          run as a Mesos executor (from the agent's environment)
  mesos-pool-executor local [options]    run a workload on an embedded local agent

Executor options:
  --jobs <module>            a job module to register (repeatable): a file, a file: URL or a package
                             (@acme/jobs, resolved from the working directory); module#a,b registers
                             only the exports a and b; also ${JOBS_ENV} (':'-separated)
  --no-builtin-jobs          do not register the built-in jobs (noop, spin, sleep, ...)
  --threads <n>              a fixed number of tasks at once (default: follow the cpus Mesos allocated:
                             at least the host's cores, or the executor's plus the live tasks' cpus)
  --max-threads <n>          the most tasks at once when following the cpus (default 256)
  --max-batch-items <n>      the most items of a batch task (default 100000)
  --max-batch-result-bytes <n>  the most bytes of results a batch task keeps, in its results file
                             at most (default 67108864: 64 MiB)
  --content-type <type>      json | protobuf (default protobuf)
  --metrics-port <port>      serve Prometheus metrics at /metrics on this port (0: any free port)
  --metrics-host <host>      address for the metrics endpoint (default 127.0.0.1)
  --metrics-address-file <f> write the endpoint's address (JSON) to this file once it listens
  --metrics-final-file <f>   write the last metrics (exposition text) to this file once stopped, before exiting
  --metrics-cache-ms <ms>    one collection serves the scrapes of this many ms (default 1000; 0: every scrape collects)
  --log-level <level>        debug | info | warn | error | silent (default info; logs go to stderr)

local options (plus the executor options above, passed to the executor):
  -n, --tasks <n>            number of tasks (default ${DEFAULT_LOCAL_WORKLOAD.tasks})
  --job <name>               job of every task (default ${DEFAULT_LOCAL_WORKLOAD.job})
  --input <json>             input of every task (default ${JSON.stringify(DEFAULT_LOCAL_WORKLOAD.input)} for the default job)
  --payloads <file>          task payloads, one JSON per line, instead of --tasks/--job/--input;
                             a line may add "health_check" and "check" (Mesos JSON)
  --expect <state>           terminal state every task should reach (default TASK_FINISHED)
  --executor "<command>"     run this executor command instead of ours (shell command line)
  --no-checkpoint            the framework does not checkpoint
  --timeout <seconds>        give up after this long (default 600)
  --no-progress              no progress display
  -q, --quiet                only the summary
  --results                  print each task's result (TASK_FINISHED data) or message
  --executor-logs            show our executor's logs (stderr) as they come; --log-level sets how many
                             (an --executor command's output is always shown)
  --json                     write a machine-readable summary (JSON) to stdout; the rest goes to stderr
  --json-file <path>         write it to this file instead
  --keep-metrics             after the workload, keep the executor and its metrics endpoint up until Ctrl-C
                             (local always serves metrics: on --metrics-port, else on a free port)

local resources (tasks are launched as they fit, the way offers work):
  --agent-cpus <n>           the local agent's cpus (default: this machine's ${availableParallelism()} cores for tasks plus the executor's cpus)
  --agent-mem <MB>           its mem (default: the machine's memory less 1 GB, as a Mesos agent)
  --executor-cpus <n>        the ExecutorInfo's cpus, held while the executor lives (default ${DEFAULT_LOCAL_RESOURCES.executor.cpus})
  --executor-mem <MB>        the ExecutorInfo's mem (default ${DEFAULT_LOCAL_RESOURCES.executor.mem})
  --task-cpus <n>            each task's cpus, held until its terminal update (default ${DEFAULT_LOCAL_RESOURCES.task.cpus})
  --task-mem <MB>            each task's mem (default ${DEFAULT_LOCAL_RESOURCES.task.mem}; the job's heap limit; 0: none)
  --all-at-once              launch every task at the start, whatever the resources (the executor and
                             the tasks then carry only the resources given by the options above)
`;
