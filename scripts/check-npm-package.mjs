// The npm package as a user gets it: `npm pack` (which runs `prepack`, the published build), then
// an empty project installs the tarball with the oldest prom-client the peer range allows, and
//   - a strict TypeScript program (skipLibCheck off) that imports the library and hands it the
//     project's own prom-client Registry type-checks and runs (our metric families registered in
//     that registry, served and scraped);
//   - `npx mesos-pool-executor local -n 10` runs.
// Usage: node scripts/check-npm-package.mjs [--prom-client VERSION]   (default 14.2.0)
// Leaves dist/ holding the published build (prepack's); `npm test` rebuilds the full one.
// Needs npm with the registry or a warm cache (npm ci has filled most of it).
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const args = process.argv.slice(2);
const promAt = args.indexOf('--prom-client');
const promClient = promAt === -1 ? '14.2.0' : args[promAt + 1];
if ((promAt !== -1 && promClient === undefined) || args.length !== (promAt === -1 ? 0 : 2)) {
  console.error('usage: node scripts/check-npm-package.mjs [--prom-client VERSION]');
  process.exit(2);
}

const started = Date.now();
const work = mkdtempSync(join(tmpdir(), 'mpe-npm-package-'));
let failed = false;
try {
  const [packed] = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', work, '--loglevel=error'], { cwd: root }));
  const tarball = join(work, packed.filename);
  console.log(`packed ${packed.filename}: ${packed.entryCount} files, ${packed.size} bytes`);

  const project = join(work, 'consumer');
  mkdirSync(project);
  writeFileSync(join(project, 'package.json'), `${JSON.stringify({ name: 'consumer', private: true, type: 'module' }, null, 2)}\n`);
  run('npm', [
    'install',
    '--no-audit',
    '--no-fund',
    '--prefer-offline',
    '--loglevel=error',
    tarball,
    `prom-client@${promClient}`,
    `typescript@${manifest.devDependencies.typescript}`,
    `@types/node@${manifest.devDependencies['@types/node']}`,
  ], { cwd: project });
  const installed = JSON.parse(readFileSync(join(project, 'node_modules', 'prom-client', 'package.json'), 'utf8')).version;
  if (installed !== promClient) throw new Error(`the project got prom-client ${installed}, not ${promClient}`);

  writeFileSync(
    join(project, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'ES2022',
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        strict: true,
        skipLibCheck: false,
        types: ['node'],
        outDir: 'out',
      },
      include: ['main.ts'],
    }),
  );
  writeFileSync(join(project, 'main.ts'), consumerProgram());
  run(process.execPath, [join(project, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', project], { cwd: project });
  const output = run(process.execPath, [join(project, 'out', 'main.js')], { cwd: project });
  process.stdout.write(output);

  const local = run('npx', ['--no-install', 'mesos-pool-executor', 'local', '-n', '10', '--no-progress', '-q'], { cwd: project });
  if (!/result\s+OK/.test(local)) throw new Error(`local -n 10 did not end OK:\n${local}`);
  console.log(`npx mesos-pool-executor local -n 10: ${local.match(/tasks\s+(.*)/)?.[1] ?? 'OK'}`);
  console.log(`check-npm-package: the packed package works in an empty project with prom-client ${promClient} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
} catch (error) {
  failed = true;
  console.error(`check-npm-package: ${error instanceof Error ? error.message : String(error)}`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
process.exitCode = failed ? 1 : 0;

function run(command, argv, { cwd }) {
  const result = spawnSync(command, argv, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 * 1024 * 1024 });
  if (result.error !== undefined || result.status !== 0) {
    throw new Error(`${[command, ...argv].join(' ')} failed (${result.error?.message ?? `exit ${result.status}`})\n${result.stdout ?? ''}${result.stderr ?? ''}`.trimEnd());
  }
  return result.stdout;
}

// The user's program: their own prom-client Registry goes into our API; a type error here is the
// bug this check exists for (a Registry of another prom-client than the one we compiled against).
function consumerProgram() {
  return `import { strict as assert } from 'node:assert';
import { Registry } from 'prom-client';
import {
  EXECUTOR_METRIC_NAMES,
  MesosExecutorDriver,
  POOL_THREADS,
  PoolExecutor,
  createExecutorMetrics,
  registerPoolMetrics,
  registerProcessMetrics,
  startMetricsServer,
  type ExecutorMetrics,
  type Job,
} from 'mesos-pool-executor';

const double: Job<{ n: number }, number> = (input) => input.n * 2;
void double;

// Type-checked only: a driver needs an agent's environment to be built.
export function wire(driver: MesosExecutorDriver, pool: PoolExecutor, registry: Registry): ExecutorMetrics {
  return createExecutorMetrics({ driver, pool, registry, processMetrics: false });
}

const registry = new Registry();
const pool = await PoolExecutor.create({ threads: 1 });
try {
  const binding = registerPoolMetrics(registry, pool);
  registerProcessMetrics(registry);
  const server = await startMetricsServer({ registry, port: 0 });
  try {
    const body = await (await fetch(server.url)).text();
    assert.match(body, new RegExp('^' + POOL_THREADS + ' 1$', 'm'));
    assert.match(body, /^process_cpu_seconds_total /m);
    assert.ok(EXECUTOR_METRIC_NAMES.length > 5);
    console.log('consumer: our families served from the project\\'s own prom-client Registry');
  } finally {
    await server.close();
    binding.close();
  }
} finally {
  await pool.destroy();
}
`;
}
