// local's human summary: within 80 columns (fields wrap under their label, what cannot wrap is cut
// with "…"), one style for figures (ms and tasks/s to 3 significant digits), "… and N more", and
// the metrics line read after shutdown compared with the states.
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { ALL_AT_ONCE } from '../../src/cli/local/allocator.js';
import { cut, field, keep, listField, OUTPUT_WIDTH, wrap } from '../../src/cli/local/fit.js';
import { formatMs, formatRate, sig3 } from '../../src/cli/local/latency.js';
import type { LocalRunResult } from '../../src/cli/local/run-local.js';
import { formatSummary } from '../../src/cli/local/summary.js';

const LONG_MESSAGE = `the job ${'really-long-job-name-'.repeat(6)} threw: ${'a reason that goes on '.repeat(8)}`;

function result(overrides: Partial<LocalRunResult> = {}): LocalRunResult {
  return {
    tasks: 30,
    wallMs: 10_623.4,
    startupMs: 233.71,
    subscribed: true,
    byState: new Map([
      ['TASK_FINISHED', 5],
      ['TASK_FAILED', 25],
    ]),
    unexpected: Array.from({ length: 20 }, (_, i) => ({ taskId: `task-${i + 1}`, state: 'TASK_FAILED', message: LONG_MESSAGE })),
    unexpectedCount: 25,
    outcomes: [],
    executorPid: 1234,
    sandboxDir: '/tmp/sandbox',
    unfinished: 0,
    launchToRunningMs: [0.0123, 6.3, 179.4, 5283],
    launchToEndMs: [12.345, 10_623],
    executorExit: { code: 0, signal: null },
    executorStderrTail: [`{"level":50,"msg":"${'x'.repeat(200)}"}`],
    timedOut: false,
    interrupted: false,
    counters: { accepted: 90, duplicates: 0, acksSent: 90 } as LocalRunResult['counters'],
    metricsUrl: 'http://127.0.0.1:46339/metrics',
    metrics: {
      url: 'http://127.0.0.1:46339/metrics',
      launched: 30,
      updates: new Map([
        ['TASK_STARTING', 30],
        ['TASK_RUNNING', 30],
        ['TASK_FINISHED', 5],
        ['TASK_FAILED', 25],
      ]),
      unacknowledged: 0,
    },
    wire: { calls: 'application/x-protobuf', events: 'application/x-protobuf' },
    refused: [
      { type: 'UPDATE', status: 503, reason: '503 Service Unavailable.', count: 2 },
      { type: 'UPDATE', status: 400, reason: `Failed to validate executor::Call: ${'e'.repeat(150)}`, count: 1 },
    ],
    launch: ALL_AT_ONCE,
    ok: false,
    ...overrides,
  };
}

const columns = (text: string): number[] => text.split('\n').map((line) => [...line].length);

describe('local summary: 80 columns', () => {
  it('no line is wider than 80 columns, whatever the messages, reasons, stderr and title', () => {
    const text = formatSummary(result(), { title: `Summary of ${'job-'.repeat(40)}`, expect: 'TASK_FINISHED' });
    assert.equal(OUTPUT_WIDTH, 80);
    const widths = columns(text);
    assert.ok(Math.max(...widths) <= 80, `widest line ${Math.max(...widths)}:\n${text}`);
    // The cut lines say so, and keep their start.
    assert.match(text, /\n {2}! task-1: TASK_FAILED — the job really-long-job-name-[^\n]*…\n/);
    assert.match(text, /\n {2}\| \{"level":50,"msg":"x+…\n/);
    assert.match(text, /\n {2}refused calls {4}2 × UPDATE 503 503 Service Unavailable\.\n {19}1 × UPDATE 400 Failed to validate[^\n]*…\n/);
  });

  it('a field too long for one line wraps under its label; words kept together stay together', () => {
    const text = formatSummary(result(), { title: 'Summary', expect: 'TASK_FINISHED' });
    const metrics = text.slice(text.indexOf('  metrics'), text.indexOf('  executor  '));
    assert.match(metrics, /^ {2}metrics {10}http:\/\/127\.0\.0\.1:46339\/metrics after shutdown: 30 launched;\n {19}updates TASK_STARTING 30, TASK_RUNNING 30, TASK_FINISHED 5,\n {19}TASK_FAILED 25\n$/);
  });

  it('"… and N more" after the 20 tasks listed', () => {
    const text = formatSummary(result(), { title: 'Summary', expect: 'TASK_FINISHED' });
    assert.equal(text.match(/\n {2}! task-\d+: /g)?.length, 20);
    assert.match(text, /\n {2}… and 5 more\n/);
  });
});

describe('local summary: one style for figures', () => {
  it('every duration in ms and every rate in tasks/s, to 3 significant digits', () => {
    const text = formatSummary(result(), { title: 'Summary', expect: 'TASK_FINISHED' });
    assert.match(text, /\n {2}tasks {12}30\/30 ended in 10600 ms → 2\.82 tasks\/s\n/);
    assert.match(text, /\n {2}executor start {3}subscribed 234 ms after launch\n/);
    assert.match(text, /\n {2}LAUNCH→RUNNING {3}p50 6\.30 ms, p95 5280 ms, p99 5280 ms, max 5280 ms\n/);
    assert.match(text, /\n {2}LAUNCH→terminal {2}p50 12\.3 ms, p95 10600 ms, p99 10600 ms, max 10600 ms\n/);
    // No other unit for time or rate anywhere in the summary.
    assert.doesNotMatch(text, /\d ?(s|µs|sec|seconds)\b(?!\/)/);
  });

  it('sig3 never uses an exponent', () => {
    assert.deepEqual([0.0123, 0.5, 6.3, 12.345, 179.4, 999.6, 5283, 10_623, 1_234_567, 0].map(sig3), ['0.0123', '0.500', '6.30', '12.3', '179', '1000', '5280', '10600', '1230000', '0']);
    assert.equal(formatMs(0.25), '0.250 ms');
    assert.equal(formatRate(37.71), '37.7 tasks/s');
  });
});

describe('local summary: the metrics after shutdown', () => {
  it('a clean stop whose metrics disagree with the states is flagged; an unclean one is not compared', () => {
    const metrics = { ...result().metrics!, updates: new Map([['TASK_FINISHED', 4]]) };
    const clean = formatSummary(result({ metrics }), { title: 'Summary', expect: 'TASK_FINISHED' });
    assert.match(clean, /\n {2}! metrics count 4 TASK_FINISHED updates, the agent saw 5 tasks end so\n/);
    assert.match(clean, /\n {2}! metrics count 0 TASK_FAILED updates, the agent saw 25 tasks end so\n/);
    const killed = formatSummary(result({ metrics, executorExit: { code: 1, signal: null } }), { title: 'Summary', expect: 'TASK_FINISHED' });
    assert.doesNotMatch(killed, /! metrics count/);
    const agree = formatSummary(result(), { title: 'Summary', expect: 'TASK_FINISHED' });
    assert.doesNotMatch(agree, /! metrics count/);
  });

  it('without final metrics (the executor was killed) the endpoint is named and why there are none', () => {
    const text = formatSummary(result({ metrics: undefined, executorExit: { code: null, signal: 'SIGKILL' } }), { title: 'Summary', expect: 'TASK_FINISHED' });
    assert.match(text, /\n {2}metrics {10}http:\/\/127\.0\.0\.1:46339\/metrics \(no final metrics: the\n {19}executor did not stop cleanly\)\n/);
  });
});

describe('fitting lines', () => {
  it('cut: to the width with "…", newlines shown as \\n', () => {
    assert.equal(cut('abc', 3), 'abc');
    assert.equal(cut('abcd', 3), 'ab…');
    assert.equal(cut('one\ntwo', 80), 'one\\ntwo');
    assert.equal([...cut('é'.repeat(100), 10)].length, 10);
  });
  it('wrap: at spaces, continuation lines indented, a word wider than a line broken, nothing lost', () => {
    assert.deepEqual(wrap('> ', 'aaa bbb ccc', '  ', 9), ['> aaa bbb', '  ccc']);
    assert.deepEqual(wrap('> ', `x ${'y'.repeat(20)} z`, '  ', 9), ['> x', '  yyyyyyy', '  yyyyyyy', '  yyyyyy', '  z']);
    assert.deepEqual(wrap('', 'a/very/long/path', '  ', 8), ['a/very/l', '  ong/pa', '  th']);
    assert.deepEqual(wrap('> ', `${keep('p50', '6.30', 'ms')} ${keep('p95', '7.10', 'ms')}`, '  ', 14), ['> p50 6.30 ms', '  p95 7.10 ms']);
  });
  it('field and listField: the text starts in column 20', () => {
    assert.deepEqual(field('tasks', '3/3 ended'), ['  tasks            3/3 ended']);
    assert.deepEqual(listField('refused calls', ['a', 'b']), ['  refused calls    a', '                   b']);
  });
});
