import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function findUp(start: string): string | undefined {
  for (let dir = start; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) return undefined;
  }
}

/** The folder holding package.json: above this file when built into dist/, else above the cwd. */
export const repoRoot: string =
  findUp(dirname(fileURLToPath(import.meta.url))) ??
  findUp(process.cwd()) ??
  (() => {
    throw new Error('cannot find the repository root (no package.json above the test or the cwd)');
  })();
