// Runs the compiled test files with Node's test runner. Node 20's `--test` takes no globs,
// so the files are listed here.
// Usage: node scripts/run-tests.mjs [--dist DIR] [filter...]
//   filter: keep only test files whose path (relative to DIR/test) contains one of the words.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
let dist = join(root, 'dist');
const distAt = args.indexOf('--dist');
if (distAt !== -1) {
  dist = resolve(root, args[distAt + 1]);
  args.splice(distAt, 2);
}
const base = join(dist, 'test');

function collect(dir) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...collect(path));
    else if (name.endsWith('.test.js')) out.push(path);
  }
  return out;
}

const files = collect(base).filter((f) => args.length === 0 || args.some((a) => relative(base, f).includes(a)));
if (files.length === 0) {
  console.error(`no test files under ${relative(root, base)} match ${args.join(' ') || '(all)'}`);
  process.exit(1);
}
const result = spawnSync(process.execPath, ['--test', '--test-reporter=spec', ...files], {
  stdio: 'inherit',
  cwd: root,
});
process.exit(result.status ?? 1);
