#!/usr/bin/env node
// The benchmark orchestrator: `node dist/bench/run.js [--quick] [--only a,b] [--out dir] [--profile]`.
// Runs the benchmarks one after another in this process (each executor under test is its own
// process), then writes results.json (with the machine), results.md and chart.svg.
//   --quick     the < 60 s version (fewer tasks and repeats); writes to bench/results/quick/
//   --only      a comma-separated subset of: micro-recordio, micro-codec, dispatch-layers,
//               against-baselines, cpu-efficiency, latency, responsiveness, scale, batch, allocated-cpus
//   --out       output directory (default bench/results, or bench/results/quick)
//   --profile   executor processes write V8 CPU profiles (node --cpu-prof) to <out>/profiles (or
//               --profile-dir); summarise them with `node dist/bench/profile-summary.js <files>`
//   --threads   worker threads of the executors (default: the machine's cores)
//   --merge     with --only: replace those sections in the existing results of <out> and keep
//               the others (each section records when it ran)
//   --render    run nothing: rewrite results.md and chart.svg of <out> from its results.json
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { renderChart } from './lib/chart.js';
import { defaultThreads, type BenchContext, type Benchmark, type TargetResult } from './lib/context.js';
import { machineInfo, type MachineInfo } from './lib/machine.js';
import { renderMarkdown } from './lib/report.js';
import type { SectionRecord } from './lib/section-record.js';
import { roundDeep } from './lib/stats.js';

const SECTIONS: ReadonlyArray<{ name: string; title: string; load: () => Promise<Benchmark> }> = [
  { name: 'micro-recordio', title: 'Micro: RecordIO decode', load: async () => (await import('./micro-recordio.js')).run },
  { name: 'micro-codec', title: 'Micro: Call/Event codec', load: async () => (await import('./micro-codec.js')).run },
  { name: 'dispatch-layers', title: 'Dispatch cost per layer (noop tasks)', load: async () => (await import('./dispatch-layers.js')).run },
  { name: 'against-baselines', title: 'Against the baselines (same wire, same run)', load: async () => (await import('./against-baselines.js')).run },
  { name: 'cpu-efficiency', title: 'CPU-bound efficiency (fixed-size work)', load: async () => (await import('./cpu-efficiency.js')).run },
  { name: 'latency', title: 'Latency', load: async () => (await import('./latency.js')).run },
  { name: 'responsiveness', title: 'Responsiveness: the main thread while every worker is busy', load: async () => (await import('./responsiveness.js')).run },
  { name: 'scale', title: 'Scale', load: async () => (await import('./scale.js')).run },
  { name: 'batch', title: 'Batch tasks: 1 ms items in batches vs single tasks vs bare threads', load: async () => (await import('./batch.js')).run },
  { name: 'allocated-cpus', title: 'Allocated cpus: are tasks whose cpus were allocated queued?', load: async () => (await import('./allocated-cpus.js')).run },
];

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      only: { type: 'string', multiple: true },
      out: { type: 'string' },
      profile: { type: 'boolean', default: false },
      'profile-dir': { type: 'string' },
      threads: { type: 'string' },
      merge: { type: 'boolean', default: false },
      render: { type: 'boolean', default: false },
    },
    allowPositionals: false,
  });
  const quick = values.quick === true;
  const only = (values.only ?? []).flatMap((v) => v.split(',')).map((v) => v.trim()).filter((v) => v !== '');
  for (const name of only) {
    if (!SECTIONS.some((s) => s.name === name)) {
      process.stderr.write(`bench: unknown benchmark ${JSON.stringify(name)}; known: ${SECTIONS.map((s) => s.name).join(', ')}\n`);
      return 2;
    }
  }
  const base = resolve(values.out ?? join(process.cwd(), 'bench', 'results', quick ? 'quick' : ''));
  const render = values.render === true;
  const merge = (values.merge === true && only.length > 0) || render;
  const outDir = only.length > 0 && values.out === undefined && !merge ? join(base, 'partial') : base;
  mkdirSync(outDir, { recursive: true });
  const profileDir =
    values['profile-dir'] !== undefined ? resolve(values['profile-dir']) : values.profile === true ? join(outDir, 'profiles') : undefined;
  if (profileDir !== undefined) mkdirSync(profileDir, { recursive: true });

  const startedAt = performance.now();
  const elapsed = (): string => `${((performance.now() - startedAt) / 1000).toFixed(1)}s`;
  const ctx: BenchContext = {
    quick,
    threads: values.threads !== undefined ? Number(values.threads) : defaultThreads(),
    profileDir,
    log: (message) => process.stderr.write(`[${elapsed()}] ${message}\n`),
  };
  const storedPath = join(outDir, 'results.json');
  const machine: MachineInfo =
    render && existsSync(storedPath) ? (JSON.parse(readFileSync(storedPath, 'utf8')) as { machine: MachineInfo }).machine : machineInfo();
  ctx.log(`bench${quick ? ' --quick' : ''}: ${machine.cores} cores (${machine.cpuModel}), Node ${machine.node}, ${ctx.threads} worker threads, load ${machine.loadAverage1mAtStart}`);

  const records: SectionRecord[] = [];
  for (const section of SECTIONS) {
    if (render || (only.length > 0 && !only.includes(section.name))) continue;
    ctx.log(`== ${section.name}`);
    const t0 = performance.now();
    try {
      const bench = await section.load();
      const output = await bench(ctx);
      records.push({ name: section.name, title: section.title, durationMs: performance.now() - t0, date: new Date().toISOString(), output });
    } catch (error) {
      const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
      ctx.log(`${section.name} FAILED: ${message}`);
      records.push({ name: section.name, title: section.title, durationMs: performance.now() - t0, date: new Date().toISOString(), error: message });
    }
  }
  let durationMs = performance.now() - startedAt;
  if (merge) {
    const previous = loadPrevious(outDir);
    const fresh = new Map(records.map((r) => [r.name, r]));
    records.length = 0;
    for (const section of SECTIONS) {
      const record = fresh.get(section.name) ?? previous.get(section.name);
      if (record !== undefined) records.push(record);
    }
    durationMs = records.reduce((sum, r) => sum + r.durationMs, 0);
  }
  const targets: TargetResult[] = records.flatMap((r) => r.output?.targets ?? []);
  const results = roundDeep({
    machine,
    mode: quick ? 'quick' : 'full',
    threads: ctx.threads,
    durationMs,
    targets,
    sections: Object.fromEntries(
      records.map((r) => [
        r.name,
        {
          title: r.title,
          date: r.date,
          durationMs: r.durationMs,
          ...(r.error !== undefined ? { error: r.error } : { data: r.output!.data, targets: r.output!.targets ?? [], markdown: r.output!.markdown }),
        },
      ]),
    ),
  });
  writeFileSync(join(outDir, 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
  const markdown = renderMarkdown({ machine, quick, threads: ctx.threads, durationMs, records, targets });
  writeFileSync(join(outDir, 'results.md'), markdown);
  const svg = renderChart(records, machine, ctx.threads);
  if (svg !== undefined) writeFileSync(join(outDir, 'chart.svg'), svg);
  process.stdout.write(markdown);
  ctx.log(`wrote ${join(outDir, 'results.json')}, results.md${svg !== undefined ? ', chart.svg' : ''} in ${elapsed()}`);
  return records.some((r) => r.error !== undefined) ? 1 : 0;
}

interface StoredSection {
  readonly title: string;
  readonly date?: string;
  readonly durationMs: number;
  readonly data?: unknown;
  readonly targets?: TargetResult[];
  readonly markdown?: string;
  readonly error?: string;
}

/** The sections of an earlier results.json (markdown from results.md when the JSON lacks it). */
function loadPrevious(outDir: string): Map<string, SectionRecord> {
  const out = new Map<string, SectionRecord>();
  const jsonPath = join(outDir, 'results.json');
  if (!existsSync(jsonPath)) return out;
  const json = JSON.parse(readFileSync(jsonPath, 'utf8')) as { machine: { date: string }; targets?: TargetResult[]; sections: Record<string, StoredSection> };
  const mdPath = join(outDir, 'results.md');
  const md = existsSync(mdPath) ? readFileSync(mdPath, 'utf8') : '';
  const mdSection = (title: string): string => {
    const start = md.indexOf(`\n## ${title}\n`);
    if (start === -1) return '';
    const body = md.slice(start + title.length + 5);
    const end = body.indexOf('\n## ');
    return (end === -1 ? body : body.slice(0, end)).trim();
  };
  for (const [stored, s] of Object.entries(json.sections)) {
    // Results written before the section was renamed (its file sat beside bench/baselines/).
    const name = stored === 'baselines' ? 'against-baselines' : stored;
    const section = SECTIONS.find((x) => x.name === name);
    if (section === undefined) continue;
    const base = { name, title: s.title, durationMs: s.durationMs, date: s.date ?? json.machine.date };
    if (s.error !== undefined) {
      out.set(name, { ...base, error: s.error });
      continue;
    }
    // Older files kept the targets only at the top level: give each section the ones it made.
    const ids = TARGETS_BY_SECTION[name] ?? [];
    const targets = s.targets ?? (json.targets ?? []).filter((t) => ids.includes(t.id));
    out.set(name, { ...base, output: { data: s.data, markdown: s.markdown ?? mdSection(s.title), targets } });
  }
  return out;
}

const TARGETS_BY_SECTION: Readonly<Record<string, readonly string[]>> = {
  'dispatch-layers': ['executor-cpu-per-task'],
  'against-baselines': ['noop-vs-process-per-task'],
  'cpu-efficiency': ['efficiency-at-20ms'],
  latency: ['launch-to-running-p99-idle', 'kill-to-killed-p99'],
  responsiveness: ['event-loop-lag-p99-busy'],
  scale: ['rss-growth-10k-to-100k', 'resubscribe-10k-unacked'],
  batch: ['batch-100-vs-bare-1ms', 'batch-1000-vs-bare-1ms'],
  'allocated-cpus': ['allocated-cpus-queued'],
};

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
