// `local --payloads <file>`: a line may carry health_check and check (Mesos JSON), which become
// TaskInfo fields while the rest of the line is the payload.
import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { workloadFromFile } from '../../src/cli/local/workload.js';

const dir = mkdtempSync(join(tmpdir(), 'mpe-workload-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function file(lines: string[]): string {
  const path = join(dir, `w-${Math.random().toString(36).slice(2)}.jsonl`);
  writeFileSync(path, lines.join('\n'));
  return path;
}

describe('workloadFromFile', () => {
  it('takes health_check and check off a line into TaskInfo fields; the rest is the payload', () => {
    const items = workloadFromFile(
      file([
        '{"job":"sleep","input":{"ms":5000},"health_check":{"type":"HTTP","http":{"port":8080,"path":"/health"},"consecutive_failures":2}}',
        '{"job":"noop","check":{"type":"TCP","tcp":{"port":9000},"interval_seconds":1}}',
        '{"job":"noop"}',
        'not json',
      ]),
    );
    assert.deepEqual(items.map((i) => [i.job, i.data.toString()]), [
      ['sleep', '{"job":"sleep","input":{"ms":5000}}'],
      ['noop', '{"job":"noop"}'],
      ['noop', '{"job":"noop"}'],
      ['(invalid)', 'not json'],
    ]);
    assert.deepStrictEqual(items[0]!.healthCheck, { type: 'HTTP', http: { port: 8080, path: '/health' }, consecutive_failures: 2 });
    assert.equal(items[0]!.check, undefined);
    assert.deepStrictEqual(items[1]!.check, { type: 'TCP', tcp: { port: 9000 }, interval_seconds: 1 });
    assert.equal(items[2]!.healthCheck, undefined);
  });

  it('a health_check that is not a HealthCheck in Mesos JSON names the line', () => {
    assert.throws(() => workloadFromFile(file(['{"job":"noop"}', '{"job":"noop","health_check":{"delay_seconds":"soon"}}'])), {
      code: 'MPE_INVALID_OPTION',
      message: /line 2: health_check: /,
    });
  });
});
