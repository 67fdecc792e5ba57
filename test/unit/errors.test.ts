import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ERROR_CODES, MesosExecutorError } from '../../src/errors.js';
import { repoRoot } from '../helpers/repo-root.js';

const README = readFileSync(join(repoRoot, 'README.md'), 'utf8');

describe('error codes', () => {
  const codes = Object.keys(ERROR_CODES);

  it('are named MPE_ and described', () => {
    for (const code of codes) {
      assert.match(code, /^MPE_[A-Z_]+$/);
      assert.ok(ERROR_CODES[code as keyof typeof ERROR_CODES].length > 10, code);
    }
  });

  it('are each documented in the README errors table', () => {
    const table = README.slice(README.indexOf('## Errors'));
    for (const code of codes) assert.ok(table.includes(`\`${code}\``), `${code} is not in the README's Errors section`);
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
