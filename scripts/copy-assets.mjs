// Copies non-TypeScript assets that the compiled code loads at run time (the .proto files)
// into dist/, keeping their relative paths.
import { cpSync, mkdirSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const assets = [{ from: 'src/proto', ext: '.proto' }];
for (const { from, ext } of assets) {
  const target = join(root, 'dist', from);
  mkdirSync(target, { recursive: true });
  for (const name of readdirSync(join(root, from))) {
    if (name.endsWith(ext)) cpSync(join(root, from, name), join(target, name));
  }
}
