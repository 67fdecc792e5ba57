import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { TaskLifecycle, type Effect, type KillCause, type Outcome } from '../../src/pool/task-state.js';
import { isTerminalState } from '../../src/proto/types.js';
import { seededRandom } from '../helpers/fake-clock.js';

const REQUEST: KillCause = { kind: 'request' };
const OK: Outcome = { kind: 'succeeded', data: new Uint8Array([0x31]) };

function statuses(effects: readonly Effect[]): string[] {
  return effects.flatMap((e) => (e.type === 'status' ? [e.state] : []));
}

function types(effects: readonly Effect[]): string[] {
  return effects.map((e) => (e.type === 'status' ? e.state : e.type));
}

function running(): TaskLifecycle {
  const lifecycle = new TaskLifecycle();
  lifecycle.accept();
  lifecycle.dispatch();
  lifecycle.started();
  return lifecycle;
}

describe('TaskLifecycle: the normal paths', () => {
  it('STARTING, RUNNING, FINISHED with the data', () => {
    const lifecycle = new TaskLifecycle();
    assert.deepEqual(statuses(lifecycle.accept()), ['TASK_STARTING']);
    assert.deepEqual(lifecycle.dispatch(), []);
    assert.deepEqual(statuses(lifecycle.started()), ['TASK_RUNNING']);
    assert.equal(lifecycle.acceptsProgress, true);
    const end = lifecycle.end(OK);
    assert.deepEqual(types(end), ['TASK_FINISHED', 'ended']);
    assert.deepEqual(end[0], { type: 'status', state: 'TASK_FINISHED', data: OK.kind === 'succeeded' ? OK.data : undefined });
    assert.equal(lifecycle.phase, 'ended');
    assert.equal(lifecycle.terminal, 'TASK_FINISHED');
    assert.equal(lifecycle.acceptsProgress, false);
  });

  it('a result that overtakes the "started" message still gets RUNNING first, and only once', () => {
    const lifecycle = new TaskLifecycle();
    lifecycle.accept();
    lifecycle.dispatch();
    assert.deepEqual(statuses(lifecycle.end(OK)), ['TASK_RUNNING', 'TASK_FINISHED']);
    assert.deepEqual(lifecycle.started(), []);
  });

  it('a failure carries its message and reason', () => {
    const lifecycle = running();
    const [status] = lifecycle.end({ kind: 'failed', message: 'out of memory', reason: 'REASON_CONTAINER_LIMITATION_MEMORY' });
    assert.deepEqual(status, { type: 'status', state: 'TASK_FAILED', message: 'out of memory', reason: 'REASON_CONTAINER_LIMITATION_MEMORY' });
  });
});

describe('TaskLifecycle: kills', () => {
  it('a queued task is KILLED at once and dequeued', () => {
    const lifecycle = new TaskLifecycle();
    lifecycle.accept();
    const effects = lifecycle.kill({ cause: REQUEST, graceMs: 3_000, now: 0, sendKilling: true });
    assert.deepEqual(types(effects), ['dequeue', 'TASK_KILLED', 'ended']);
    assert.match((effects[1] as { message: string }).message, /^killed on request before it started$/);
  });

  it('a running task: KILLING (when capable), abort, escalation armed at the grace deadline', () => {
    const lifecycle = running();
    const effects = lifecycle.kill({ cause: REQUEST, graceMs: 500, now: 100, sendKilling: true });
    assert.deepEqual(effects.map((e) => e.type), ['status', 'abortJob', 'armEscalation']);
    assert.deepEqual(statuses(effects), ['TASK_KILLING']);
    assert.deepEqual(effects[2], { type: 'armEscalation', at: 600 });
    assert.equal(lifecycle.acceptsProgress, false);
  });

  it('no KILLING without the capability', () => {
    const effects = running().kill({ cause: REQUEST, graceMs: 500, now: 0, sendKilling: false });
    assert.deepEqual(effects.map((e) => e.type), ['abortJob', 'armEscalation']);
  });

  it('a zero grace period escalates at once', () => {
    const effects = running().kill({ cause: REQUEST, graceMs: 0, now: 0, sendKilling: false });
    assert.deepEqual(effects.map((e) => e.type), ['abortJob', 'terminateWorker']);
  });

  it('a cooperative stop within the grace is KILLED, saying so', () => {
    const lifecycle = running();
    lifecycle.kill({ cause: REQUEST, graceMs: 500, now: 0, sendKilling: false });
    const effects = lifecycle.end({ kind: 'stopped', message: 'AbortError' });
    assert.deepEqual(statuses(effects), ['TASK_KILLED']);
    assert.match((effects[0] as { message: string }).message, /killed on request; the job stopped within its grace period/);
  });

  it('escalation: a stale timer does nothing; at the deadline, terminate once; then KILLED', () => {
    const lifecycle = running();
    lifecycle.kill({ cause: REQUEST, graceMs: 500, now: 0, sendKilling: false });
    assert.deepEqual(lifecycle.escalate(499), [{ type: 'armEscalation', at: 500 }]);
    assert.deepEqual(lifecycle.escalate(500), [{ type: 'terminateWorker' }]);
    assert.deepEqual(lifecycle.escalate(600), []);
    assert.deepEqual(lifecycle.kill({ cause: REQUEST, graceMs: 0, now: 700, sendKilling: true }), []);
    const effects = lifecycle.end({ kind: 'terminated' });
    assert.deepEqual(statuses(effects), ['TASK_KILLED']);
    assert.match((effects[0] as { message: string }).message, /did not stop within its 500 ms grace period, so its worker thread was terminated/);
  });

  it('a repeated kill only shrinks the grace, counted from the first kill', () => {
    const lifecycle = running();
    lifecycle.kill({ cause: REQUEST, graceMs: 3_000, now: 1_000, sendKilling: true });
    // Longer or equal: nothing (and no second KILLING).
    assert.deepEqual(lifecycle.kill({ cause: REQUEST, graceMs: 5_000, now: 1_500, sendKilling: true }), []);
    assert.deepEqual(lifecycle.kill({ cause: REQUEST, graceMs: 3_000, now: 1_500, sendKilling: true }), []);
    // Shorter: the deadline moves to first kill + new grace.
    assert.deepEqual(lifecycle.kill({ cause: REQUEST, graceMs: 1_000, now: 1_500, sendKilling: true }), [{ type: 'armEscalation', at: 2_000 }]);
    assert.equal(lifecycle.escalationDeadline, 2_000);
    // Shorter than the time already elapsed: escalate now.
    assert.deepEqual(lifecycle.kill({ cause: REQUEST, graceMs: 100, now: 1_500, sendKilling: true }), [{ type: 'terminateWorker' }]);
  });

  it('a result after a kill is KILLED and its data dropped (like upstream: a killed task is KILLED)', () => {
    const lifecycle = running();
    lifecycle.kill({ cause: REQUEST, graceMs: 500, now: 0, sendKilling: false });
    const effects = lifecycle.end(OK);
    assert.deepEqual(statuses(effects), ['TASK_KILLED']);
    assert.equal((effects[0] as { data?: Uint8Array }).data, undefined);
    assert.match((effects[0] as { message: string }).message, /result was discarded/);
  });

  it('a worker crash during a kill is KILLED', () => {
    const lifecycle = running();
    lifecycle.kill({ cause: { kind: 'shutdown' }, graceMs: 500, now: 0, sendKilling: false });
    const effects = lifecycle.end({ kind: 'failed', message: 'worker exited', reason: 'REASON_CONTAINER_LIMITATION_MEMORY' });
    assert.deepEqual(statuses(effects), ['TASK_KILLED']);
    assert.equal((effects[0] as { reason?: string }).reason, undefined);
    assert.match((effects[0] as { message: string }).message, /^killed: the executor is shutting down; the job ended with an error while being killed: worker exited$/);
  });

  it('a task killed before the worker said "started" never reports RUNNING', () => {
    const lifecycle = new TaskLifecycle();
    lifecycle.accept();
    lifecycle.dispatch();
    lifecycle.kill({ cause: { kind: 'group', taskId: 'b', state: 'TASK_FAILED' }, graceMs: 100, now: 0, sendKilling: true });
    assert.deepEqual(lifecycle.started(), []);
    const effects = lifecycle.end({ kind: 'stopped', message: 'stopped before it started' });
    assert.deepEqual(statuses(effects), ['TASK_KILLED']);
    assert.match((effects[0] as { message: string }).message, /^killed: task "b" of its group ended TASK_FAILED; /);
  });

  it('after the end, nothing: not a kill, not a second result, not progress', () => {
    const lifecycle = running();
    lifecycle.end(OK);
    assert.deepEqual(lifecycle.kill({ cause: REQUEST, graceMs: 0, now: 0, sendKilling: true }), []);
    assert.deepEqual(lifecycle.end({ kind: 'failed', message: 'late' }), []);
    assert.deepEqual(lifecycle.end({ kind: 'terminated' }), []);
    assert.deepEqual(lifecycle.escalate(1e9), []);
    assert.deepEqual(lifecycle.started(), []);
    assert.equal(lifecycle.acceptsProgress, false);
  });
});

describe('TaskLifecycle: max_completion_time', () => {
  const DEADLINE: KillCause = { kind: 'deadline', limitMs: 100 };

  it('a running task past its deadline: no KILLING even when capable, grace 0, then FAILED with the reason', () => {
    const lifecycle = running();
    const kill = lifecycle.kill({ cause: DEADLINE, graceMs: 0, now: 0, sendKilling: true });
    assert.deepEqual(types(kill), ['abortJob', 'terminateWorker']);
    const end = lifecycle.end({ kind: 'terminated' });
    assert.deepEqual(types(end), ['TASK_FAILED', 'ended']);
    const status = end[0];
    assert.ok(status?.type === 'status');
    assert.equal(status.reason, 'REASON_MAX_COMPLETION_TIME_REACHED');
    assert.match(status.message ?? '', /max_completion_time of 100 ms reached/);
  });

  it('a queued task past its deadline is FAILED at once, not KILLED', () => {
    const lifecycle = new TaskLifecycle();
    lifecycle.accept();
    const effects = lifecycle.kill({ cause: DEADLINE, graceMs: 0, now: 0, sendKilling: false });
    assert.deepEqual(types(effects), ['dequeue', 'TASK_FAILED', 'ended']);
    assert.equal(lifecycle.terminal, 'TASK_FAILED');
  });

  it('a result that races the deadline kill is still FAILED (the deadline won)', () => {
    const lifecycle = running();
    lifecycle.kill({ cause: DEADLINE, graceMs: 0, now: 0, sendKilling: false });
    assert.deepEqual(statuses(lifecycle.end(OK)), ['TASK_FAILED']);
  });
});

describe('TaskLifecycle: exactly one terminal update under random event orders', () => {
  type Step = (lifecycle: TaskLifecycle, now: number, random: () => number) => Effect[];
  const outcomes: Outcome[] = [
    OK,
    { kind: 'failed', message: 'threw' },
    { kind: 'stopped', message: 'stopped' },
    { kind: 'terminated' },
  ];
  const steps: Step[] = [
    (l) => l.dispatch(),
    (l) => l.started(),
    (l, now, r) => l.kill({ cause: REQUEST, graceMs: Math.floor(r() * 1_000), now, sendKilling: r() < 0.5 }),
    (l, now, r) => l.kill({ cause: { kind: 'shutdown' }, graceMs: Math.floor(r() * 1_000), now, sendKilling: r() < 0.5 }),
    (l, now) => l.escalate(now),
    (l, _now, r) => l.end(outcomes[Math.floor(r() * outcomes.length)]!),
  ];

  it('holds for 5000 random sequences', () => {
    const random = seededRandom(20240611);
    for (let run = 0; run < 5_000; run++) {
      const lifecycle = new TaskLifecycle();
      const sent: string[] = [...statuses(lifecycle.accept())];
      let now = 0;
      let terminateWorker = 0;
      const length = 1 + Math.floor(random() * 12);
      for (let i = 0; i < length; i++) {
        now += Math.floor(random() * 400);
        const effects = steps[Math.floor(random() * steps.length)]!(lifecycle, now, random);
        sent.push(...statuses(effects));
        terminateWorker += effects.filter((e) => e.type === 'terminateWorker').length;
        const ended = effects.filter((e) => e.type === 'ended');
        assert.ok(ended.length <= 1);
      }
      // Always finish: a task ends eventually (its run settles).
      sent.push(...statuses(lifecycle.end(outcomes[Math.floor(random() * outcomes.length)]!)));
      const context = `run ${run}: ${sent.join(' ')}`;
      const terminal = sent.filter((s) => isTerminalState(s as never));
      assert.equal(terminal.length, 1, context);
      assert.ok(isTerminalState(sent[sent.length - 1] as never), `terminal is last: ${context}`);
      assert.equal(sent[0], 'TASK_STARTING', context);
      assert.ok(sent.filter((s) => s === 'TASK_RUNNING').length <= 1, context);
      assert.ok(sent.filter((s) => s === 'TASK_KILLING').length <= 1, context);
      assert.ok(terminateWorker <= 1, context);
      const killingAt = sent.indexOf('TASK_KILLING');
      if (killingAt !== -1) {
        assert.ok(!sent.slice(killingAt).includes('TASK_RUNNING'), `no RUNNING after KILLING: ${context}`);
        assert.equal(terminal[0], 'TASK_KILLED', context);
      }
      if (lifecycle.killing) assert.equal(terminal[0], 'TASK_KILLED', `a killed task ends KILLED: ${context}`);
    }
  });
});
