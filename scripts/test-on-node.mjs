// Runs the compiled tests under another Node version, taken from the npm registry: the package
// `node-<platform>-<arch>` holds the official binary itself (the `node` package only fetches it
// from an install script, and lags behind), so this needs the registry and nothing else.
// Usage: node scripts/test-on-node.mjs <version> [filter...]   e.g. `20.18.1 unit`, `22 unit`
// Build first (`npm run build`, as `npm test` does): the tests run from dist/test. A download
// that fails, or a binary that is not the version asked for, fails the run: never a skip.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const [version, ...filters] = process.argv.slice(2);
if (version === undefined || !/^\d+(\.\d+){0,2}$/.test(version)) {
  console.error('usage: node scripts/test-on-node.mjs <version: 22, 22.12 or 20.18.1> [filter...]');
  process.exit(2);
}
if (!existsSync(join(root, 'dist', 'test'))) {
  console.error('test-on-node: dist/test is missing; run `npm run build` first');
  process.exit(2);
}

const pkg = `node-${process.platform}-${process.arch}`;
const where = mkdtempSync(join(tmpdir(), `mpe-node-${version}-`));
let status = 1;
try {
  const install = spawnSync(
    'npm',
    ['install', '--no-save', '--no-package-lock', '--no-audit', '--no-fund', '--ignore-scripts', '--loglevel=error', '--prefix', where, `${pkg}@${version}`],
    { stdio: 'inherit' },
  );
  if (install.error !== undefined || install.status !== 0) throw new Error(`npm could not install ${pkg}@${version}`);
  const node = join(where, 'node_modules', pkg, 'bin', 'node');
  const reported = spawnSync(node, ['--version'], { encoding: 'utf8' });
  const got = reported.stdout?.trim() ?? '';
  if (reported.status !== 0 || !`${got}.`.startsWith(`v${version}.`)) {
    throw new Error(`${pkg}@${version} gave a binary that reports ${JSON.stringify(got)} ${reported.error?.message ?? ''}`.trim());
  }
  console.log(`test-on-node: running ${filters.length > 0 ? filters.join(' ') : 'all'} tests on Node ${got}`);
  const tests = spawnSync(node, [join(root, 'scripts', 'run-tests.mjs'), ...filters], { stdio: 'inherit', cwd: root });
  status = tests.status ?? 1;
} catch (error) {
  console.error(`test-on-node: ${error instanceof Error ? error.message : String(error)}`);
} finally {
  rmSync(where, { recursive: true, force: true });
}
process.exit(status);
