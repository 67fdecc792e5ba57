// `npm run package`: the tarball the Mesos fetcher puts in a task's sandbox (docs/cluster.md, "Using it on a
// Mesos cluster"). Unlike the npm package it carries its production node_modules, so an agent
// needs nothing but Node to run it:
//
//   mesos-pool-executor/
//     package.json, LICENSE
//     dist/src, dist/workers      the published build (no tests, benchmarks, maps or .d.ts)
//     node_modules/               production dependencies only, installed from package-lock.json
//
// Usage: node scripts/package.mjs [--check] [--out FILE]
//   --out FILE  where to write it (default artifacts/mesos-pool-executor-<version>.tar.gz)
//   --check     then verify it: its file list, and that an extracted copy runs (`--version`, and
//               a short `local` workload in each encoding, which loads every dependency).
// The top folder is not versioned, so the ExecutorInfo's command stays the same across versions;
// the file name is, because the fetcher's cache is keyed by URI.
// Needs GNU tar (the entries are sorted and owned by root:root so that the same tree gives the
// same bytes) and npm with the registry or a warm cache (npm ci has filled it).
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync, gzipSync } from 'node:zlib';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const TOP = 'mesos-pool-executor';

const args = process.argv.slice(2);
const check = args.includes('--check');
const outAt = args.indexOf('--out');
if (args.some((a, i) => a !== '--check' && a !== '--out' && (outAt === -1 || i !== outAt + 1)) || (outAt !== -1 && args[outAt + 1] === undefined)) {
  console.error('usage: node scripts/package.mjs [--check] [--out FILE]');
  process.exit(2);
}
const out = resolve(root, outAt === -1 ? join('artifacts', `${TOP}-${manifest.version}.tar.gz`) : args[outAt + 1]);

/** A failure this script explains itself: printed without a stack. */
class PackageError extends Error {}

try {
  const started = Date.now();
  const stage = mkdtempSync(join(tmpdir(), 'mpe-package-'));
  try {
    build(join(stage, TOP));
    const bytes = archive(stage);
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, bytes);
    const files = listFiles(join(stage, TOP));
    const packages = readdirSync(join(stage, TOP, 'node_modules')).filter((n) => !n.startsWith('.')).length;
    console.log(
      `${relative(process.cwd(), out) || out}: ${formatBytes(bytes.length)} (${files.length} files, ` +
        `${formatBytes(files.reduce((sum, f) => sum + statSync(f).size, 0))} unpacked, ${packages} top-level packages) in ${seconds(started)}`,
    );
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
  if (check) verify(out);
} catch (error) {
  if (!(error instanceof PackageError)) throw error;
  console.error(`npm run package: ${error.message}`);
  process.exitCode = 1;
}

function build(app) {
  mkdirSync(app, { recursive: true });
  run(process.execPath, [join(root, 'scripts', 'build.mjs'), '--lib', join(app, 'dist')]);
  // The declarations serve TypeScript users of the npm package; nothing here compiles against them.
  prune(join(app, 'dist'), (name) => /\.d\.[cm]?ts$/.test(name));

  // prom-client is a peer dependency of the library (the user's Registry must be our
  // prom-client), so here, where we are the application, it is a dependency like the others.
  const dependencies = { ...manifest.dependencies };
  for (const name of Object.keys(manifest.peerDependencies ?? {})) dependencies[name] = manifest.devDependencies[name];
  const appManifest = {
    name: manifest.name,
    version: manifest.version,
    description: manifest.description,
    private: true,
    type: manifest.type,
    license: manifest.license,
    engines: manifest.engines,
    bin: manifest.bin,
    dependencies,
  };
  writeFileSync(join(app, 'package.json'), `${JSON.stringify(appManifest, null, 2)}\n`);
  cpSync(join(root, 'LICENSE'), join(app, 'LICENSE'));
  // The lock keeps the versions the tests ran with; npm install (not ci: the peer moved into
  // dependencies, so the lock's root entry differs) keeps every locked version.
  cpSync(join(root, 'package-lock.json'), join(app, 'package-lock.json'));
  run('npm', ['install', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'], { cwd: app });
  rmSync(join(app, 'package-lock.json'));

  // What no dependency loads at run time: source maps, TypeScript, documentation, tests, benchmarks.
  const dropFile = (name) => /\.(map|ts|mts|cts|md|markdown)$/.test(name) && !/^(licen[cs]e|notice|copying)/i.test(name);
  const dropDir = new Set(['test', 'tests', '__tests__', 'bench', 'benchmark', 'benchmarks', 'docs', 'example', 'examples', '.github']);
  prune(join(app, 'node_modules'), dropFile, dropDir);
}

/** A gzipped tar of `dir`'s TOP folder: sorted, root-owned, dated to the last commit. */
function archive(dir) {
  const commitTime = spawnSync('git', ['log', '-1', '--format=%ct'], { cwd: root, encoding: 'utf8' }).stdout?.trim();
  const mtime = /^\d+$/.test(commitTime ?? '') ? commitTime : '0';
  const tar = spawnSync(
    'tar',
    ['--sort=name', '--owner=0', '--group=0', '--numeric-owner', `--mtime=@${mtime}`, '-C', dir, '-cf', '-', TOP],
    { maxBuffer: 512 * 1024 * 1024 },
  );
  if (tar.error !== undefined || tar.status !== 0) fail(`tar failed (GNU tar is needed): ${tar.error?.message ?? tar.stderr.toString()}`);
  return gzipSync(tar.stdout, { level: 9 });
}

function verify(file) {
  const checkStarted = Date.now();
  const entries = listTar(file);
  const problems = [];
  const has = (path) => entries.includes(`${TOP}/${path}`);
  const required = [
    'package.json',
    'LICENSE',
    'dist/src/cli/main.js',
    'dist/src/index.js',
    'dist/workers/worker.js',
    'dist/workers/entry.cjs',
    'dist/src/proto/executor.proto',
    'dist/src/proto/mesos.proto',
    ...[...Object.keys(manifest.dependencies), ...Object.keys(manifest.peerDependencies ?? {})].map((d) => `node_modules/${d}/package.json`),
  ];
  for (const path of required) if (!has(path)) problems.push(`missing ${path}`);
  const devOnly = Object.keys(manifest.devDependencies).filter((d) => !(d in (manifest.peerDependencies ?? {})));
  for (const entry of entries) {
    const path = entry.slice(TOP.length + 1);
    if (!entry.startsWith(`${TOP}/`)) problems.push(`${entry} is outside ${TOP}/`);
    else if (/^dist\/(test|bench)\//.test(path) || /^(test|bench|src|workers|scripts)\//.test(path)) problems.push(`${entry} is not run-time code`);
    else if (entry.endsWith('.map')) problems.push(`${entry} is a source map`);
    else if (/\.[cm]?ts$/.test(entry)) problems.push(`${entry} is TypeScript`);
    else if (devOnly.some((d) => path.startsWith(`node_modules/${d}/`))) problems.push(`${entry} belongs to a devDependency`);
  }
  if (problems.length > 0) fail(`${relative(process.cwd(), file)} is not laid out as docs/cluster.md says:\n  ${problems.slice(0, 20).join('\n  ')}`);

  // It runs on its own: extracted elsewhere, away from the repository's node_modules.
  const where = mkdtempSync(join(tmpdir(), 'mpe-package-check-'));
  try {
    run('tar', ['-xzf', file, '-C', where]);
    const main = join(where, TOP, 'dist', 'src', 'cli', 'main.js');
    const version = run(process.execPath, [main, '--version'], { capture: true }).trim();
    if (!version.includes(manifest.version)) fail(`--version printed ${JSON.stringify(version)}, not ${manifest.version}`);
    for (const encoding of ['protobuf', 'json']) {
      run(process.execPath, [main, 'local', '-n', '8', '--job', 'noop', '--threads', '1', '--content-type', encoding, '--no-progress', '-q', '--timeout', '60'], {
        cwd: where,
        capture: true,
      });
    }
  } finally {
    rmSync(where, { recursive: true, force: true });
  }
  console.log(`check: ${entries.length} entries laid out as documented; the extracted copy ran 'local' in both encodings (${seconds(checkStarted)})`);
}

function listTar(file) {
  const tar = spawnSync('tar', ['-tf', '-'], { input: gunzipSync(readFileSync(file)), maxBuffer: 64 * 1024 * 1024, encoding: 'utf8' });
  if (tar.status !== 0) fail(`cannot list ${file}: ${tar.stderr}`);
  return tar.stdout.split('\n').filter((l) => l !== '' && !l.endsWith('/'));
}

/** Removes, under `dir`, the files `dropFile` names and the directories in `dropDirs`. */
function prune(dir, dropFile, dropDirs = new Set()) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      // Only a package's own folders: node_modules/x/test, never a package named "test".
      if (dropDirs.has(entry.name) && existsSync(join(dir, 'package.json'))) rmSync(path, { recursive: true, force: true });
      else prune(path, dropFile, dropDirs);
    } else if (dropFile(entry.name)) {
      rmSync(path);
    }
  }
}

function listFiles(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? listFiles(join(dir, e.name)) : [join(dir, e.name)]));
}

function run(command, argv, { cwd = root, capture = false } = {}) {
  const result = spawnSync(command, argv, { cwd, stdio: capture ? ['ignore', 'pipe', 'pipe'] : 'inherit', encoding: 'utf8' });
  if (result.error !== undefined || result.status !== 0) {
    const output = capture ? `\n${result.stdout ?? ''}${result.stderr ?? ''}`.trimEnd() : '';
    fail(`${[command, ...argv].join(' ')} failed (${result.error?.message ?? `exit ${result.status}`})${output}`);
  }
  return result.stdout ?? '';
}

function fail(message) {
  throw new PackageError(message);
}

function formatBytes(n) {
  return n >= 1024 * 1024 ? `${(n / 1024 / 1024).toFixed(1)} MB` : `${Math.ceil(n / 1024)} kB`;
}

function seconds(since) {
  return `${((Date.now() - since) / 1000).toFixed(1)} s`;
}
