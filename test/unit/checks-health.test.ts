// Health interpretation (upstream's HealthChecker) and a task's checks end to end on the fake
// clock with scripted probes: what updates go out, with which fields, and when the kill comes.
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { HealthJudge, statusFailure, TaskChecks, type CheckedStatus, type ProbeOutcome } from '../../src/checks/index.js';
import type { CheckInfo, HealthCheck } from '../../src/proto/types.js';
import { FakeClock } from '../helpers/fake-clock.js';

const pass: ProbeOutcome = { kind: 'result', status: { type: 'COMMAND', command: { exit_code: 0 } } };
const fail: ProbeOutcome = { kind: 'result', status: { type: 'COMMAND', command: { exit_code: 1 } } };
const timeout: ProbeOutcome = { kind: 'error', message: 'COMMAND health check timed out after 1secs' };

describe('HealthJudge', () => {
  it('reports the first success and the first after failures, not the others', () => {
    const judge = new HealthJudge({ gracePeriodMs: 0, consecutiveFailures: 3, startedAt: 0 });
    assert.deepEqual(judge.judge(pass, 1), { kind: 'passed', report: true });
    assert.deepEqual(judge.judge(pass, 2), { kind: 'passed', report: false });
    assert.equal(judge.judge(fail, 3).kind, 'failed');
    assert.deepEqual(judge.judge(pass, 4), { kind: 'passed', report: true });
  });

  it('counts consecutive failures (errors too) and asks for the kill at the limit; a success resets the count', () => {
    const judge = new HealthJudge({ gracePeriodMs: 0, consecutiveFailures: 2, startedAt: 0 });
    assert.deepEqual(judge.judge(fail, 1), { kind: 'failed', reason: 'Command exited with status 1', consecutiveFailures: 1, kill: false });
    judge.judge(pass, 2);
    assert.deepEqual(judge.judge(timeout, 3), { kind: 'failed', reason: timeout.message, consecutiveFailures: 1, kill: false });
    assert.deepEqual(judge.judge(fail, 4), { kind: 'failed', reason: 'Command exited with status 1', consecutiveFailures: 2, kill: true });
  });

  it('ignores failures within the grace period until the first success; after it the grace no longer applies', () => {
    const judge = new HealthJudge({ gracePeriodMs: 1_000, consecutiveFailures: 1, startedAt: 100 });
    assert.equal(judge.judge(fail, 100).kind, 'ignored');
    assert.equal(judge.judge(fail, 1_100).kind, 'ignored'); // the bound is inclusive, as upstream's <=
    assert.deepEqual(judge.judge(fail, 1_101), { kind: 'failed', reason: 'Command exited with status 1', consecutiveFailures: 1, kill: true });
    const early = new HealthJudge({ gracePeriodMs: 1_000, consecutiveFailures: 1, startedAt: 0 });
    early.judge(pass, 10);
    assert.equal(early.judge(fail, 20).kind, 'failed');
  });

  it('consecutive_failures 0 kills at the first counted failure', () => {
    assert.deepEqual(new HealthJudge({ gracePeriodMs: 0, consecutiveFailures: 0, startedAt: 0 }).judge(fail, 1), {
      kind: 'failed',
      reason: 'Command exited with status 1',
      consecutiveFailures: 1,
      kill: true,
    });
  });

  it('interprets results as upstream: exit 0, HTTP 200..399, a TCP connection', () => {
    assert.equal(statusFailure({ type: 'HTTP', http: { status_code: 200 } }), undefined);
    assert.equal(statusFailure({ type: 'HTTP', http: { status_code: 399 } }), undefined);
    assert.equal(statusFailure({ type: 'HTTP', http: { status_code: 404 } }), 'Unexpected HTTP response code: 404 Not Found');
    assert.equal(statusFailure({ type: 'HTTP', http: { status_code: 199 } }), 'Unexpected HTTP response code: 199');
    assert.equal(statusFailure({ type: 'TCP', tcp: { succeeded: false } }), 'TCP connection failed');
    assert.equal(statusFailure({ type: 'TCP', tcp: { succeeded: true } }), undefined);
  });
});

interface Harness {
  clock: FakeClock;
  checks: TaskChecks;
  sent: CheckedStatus[];
  kills: Array<{ consecutiveFailures: number }>;
  /** Queue the outcomes of the next probes of `kind`. */
  script(kind: 'check' | 'health', ...outcomes: ProbeOutcome[]): void;
  /** Advance time and let probe promises settle. */
  advance(ms: number): Promise<void>;
}

function harness(task: { check?: CheckInfo; health_check?: HealthCheck }): Harness {
  const clock = new FakeClock(0);
  const queues: Record<'check' | 'health', ProbeOutcome[]> = { check: [], health: [] };
  const sent: CheckedStatus[] = [];
  const kills: Array<{ consecutiveFailures: number }> = [];
  const checks = TaskChecks.for(
    task,
    {
      clock,
      sandboxDirectory: '/',
      environment: {},
      probe: (kind) => () => Promise.resolve(queues[kind].shift() ?? { kind: 'error', message: 'no scripted outcome' }),
    },
    { send: (s) => sent.push(s), kill: (info) => kills.push(info) },
  )!;
  return {
    clock,
    checks,
    sent,
    kills,
    script: (kind, ...outcomes) => queues[kind].push(...outcomes),
    async advance(ms) {
      for (let i = 0; i < ms; i += 10) {
        clock.tick(Math.min(10, ms - i));
        await new Promise((resolve) => setImmediate(resolve));
      }
    },
  };
}

const health = (extra: Partial<HealthCheck> = {}): HealthCheck => ({
  type: 'COMMAND',
  command: { value: 'true' },
  delay_seconds: 0.1,
  interval_seconds: 0.1,
  grace_period_seconds: 0,
  consecutive_failures: 2,
  ...extra,
});

describe('TaskChecks', () => {
  it('health: RUNNING update with healthy on the first result and on each change; every failure reported; kill at the limit', async () => {
    const h = harness({ health_check: health() });
    h.checks.outgoing({ state: 'TASK_STARTING' });
    h.checks.outgoing({ state: 'TASK_RUNNING' });
    h.checks.start(false);
    h.script('health', pass, pass, fail, pass, fail, fail);
    await h.advance(100);
    assert.deepEqual(h.sent, [{ state: 'TASK_RUNNING', reason: 'REASON_TASK_HEALTH_CHECK_STATUS_UPDATED', healthy: true }]);
    await h.advance(100); // a second success: silent
    assert.equal(h.sent.length, 1);
    await h.advance(400);
    assert.deepEqual(h.sent.map((s) => s.healthy), [true, false, true, false, false]);
    assert.deepEqual(h.kills.map((k) => k.consecutiveFailures), [2]);
    // Stopped at the kill: nothing more is probed or sent.
    await h.advance(1_000);
    assert.equal(h.sent.length, 5);
    assert.equal(h.clock.pending, 0);
    // The terminal update of a task killed by its health check says healthy = false, with no reason.
    assert.deepEqual(h.checks.outgoing({ state: 'TASK_KILLED', message: 'm' }), { state: 'TASK_KILLED', message: 'm', healthy: false });
  });

  it('failures in the grace period send nothing and do not count', async () => {
    const h = harness({ health_check: health({ grace_period_seconds: 0.25, consecutive_failures: 1 }) });
    h.checks.outgoing({ state: 'TASK_RUNNING' });
    h.checks.start(false);
    h.script('health', fail, fail, fail);
    await h.advance(200); // probes at 100 and 200: within the grace
    assert.equal(h.sent.length, 0);
    await h.advance(100); // 300: past it
    assert.deepEqual(h.sent.map((s) => s.healthy), [false]);
    assert.equal(h.kills.length, 1);
  });

  it('check: check_status on every update (empty before a result and on fresh updates), a CHECK_STATUS_UPDATED update on each change', async () => {
    const h = harness({ check: { type: 'COMMAND', command: { command: { value: 'x' } }, delay_seconds: 0.1, interval_seconds: 0.1, timeout_seconds: 1 } });
    const empty = { type: 'COMMAND', command: {} };
    assert.deepEqual(h.checks.outgoing({ state: 'TASK_STARTING' }), { state: 'TASK_STARTING', check_status: empty });
    assert.deepEqual(h.checks.outgoing({ state: 'TASK_RUNNING' }), { state: 'TASK_RUNNING', check_status: empty });
    h.checks.start(false);
    h.script('check', pass, pass, fail, timeout);
    await h.advance(400);
    assert.deepEqual(h.sent.map((s) => [s.reason, s.check_status]), [
      ['REASON_TASK_CHECK_STATUS_UPDATED', { type: 'COMMAND', command: { exit_code: 0 } }],
      ['REASON_TASK_CHECK_STATUS_UPDATED', { type: 'COMMAND', command: { exit_code: 1 } }],
      // A timeout is the empty result, a change too.
      ['REASON_TASK_CHECK_STATUS_UPDATED', empty],
    ]);
    // A progress update carries the latest result; a fresh one (KILLING, terminal) the empty one.
    h.script('check', fail);
    await h.advance(100);
    assert.deepEqual(h.checks.outgoing<CheckedStatus>({ state: 'TASK_RUNNING', message: 'half way' }).check_status, { type: 'COMMAND', command: { exit_code: 1 } });
    h.checks.stop();
    assert.deepEqual(h.checks.outgoing({ state: 'TASK_FINISHED' }), { state: 'TASK_FINISHED', check_status: empty });
  });

  it('a health update repeats the last update (its message and data) and keeps the check status; a check update keeps healthy', async () => {
    const h = harness({
      health_check: health({ delay_seconds: 0.1, interval_seconds: 10 }),
      check: { type: 'COMMAND', command: { command: { value: 'x' } }, delay_seconds: 0.2, interval_seconds: 10 },
    });
    h.checks.outgoing({ state: 'TASK_RUNNING' });
    h.checks.outgoing({ state: 'TASK_RUNNING', message: 'step 1', data: Buffer.from('d') });
    h.checks.start(false);
    h.script('health', pass);
    h.script('check', fail);
    await h.advance(200);
    assert.deepStrictEqual(h.sent, [
      { state: 'TASK_RUNNING', message: 'step 1', data: Buffer.from('d'), check_status: { type: 'COMMAND', command: {} }, reason: 'REASON_TASK_HEALTH_CHECK_STATUS_UPDATED', healthy: true },
      { state: 'TASK_RUNNING', message: 'step 1', data: Buffer.from('d'), check_status: { type: 'COMMAND', command: { exit_code: 1 } }, reason: 'REASON_TASK_CHECK_STATUS_UPDATED', healthy: true },
    ]);
    assert.equal(h.checks.outgoing<CheckedStatus>({ state: 'TASK_RUNNING', message: 'step 2' }).healthy, true);
  });

  it('pause stops probing; resume probes at once; stop ends it all', async () => {
    const h = harness({ health_check: health({ interval_seconds: 1 }) });
    h.checks.outgoing({ state: 'TASK_RUNNING' });
    h.checks.start(false);
    h.script('health', pass, fail, fail);
    await h.advance(100);
    h.checks.pause();
    await h.advance(5_000);
    assert.equal(h.sent.length, 1);
    h.checks.resume();
    await h.advance(10);
    assert.deepEqual(h.sent.map((s) => s.healthy), [true, false]);
    h.checks.stop();
    h.checks.resume();
    await h.advance(5_000);
    assert.equal(h.sent.length, 2);
    assert.equal(h.kills.length, 0);
  });

  it('a task with neither check gets no TaskChecks', () => {
    assert.equal(TaskChecks.for({}, { clock: new FakeClock(), sandboxDirectory: '/', environment: {} }, { send: () => {}, kill: () => {} }), undefined);
  });
});
