import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { parsePayload, taskMemoryMb, unknownJobMessage } from '../../src/pool/payload.js';
import { PayloadError } from '../../src/pool/errors.js';
import { task } from '../helpers/pool-tasks.js';

const JOBS: ReadonlySet<string> = new Set(['noop', 'primes', 'fail', 'spin']);
const bytes = (text: string): Uint8Array => Buffer.from(text, 'utf8');

function refused(data: Uint8Array | undefined, code: string, message: string | RegExp, max?: number): void {
  assert.throws(
    () => parsePayload(data, JOBS, max),
    (error: unknown) => {
      assert.ok(error instanceof PayloadError);
      assert.equal(error.code, code);
      if (typeof message === 'string') assert.equal(error.message, message);
      else assert.match(error.message, message);
      return true;
    },
  );
}

describe('parsePayload', () => {
  it('accepts {job, input} and {job}', () => {
    assert.deepEqual(parsePayload(bytes('{"job":"primes","input":{"limit":10}}'), JOBS), { job: 'primes', input: { limit: 10 } });
    assert.deepEqual(parsePayload(bytes('{"job":"noop"}'), JOBS), { job: 'noop', input: undefined });
    assert.deepEqual(parsePayload(bytes('{"job":"noop","input":null}'), JOBS), { job: 'noop', input: null });
  });

  it('refuses a task without data', () => {
    refused(undefined, 'MPE_INVALID_PAYLOAD', 'task has no data: expected UTF-8 JSON {"job": <name>, "input": <any JSON>}');
    refused(new Uint8Array(0), 'MPE_INVALID_PAYLOAD', /^task has no data/);
  });

  it('refuses data over the limit before decoding it', () => {
    refused(bytes('{"job":"noop","input":"' + 'x'.repeat(100) + '"}'), 'MPE_PAYLOAD_TOO_LARGE', 'task data is 125 bytes, over the limit of 64 bytes', 64);
    // Exactly at the limit is fine.
    const exact = bytes('{"job":"noop"}');
    assert.equal(parsePayload(exact, JOBS, exact.byteLength).job, 'noop');
  });

  it('refuses invalid UTF-8', () => {
    refused(new Uint8Array([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]), 'MPE_INVALID_PAYLOAD', 'task data is not valid UTF-8');
  });

  it('refuses invalid JSON, quoting the parser', () => {
    refused(bytes('{"job": "noop",'), 'MPE_INVALID_PAYLOAD', /^task data is not valid JSON: /);
    refused(bytes('job=noop'), 'MPE_INVALID_PAYLOAD', /^task data is not valid JSON: /);
  });

  it('refuses JSON that is not an object', () => {
    refused(bytes('[1,2]'), 'MPE_INVALID_PAYLOAD', 'task data must be a JSON object {"job": <name>, "input": <any JSON>}, got an array');
    refused(bytes('null'), 'MPE_INVALID_PAYLOAD', /, got null$/);
    refused(bytes('"noop"'), 'MPE_INVALID_PAYLOAD', /, got a string$/);
    refused(bytes('42'), 'MPE_INVALID_PAYLOAD', /, got a number$/);
  });

  it('refuses a missing or non-string job', () => {
    refused(bytes('{"input":1}'), 'MPE_INVALID_PAYLOAD', 'task data has no "job" field; expected {"job": <name>, "input": <any JSON>}');
    refused(bytes('{"job":7}'), 'MPE_INVALID_PAYLOAD', 'task data\'s "job" must be a string, got a number');
    refused(bytes('{"job":null}'), 'MPE_INVALID_PAYLOAD', 'task data\'s "job" must be a string, got null');
    refused(bytes('{"job":["noop"]}'), 'MPE_INVALID_PAYLOAD', 'task data\'s "job" must be a string, got an array');
  });

  it('refuses an unknown job, listing the known ones', () => {
    refused(bytes('{"job":"primes2"}'), 'MPE_UNKNOWN_JOB', 'unknown job "primes2"; known: fail, noop, primes, spin');
    refused(bytes('{"job":""}'), 'MPE_UNKNOWN_JOB', 'unknown job ""; known: fail, noop, primes, spin');
  });

  it('echoes at most 100 bytes of an unknown job name, cut on a code-point boundary', () => {
    const name = 'x'.repeat(200_000);
    refused(bytes(JSON.stringify({ job: name })), 'MPE_UNKNOWN_JOB', `unknown job "${'x'.repeat(97)}…" (200000 characters); known: fail, noop, primes, spin`);
    // 96 bytes of x, then 😀 (4 bytes): the pair is not split, the cut comes before it.
    const emoji = `${'x'.repeat(96)}😀${'y'.repeat(10)}`;
    refused(bytes(JSON.stringify({ job: emoji })), 'MPE_UNKNOWN_JOB', `unknown job "${'x'.repeat(96)}…" (108 characters); known: fail, noop, primes, spin`);
    // Exactly 100 bytes: echoed whole.
    const exact = `${'x'.repeat(96)}😀`;
    refused(bytes(JSON.stringify({ job: exact })), 'MPE_UNKNOWN_JOB', `unknown job "${exact}"; known: fail, noop, primes, spin`);
  });

  it('never resolves a job through the prototype chain or as a path', () => {
    for (const name of ['constructor', 'toString', '__proto__', 'hasOwnProperty', '../../etc/passwd', 'file:///tmp/x.js', 'node:fs']) {
      refused(bytes(JSON.stringify({ job: name })), 'MPE_UNKNOWN_JOB', /^unknown job /);
    }
  });

  it('refuses unexpected fields, including __proto__, and pollutes nothing', () => {
    refused(bytes('{"job":"noop","inputs":{}}'), 'MPE_INVALID_PAYLOAD', 'task data has an unexpected field "inputs"; expected {"job": <name>, "input": <any JSON>}');
    refused(bytes('{"job":"noop","__proto__":{"polluted":true}}'), 'MPE_INVALID_PAYLOAD', /unexpected field "__proto__"/);
    const nested = parsePayload(bytes('{"job":"noop","input":{"__proto__":{"polluted":true}}}'), JOBS);
    assert.equal(Object.getPrototypeOf(nested.input), Object.prototype);
    assert.ok(Object.hasOwn(nested.input as object, '__proto__'));
    assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
  });

  it('lists at most 20 known jobs', () => {
    const many = new Set(Array.from({ length: 25 }, (_, i) => `job${String(i).padStart(2, '0')}`));
    const message = unknownJobMessage('x', many);
    assert.match(message, /^unknown job "x"; known: job00, job01, .*job19, … \(5 more\)$/);
    assert.equal(unknownJobMessage('x', []), 'unknown job "x"; known: (none)');
  });
});

describe('taskMemoryMb', () => {
  it('reads the mem resource, rounded up, summing several entries', () => {
    assert.equal(taskMemoryMb(task('a', {})), undefined);
    assert.equal(taskMemoryMb(task('a', {}, { memMb: 31.2 })), 32);
    const t = task('a', {});
    t.resources = [
      { name: 'cpus', type: 'SCALAR', scalar: { value: 1 } },
      { name: 'mem', type: 'SCALAR', scalar: { value: 64 } },
      { name: 'mem', type: 'SCALAR', scalar: { value: 32 } },
    ];
    assert.equal(taskMemoryMb(t), 96);
    t.resources = [{ name: 'mem', type: 'SCALAR', scalar: { value: 0 } }];
    assert.equal(taskMemoryMb(t), undefined);
  });
});
