// What `npm pack` would publish: the file list of `npm pack --dry-run --json`, checked for what a
// user needs (every entry point, the workers, the .proto assets), for what they must not get
// (tests, benchmarks, sources, source maps) and for size. `--ignore-scripts` because `prepack`
// rebuilds dist/ (the tests run from it); the list is the same: `files` drops the maps the test
// build has and the published build (`npm run build:lib`) does not make.
import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, normalize } from 'node:path';
import { before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { repoRoot } from '../helpers/repo-root.js';

/**
 * Bounds with room to grow, tight enough that a stray folder (dist/test alone is ~2 MB) breaks
 * them. Measured with batch tasks and the offers-driven `local`: 304 KB packed, 1.02 MB
 * unpacked, 268 files.
 */
const MAX_PACKED_BYTES = 400_000;
const MAX_UNPACKED_BYTES = 1_500_000;
const MAX_FILES = 340;

interface PackResult {
  size: number;
  unpackedSize: number;
  entryCount: number;
  files: { path: string; size: number }[];
}

interface Manifest {
  name: string;
  main: string;
  types: string;
  bin: Record<string, string>;
  exports: unknown;
  dependencies: Record<string, string>;
  peerDependencies: Record<string, string>;
}

const manifest = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as Manifest;
const clean = (path: string): string => normalize(path).replace(/^\.\//, '');

/** Every string target of an `exports` map (conditions and subpaths, nested). */
function exportTargets(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (value === null || typeof value !== 'object') return [];
  return Object.values(value).flatMap(exportTargets);
}

/**
 * The specifiers of a compiled module's static imports, re-exports and dynamic imports of literals.
 * Comments go first: doc comments quote examples (`from 'mesos-pool-executor'`) and prose.
 */
function specifiers(source: string): string[] {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  const found: string[] = [];
  for (const match of code.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)(['"])([^'"]+)\1/gm)) found.push(match[2]!);
  return found;
}

/** `@scope/name/sub` → `@scope/name`; `name/sub` → `name`. */
function packageName(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}

describe('npm pack', () => {
  let pack: PackResult;
  let paths: Set<string>;

  before(async () => {
    const { stdout } = await promisify(execFile)('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
      cwd: repoRoot,
      maxBuffer: 16 * 1024 * 1024,
    });
    const results = JSON.parse(stdout) as PackResult[];
    assert.equal(results.length, 1);
    pack = results[0]!;
    paths = new Set(pack.files.map((f) => f.path));
  });

  it('holds main, types, every bin and every exports target', () => {
    const targets = [manifest.main, manifest.types, ...Object.values(manifest.bin), ...exportTargets(manifest.exports)];
    assert.ok(targets.length >= 4);
    for (const target of targets) assert.ok(paths.has(clean(target)), `${target} is not in the package`);
  });

  it('holds the workers, the .proto files the codec loads at run time, the licence and the readme', () => {
    for (const path of [
      'dist/workers/worker.js',
      'dist/workers/entry.cjs',
      'dist/workers/job.d.ts',
      'dist/src/proto/executor.proto',
      'dist/src/proto/mesos.proto',
      'LICENSE',
      'README.md',
      'package.json',
    ]) {
      assert.ok(paths.has(path), `${path} is not in the package`);
    }
  });

  it('has the bin start with a node shebang', () => {
    const bin = readFileSync(join(repoRoot, clean(manifest.bin['mesos-pool-executor']!)), 'utf8');
    assert.match(bin, /^#!\/usr\/bin\/env node\n/);
  });

  it('leaves out tests, benchmarks, scripts, TypeScript sources and source maps', () => {
    const unwanted = [...paths].filter(
      (p) =>
        /^(test|bench|scripts|src|workers|\.ci|artifacts|dist\/test|dist\/bench)\//.test(p) ||
        p.endsWith('.map') ||
        (p.endsWith('.ts') && !p.endsWith('.d.ts')) ||
        p.endsWith('.tsbuildinfo') ||
        p.startsWith('tsconfig'),
    );
    assert.deepEqual(unwanted, []);
  });

  it('only imports files it ships, and packages it depends on', () => {
    // A module may also import the package by its own name (`exports` makes that resolve).
  const runtime = new Set([manifest.name, ...Object.keys(manifest.dependencies), ...Object.keys(manifest.peerDependencies)]);
    const builtins = new Set(builtinModules);
    const problems: string[] = [];
    let checked = 0;
    for (const path of paths) {
      if (!path.endsWith('.js') && !path.endsWith('.d.ts')) continue;
      checked++;
      for (const specifier of specifiers(readFileSync(join(repoRoot, path), 'utf8'))) {
        if (specifier.startsWith('.')) {
          const target = join(dirname(path), specifier);
          if (!paths.has(target)) problems.push(`${path} imports ${specifier}, which is not in the package`);
        } else if (!specifier.startsWith('node:') && !builtins.has(specifier) && !runtime.has(packageName(specifier))) {
          problems.push(`${path} imports ${specifier}, which is not a dependency or peer dependency`);
        }
      }
    }
    assert.ok(checked > 50, `only ${checked} modules checked`);
    assert.deepEqual(problems, []);
  });

  it(`stays small: under ${MAX_PACKED_BYTES} bytes packed, ${MAX_UNPACKED_BYTES} unpacked, ${MAX_FILES} files`, () => {
    assert.ok(pack.size < MAX_PACKED_BYTES, `packed ${pack.size} bytes`);
    assert.ok(pack.unpackedSize < MAX_UNPACKED_BYTES, `unpacked ${pack.unpackedSize} bytes`);
    assert.ok(pack.entryCount < MAX_FILES, `${pack.entryCount} files`);
  });
});
