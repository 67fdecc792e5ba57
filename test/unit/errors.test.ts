import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ERROR_CODES, MesosExecutorError } from '../../src/errors.js';
import { repoRoot } from '../helpers/repo-root.js';

const ERRORS_PAGE = readFileSync(join(repoRoot, 'docs', 'errors.md'), 'utf8');

describe('error codes', () => {
  const codes = Object.keys(ERROR_CODES);

  it('are named MPE_ and described', () => {
    for (const code of codes) {
      assert.match(code, /^MPE_[A-Z_]+$/);
      assert.ok(ERROR_CODES[code as keyof typeof ERROR_CODES].length > 10, code);
    }
  });

  it('are each documented in the errors table of docs/errors.md', () => {
    // The first cell of each row names the codes it describes.
    const documented = ERRORS_PAGE.split('\n').filter((line) => line.startsWith('| `')).map((row) => row.split('|')[1]!);
    for (const code of codes) assert.ok(documented.some((cell) => cell.includes(`\`${code}\``)), `${code} is not in the table of docs/errors.md`);
  });

  it('carry their code, name and cause', () => {
    const cause = new Error('root');
    const error = new MesosExecutorError('MPE_DECODE', 'bad bytes', { cause });
    assert.equal(error.code, 'MPE_DECODE');
    assert.equal(error.name, 'MesosExecutorError');
    assert.equal(error.cause, cause);
    assert.ok(error instanceof Error);
  });
});
