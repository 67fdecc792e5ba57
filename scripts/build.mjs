// Compiles the project and copies run-time assets (the .proto files) beside the output.
// Usage: node scripts/build.mjs [--lib] [outDir]   (default: dist)
//   --lib: the published build (tsconfig.build.json): src/ and workers/ only, no tests, benchmarks
//          or source maps. `prepack` and `npm run package` use it.
// A separate outDir lets several builds run side by side without clobbering each other.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const lib = args.includes('--lib');
const positional = args.filter((a) => a !== '--lib');
if (positional.some((a) => a.startsWith('-')) || positional.length > 1) {
  console.error('usage: node scripts/build.mjs [--lib] [outDir]');
  process.exit(2);
}
const outDir = resolve(root, positional[0] ?? 'dist');
rmSync(outDir, { recursive: true, force: true });

const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
const project = join(root, lib ? 'tsconfig.build.json' : 'tsconfig.json');
const result = spawnSync(process.execPath, [tsc, '-p', project, '--outDir', outDir], { stdio: 'inherit' });

const assets = [{ from: 'src/proto', ext: '.proto' }];
for (const { from, ext } of assets) {
  const target = join(outDir, from);
  mkdirSync(target, { recursive: true });
  for (const name of readdirSync(join(root, from))) {
    if (name.endsWith(ext)) cpSync(join(root, from, name), join(target, name));
  }
}
process.exit(result.status ?? 1);
