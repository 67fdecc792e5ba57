// scrubInitialEnvironment: a variable erased from the kernel's copy of the environment
// (/proc/self/environ), the other entries intact. Run in a child process with its own environment.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { scrubInitialEnvironment } from '../../src/cli/scrub-environ.js';

const MODULE = new URL('../../src/cli/scrub-environ.js', import.meta.url).href;

describe('scrubInitialEnvironment', { skip: process.platform !== 'linux' ? 'Linux only' : false }, () => {
  it('erases every NAME= entry from /proc/self/environ and nothing else', () => {
    const script = `
      import { readFileSync } from 'node:fs';
      const { scrubInitialEnvironment } = await import(${JSON.stringify(MODULE)});
      delete process.env.MPE_SCRUB_ME;
      const result = scrubInitialEnvironment('MPE_SCRUB_ME');
      const environ = readFileSync('/proc/self/environ', 'latin1');
      process.stdout.write(JSON.stringify({ result, secret: environ.includes('s3cr3t'), keep: environ.includes('MPE_KEEP=MPE_SCRUB_ME=not-a-key') }));
    `;
    const out = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      env: { PATH: process.env['PATH'], MPE_KEEP: 'MPE_SCRUB_ME=not-a-key', MPE_SCRUB_ME: 's3cr3t' },
      encoding: 'utf8',
    });
    assert.equal(out.status, 0, out.stderr);
    assert.deepEqual(JSON.parse(out.stdout), { result: { kind: 'scrubbed', entries: 1 }, secret: false, keep: true });
  });

  it('reports a variable that is not there as absent', () => {
    assert.deepEqual(scrubInitialEnvironment('MPE_NO_SUCH_VARIABLE_12345'), { kind: 'absent' });
  });
});
