// Runs the compiled test files with Node's test runner. Node 20's `--test` takes no globs,
// so the files are listed here. An optional argument keeps only files under that folder
// of dist/test (e.g. `unit`, `integration`).
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const base = join(root, 'dist', 'test', process.argv[2] ?? '');

function collect(dir) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...collect(path));
    else if (name.endsWith('.test.js')) out.push(path);
  }
  return out;
}

const files = collect(base);
if (files.length === 0) {
  console.error(`no test files under ${relative(root, base)}`);
  process.exit(1);
}
const result = spawnSync(process.execPath, ['--test', '--test-reporter=spec', ...files], {
  stdio: 'inherit',
  cwd: root,
});
process.exit(result.status ?? 1);
