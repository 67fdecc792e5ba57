// The check schedule on the shared fake clock: delay, interval counted from the end of a probe,
// timeout, pause/resume/stop, and stale outcomes dropped.
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { CheckSchedule, type ProbeOutcome } from '../../src/checks/index.js';
import type { Timing } from '../../src/checks/index.js';
import { FakeClock } from '../helpers/fake-clock.js';

const OK: ProbeOutcome = { kind: 'result', status: { type: 'TCP', tcp: { succeeded: true } } };

interface Rig {
  clock: FakeClock;
  schedule: CheckSchedule;
  /** Clock times at which probes started. */
  started: number[];
  /** Outcomes reported, with the clock time. */
  outcomes: Array<[number, ProbeOutcome, number]>;
  /** Settles the oldest pending probe. */
  settle(outcome?: ProbeOutcome): Promise<void>;
  aborted: number;
}

function rig(timing: Partial<Timing> = {}, instant = false): Rig {
  const clock = new FakeClock(0);
  const pending: Array<(o: ProbeOutcome) => void> = [];
  const r: Rig = {
    clock,
    started: [],
    outcomes: [],
    aborted: 0,
    async settle(outcome = OK) {
      const next = pending.shift();
      assert.ok(next !== undefined, 'no probe pending');
      next(outcome);
      await new Promise((resolve) => setImmediate(resolve));
    },
    schedule: undefined as unknown as CheckSchedule,
  };
  r.schedule = new CheckSchedule({
    clock,
    timing: { delayMs: 100, intervalMs: 50, timeoutMs: undefined, ...timing },
    name: 'TCP check',
    probe: (signal) => {
      r.started.push(clock.now());
      signal.addEventListener('abort', () => r.aborted++);
      if (instant) return Promise.resolve(OK);
      return new Promise((resolve) => pending.push(resolve));
    },
    onOutcome: (outcome, durationMs) => r.outcomes.push([clock.now(), outcome, durationMs]),
  });
  return r;
}

describe('CheckSchedule', () => {
  it('waits the delay, then probes; the interval counts from the end of the previous probe', async () => {
    const r = rig();
    r.schedule.start();
    r.clock.tick(99);
    assert.deepEqual(r.started, []);
    r.clock.tick(1);
    assert.deepEqual(r.started, [100]);
    assert.equal(r.schedule.phase, 'probing');
    r.clock.tick(30); // the probe takes 30 ms
    await r.settle();
    assert.deepEqual(r.outcomes.map(([at, , d]) => [at, d]), [[130, 30]]);
    r.clock.tick(49);
    assert.deepEqual(r.started, [100]);
    r.clock.tick(1);
    assert.deepEqual(r.started, [100, 180]);
  });

  it('a probe that outlasts its timeout is aborted and reported as an error with the timeout in stout words', async () => {
    const r = rig({ timeoutMs: 20_000 });
    r.schedule.start();
    r.clock.tick(100);
    r.clock.tick(20_000);
    assert.equal(r.aborted, 1);
    assert.deepEqual(r.outcomes.map(([at, o]) => [at, o]), [[20_100, { kind: 'error', message: 'TCP check timed out after 20secs' }]]);
    // Its late answer counts for nothing; the next probe comes one interval after the timeout.
    await r.settle();
    assert.equal(r.outcomes.length, 1);
    r.clock.tick(50);
    assert.deepEqual(r.started, [100, 20_150]);
  });

  it('no timeout: a probe may take as long as it takes', async () => {
    const r = rig({ timeoutMs: undefined });
    r.schedule.start();
    r.clock.tick(100 + 3_600_000);
    assert.equal(r.aborted, 0);
    await r.settle();
    assert.equal(r.outcomes.length, 1);
  });

  it('pause aborts the probe in flight and drops its outcome; resume probes at once, one loop only', async () => {
    const r = rig();
    r.schedule.start();
    r.clock.tick(100);
    r.schedule.pause();
    assert.equal(r.aborted, 1);
    await r.settle();
    assert.equal(r.outcomes.length, 0);
    r.clock.tick(10_000);
    assert.deepEqual(r.started, [100]);
    r.schedule.resume();
    r.clock.tick(0);
    assert.deepEqual(r.started, [100, 10_100]);
    await r.settle();
    r.clock.tick(50);
    assert.deepEqual(r.started, [100, 10_100, 10_150]);
  });

  it('pause while waiting cancels the timer; a pause and resume before the first probe keep the initial delay', () => {
    const r = rig();
    r.schedule.start();
    r.clock.tick(40);
    r.schedule.pause();
    r.clock.tick(20);
    r.schedule.resume();
    r.clock.tick(39);
    assert.deepEqual(r.started, []);
    r.clock.tick(1);
    assert.deepEqual(r.started, [100]);
  });

  it('start(paused) waits for resume', () => {
    const r = rig();
    r.schedule.start(true);
    r.clock.tick(1_000);
    assert.deepEqual(r.started, []);
    r.schedule.resume();
    r.clock.tick(0);
    assert.deepEqual(r.started, [1_000]);
  });

  it('stop is for good: no probe, no outcome, no timer left', async () => {
    const r = rig({ timeoutMs: 500 });
    r.schedule.start();
    r.clock.tick(100);
    r.schedule.stop();
    assert.equal(r.aborted, 1);
    await r.settle();
    r.schedule.resume();
    r.schedule.start();
    r.clock.tick(10_000);
    assert.deepEqual(r.started, [100]);
    assert.equal(r.outcomes.length, 0);
    assert.equal(r.clock.pending, 0);
  });

  it('an outcome listener that stops the schedule (a kill) leaves no next probe', async () => {
    const clock = new FakeClock(0);
    let probes = 0;
    const schedule: CheckSchedule = new CheckSchedule({
      clock,
      timing: { delayMs: 0, intervalMs: 10, timeoutMs: undefined },
      name: 'x',
      probe: () => {
        probes++;
        return Promise.resolve(OK);
      },
      onOutcome: () => schedule.stop(),
    });
    schedule.start();
    clock.tick(0);
    await new Promise((resolve) => setImmediate(resolve));
    clock.tick(1_000);
    assert.equal(probes, 1);
    assert.equal(clock.pending, 0);
  });

  it('interval 0 probes back to back (upstream allows it)', async () => {
    const r = rig({ delayMs: 0, intervalMs: 0 }, true);
    r.schedule.start();
    for (let i = 0; i < 3; i++) {
      r.clock.tick(0);
      await new Promise((resolve) => setImmediate(resolve));
    }
    assert.equal(r.started.length, 3);
    r.schedule.stop();
  });

  it('a probe that throws or rejects is an error outcome, and the loop goes on', async () => {
    const clock = new FakeClock(0);
    const outcomes: ProbeOutcome[] = [];
    let n = 0;
    const schedule = new CheckSchedule({
      clock,
      timing: { delayMs: 0, intervalMs: 5, timeoutMs: undefined },
      name: 'x',
      probe: () => {
        n++;
        if (n === 1) throw new Error('spawn failed');
        return Promise.reject(new Error('rejected'));
      },
      onOutcome: (o) => outcomes.push(o),
    });
    schedule.start();
    clock.tick(0);
    await new Promise((resolve) => setImmediate(resolve));
    clock.tick(5);
    await new Promise((resolve) => setImmediate(resolve));
    schedule.stop();
    assert.deepEqual(outcomes, [{ kind: 'error', message: 'spawn failed' }, { kind: 'error', message: 'rejected' }]);
  });
});
