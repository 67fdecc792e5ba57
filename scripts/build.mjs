// Compiles the project and copies run-time assets (the .proto files) beside the output.
// Usage: node scripts/build.mjs [outDir]   (default: dist). A separate outDir lets several
// builds run side by side without clobbering each other.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outDir = resolve(root, process.argv[2] ?? 'dist');
rmSync(outDir, { recursive: true, force: true });

const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
const result = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.json'), '--outDir', outDir], {
  stdio: 'inherit',
});

const assets = [{ from: 'src/proto', ext: '.proto' }];
for (const { from, ext } of assets) {
  const target = join(outDir, from);
  mkdirSync(target, { recursive: true });
  for (const name of readdirSync(join(root, from))) {
    if (name.endsWith(ext)) cpSync(join(root, from, name), join(target, name));
  }
}
process.exit(result.status ?? 1);
