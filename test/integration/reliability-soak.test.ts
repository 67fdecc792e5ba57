// The short version of `npm run soak` (test/soak/soak.ts): the real executor process through
// agent restarts under load, with ACKs withheld around each restart, 503 storms, and ~7% worker
// faults (throws, process.exit, asynchronous throws, out of memory, hangs that must be killed)
// among ~1000 mixed tasks. Same invariants as the full soak, task by task.
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { formatReport, runSoak } from '../soak/soak.js';

const TASKS = Number(process.env.SOAK_TASKS ?? 1000);
const RESTARTS = Number(process.env.SOAK_RESTARTS ?? 5);

describe('reliability soak (short)', () => {
  it(`${TASKS} mixed tasks with worker faults through ${RESTARTS} agent restarts: nothing lost, nothing twice, every count right`, async () => {
    const report = await runSoak({
      tasks: TASKS,
      restarts: RESTARTS,
      threads: 2,
      seed: 7,
      downMs: [100, 1000],
      gapMs: [200, 500],
      timeoutMs: 90_000,
    });
    const text = formatReport(report);
    assert.ok(report.ok, text);
    assert.equal(report.tasks, TASKS, text);
    assert.equal(report.restarts, RESTARTS, text);
    assert.equal(report.lostUpdates, 0, text);
    assert.equal(report.duplicatedUpdates, 0, text);
    assert.equal(report.nonTerminal, 0, text);
    // The faults really happened, and were survived for the right reason.
    assert.ok(report.faultsInjected > 0 && report.failedFromFaults === report.faultsInjected, text);
    assert.ok((report.byKind['hang']?.['TASK_KILLED'] ?? 0) > 0, `hung jobs were killed: ${text}`);
    assert.ok((report.byKind['oom']?.['TASK_FAILED'] ?? 0) > 0, `an OOM happened: ${text}`);
    assert.ok(report.agent['updatesReplayed']! > 0 && report.agent['duplicates']! > 0, `updates were replayed and deduplicated: ${text}`);
    assert.ok(report.agent['acksDropped']! > 0, `withheld ACKs were lost to restarts: ${text}`);
    assert.equal(report.executorExit?.code, 0, text);
    assert.ok(report.rss.peakMb < 600, `executor RSS stayed bounded: ${text}`);
  });
});

describe('the soak can fail', () => {
  it('its sequence check flags a missing TASK_RUNNING, a second terminal update and a missing one', async () => {
    const { checkTaskStatuses } = await import('../soak/soak.js');
    const uuid = (n: number): Buffer => Buffer.alloc(16, n);
    const ok = checkTaskStatuses('noop', [
      { state: 'TASK_STARTING', uuid: uuid(1) },
      { state: 'TASK_RUNNING', uuid: uuid(2) },
      { state: 'TASK_FINISHED', uuid: uuid(3) },
    ]);
    assert.deepEqual(ok, []);
    const lost = checkTaskStatuses('noop', [
      { state: 'TASK_STARTING', uuid: uuid(1) },
      { state: 'TASK_FINISHED', uuid: uuid(3) },
    ]);
    assert.match(lost.join(), /not TASK_STARTING,R\+,TASK_FINISHED/);
    const twice = checkTaskStatuses('noop', [
      { state: 'TASK_STARTING', uuid: uuid(1) },
      { state: 'TASK_RUNNING', uuid: uuid(2) },
      { state: 'TASK_FINISHED', uuid: uuid(3) },
      { state: 'TASK_FAILED', uuid: uuid(4) },
    ]);
    assert.match(twice.join(), /applied twice/);
    const dupUuid = checkTaskStatuses('noop', [
      { state: 'TASK_STARTING', uuid: uuid(1) },
      { state: 'TASK_RUNNING', uuid: uuid(1) },
      { state: 'TASK_FINISHED', uuid: uuid(3) },
    ]);
    assert.match(dupUuid.join(), /applied twice/);
    assert.match(checkTaskStatuses('noop', [{ state: 'TASK_STARTING', uuid: uuid(1) }]).join(), /never ended/);
    assert.match(checkTaskStatuses('hang', [{ state: 'TASK_STARTING', uuid: uuid(1) }, { state: 'TASK_RUNNING', uuid: uuid(2) }, { state: 'TASK_FAILED', uuid: uuid(3) }]).join(), /expected TASK_KILLED/);
  });
});
