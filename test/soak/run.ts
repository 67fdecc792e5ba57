// `npm run soak`: the full reliability soak — fuzzing of the wire code (≥ 100k cases), then the
// real executor through agent restarts under load. Prints the counts; exits 1 if any invariant
// failed. Options: --tasks N (10000), --restarts N (100), --threads N (2), --seed N, --fuzz N
// (120000), --json (the JSON encoding instead of protobuf).
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { runFuzz } from './fuzz-properties.js';
import { formatReport, runSoak } from './soak.js';

const { values } = parseArgs({
  options: {
    tasks: { type: 'string', default: '10000' },
    restarts: { type: 'string', default: '100' },
    threads: { type: 'string', default: String(Math.max(2, Math.min(4, availableParallelism()))) },
    seed: { type: 'string', default: '20240823' },
    fuzz: { type: 'string', default: '120000' },
    json: { type: 'boolean', default: false },
  },
});
const number = (name: string, text: string): number => {
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 0) {
    process.stderr.write(`soak: --${name} expects a whole number, got ${text}\n`);
    process.exit(2);
  }
  return n;
};
const seed = number('seed', values.seed);
const fuzzRuns = number('fuzz', values.fuzz);

const t0 = performance.now();
let fuzzCases = 0;
if (fuzzRuns > 0) {
  try {
    const results = runFuzz(fuzzRuns, seed);
    fuzzCases = results.reduce((sum, r) => sum + r.runs, 0);
    process.stdout.write(`fuzz: ${fuzzCases} cases over ${results.length} properties, no failure (${((performance.now() - t0) / 1000).toFixed(1)} s)\n`);
  } catch (error) {
    process.stdout.write(`fuzz: FAILED\n${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  }
}

const report = await runSoak({
  tasks: number('tasks', values.tasks),
  restarts: number('restarts', values.restarts),
  threads: number('threads', values.threads),
  seed,
  ...(values.json ? { contentType: 'application/json' as const } : {}),
  log: (line) => process.stdout.write(`  ${line}\n`),
});
process.stdout.write(`${formatReport(report, fuzzCases)}\n`);
process.exit(report.ok ? 0 : 1);
