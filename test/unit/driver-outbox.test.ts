import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { routeEvent, type EventHandlers } from '../../src/driver/event-router.js';
import { echoedTask, Outbox, type OutboxEntry } from '../../src/driver/outbox.js';
import { uuidKey } from '../../src/protocol/uuid.js';
import { protobufCodec } from '../../src/protocol/codec.js';
import { MesosExecutorError } from '../../src/errors.js';
import type { TaskInfo, TaskState, TaskStatus } from '../../src/proto/types.js';

const ignoreAll: EventHandlers = {
  launch: () => {},
  launchGroup: () => {},
  kill: () => {},
  acknowledged: () => {},
  message: () => {},
  error: () => {},
  shutdown: () => {},
  heartbeat: () => {},
  malformed: (type, why) => assert.fail(`${type} taken as malformed: ${why}`),
  unknown: () => {},
};

function status(task: string, state: TaskState, data?: Uint8Array): TaskStatus & { uuid: Uint8Array } {
  return { task_id: { value: task }, state, uuid: randomBytes(16), ...(data ? { data } : {}) };
}

const limits = { maxUpdates: 100, maxBytes: 1 << 20 };

/** A status and a stand-in for its encoded call: as many bytes as its data (1 without). */
function withBody(s: TaskStatus & { uuid: Uint8Array }): [TaskStatus & { uuid: Uint8Array }, Uint8Array] {
  return [s, new Uint8Array(s.data?.byteLength ?? 1)];
}

/** An outbox opened on a recorder of what it sends. */
function opened(box: Outbox): OutboxEntry[] {
  const sent: OutboxEntry[] = [];
  box.open((entry) => sent.push(entry));
  return sent;
}

describe('Outbox', () => {
  it('lets only the oldest unaccepted update of a task be in flight', () => {
    const box = new Outbox(limits);
    const a1 = box.record(...withBody(status('a', 'TASK_STARTING')));
    const a2 = box.record(...withBody(status('a', 'TASK_RUNNING')));
    const b1 = box.record(...withBody(status('b', 'TASK_STARTING')));
    const sent = opened(box);
    assert.deepEqual(sent, [a1, b1]);
    box.flush();
    assert.deepEqual(sent, [a1, b1], 'heads already in flight');
    box.markAccepted(a1);
    assert.deepEqual(sent, [a1, b1, a2], 'the next update of a goes once a1 is accepted');
    assert.equal(a2.phase, 'sending');
  });

  it('sends nothing while paused; a recorded update goes at once while open', () => {
    const box = new Outbox(limits);
    const sent = opened(box);
    const a1 = box.record(...withBody(status('a', 'TASK_STARTING')));
    assert.deepEqual(sent, [a1]);
    box.pause();
    const b1 = box.record(...withBody(status('b', 'TASK_STARTING')));
    box.flush();
    assert.deepEqual(sent, [a1]);
    box.open((entry) => sent.push(entry));
    assert.deepEqual(sent, [a1, b1]);
  });

  it('puts a failed send back at the head of its task, ahead of later updates', () => {
    const box = new Outbox(limits);
    const a1 = box.record(...withBody(status('a', 'TASK_STARTING')));
    box.record(...withBody(status('a', 'TASK_FINISHED')));
    const sent = opened(box);
    assert.deepEqual(sent, [a1]);
    box.markUnsent(a1);
    assert.deepEqual(sent, [a1], 'not resent before the retry delay');
    box.flush();
    assert.deepEqual(sent, [a1, a1], 'the same update is retried first');
  });

  it('remove() forgets a refused update and lets the next one of its task go', () => {
    const box = new Outbox(limits);
    const a1 = box.record(...withBody(status('a', 'TASK_RUNNING', new Uint8Array(10))));
    const a2 = box.record(...withBody(status('a', 'TASK_FINISHED')));
    const sent = opened(box);
    assert.equal(box.hasLaterUnsent(a1), true);
    assert.equal(box.hasLaterUnsent(a2), true);
    box.remove(a1);
    assert.deepEqual(sent, [a1, a2]);
    assert.equal(box.size, 1);
    assert.equal(box.bytes, 1);
    assert.equal(box.hasLaterUnsent(a2), false);
    box.remove(a1); // twice changes nothing
    assert.equal(box.size, 1);
  });

  it('carries every update in creation order and every unacknowledged task in a SUBSCRIBE', () => {
    const box = new Outbox(limits);
    box.addTask({ name: 'a', task_id: { value: 'a' }, agent_id: { value: 'S0' } });
    box.addTask({ name: 'b', task_id: { value: 'b' }, agent_id: { value: 'S0' } });
    const u = [box.record(...withBody(status('a', 'TASK_STARTING'))), box.record(...withBody(status('b', 'TASK_STARTING'))), box.record(...withBody(status('a', 'TASK_RUNNING')))];
    const snap = box.snapshotForSubscribe();
    assert.deepEqual(snap.updates, u.map((e) => e.update));
    assert.deepEqual(snap.tasks.map((t) => t.task_id.value), ['a', 'b']);
    box.acceptCarried(snap.entries);
    assert.ok(u.every((e) => e.phase === 'accepted'));
    assert.deepEqual(opened(box), [], 'carried updates are not sent again');
  });

  it('an update recorded after the snapshot is still sent after SUBSCRIBED', () => {
    const box = new Outbox(limits);
    const first = box.record(...withBody(status('a', 'TASK_RUNNING')));
    const snap = box.snapshotForSubscribe();
    const later = box.record(...withBody(status('a', 'TASK_FINISHED')));
    box.acceptCarried(snap.entries);
    assert.equal(first.phase, 'accepted');
    assert.deepEqual(opened(box), [later]);
  });

  it('ACKNOWLEDGED removes the update and the task; an unknown uuid is ignored', () => {
    const box = new Outbox(limits);
    box.addTask({ name: 'a', task_id: { value: 'a' }, agent_id: { value: 'S0' } });
    const e = box.record(...withBody(status('a', 'TASK_RUNNING', new Uint8Array(10))));
    assert.equal(box.bytes, 10);
    assert.equal(box.acknowledge('a', randomBytes(16)), undefined);
    assert.equal(box.unacknowledgedTaskCount, 0, 'any ack for the task marks it acknowledged');
    assert.equal(box.size, 1);
    assert.equal(box.acknowledge('a', e.update.status.uuid!), e);
    assert.equal(box.size, 0);
    assert.equal(box.bytes, 0);
  });

  it('an ACK for an update still in flight frees the next update of its task', () => {
    const box = new Outbox(limits);
    const a1 = box.record(...withBody(status('a', 'TASK_RUNNING')));
    const a2 = box.record(...withBody(status('a', 'TASK_FINISHED')));
    const sent = opened(box);
    assert.deepEqual(sent, [a1]);
    box.acknowledge('a', a1.update.status.uuid!);
    assert.deepEqual(sent, [a1, a2]);
    box.markUnsent(a1); // the late failure of the acknowledged call changes nothing
    assert.equal(box.size, 1);
  });

  it('refuses to grow past its limits with MPE_OUTBOX_FULL, and accepts again after ACKs', () => {
    const box = new Outbox({ maxUpdates: 2, maxBytes: 100 });
    const e = box.record(...withBody(status('a', 'TASK_RUNNING')));
    box.record(...withBody(status('b', 'TASK_RUNNING')));
    assert.throws(() => box.record(...withBody(status('c', 'TASK_RUNNING'))), (err: unknown) => err instanceof MesosExecutorError && err.code === 'MPE_OUTBOX_FULL');
    box.acknowledge('a', e.update.status.uuid!);
    box.record(...withBody(status('c', 'TASK_RUNNING')));
    const bytes = new Outbox({ maxUpdates: 10, maxBytes: 100 });
    assert.throws(() => bytes.record(...withBody(status('a', 'TASK_RUNNING', new Uint8Array(101)))), /limits/);
  });

  it('always takes a terminal update, even past its limits', () => {
    const box = new Outbox({ maxUpdates: 1, maxBytes: 10 });
    box.record(...withBody(status('a', 'TASK_RUNNING')));
    assert.throws(() => box.record(...withBody(status('b', 'TASK_RUNNING'))), { code: 'MPE_OUTBOX_FULL' });
    box.record(...withBody(status('b', 'TASK_FINISHED', new Uint8Array(100))));
    assert.equal(box.size, 2);
  });

  it('keeps launched tasks without their payload', () => {
    const box = new Outbox(limits);
    box.addTask({ name: 'a', task_id: { value: 'a' }, agent_id: { value: 'S0' }, data: new Uint8Array(1000) });
    const [task] = box.snapshotForSubscribe().tasks;
    assert.equal(task?.data, undefined);
    assert.equal(task?.task_id.value, 'a');
  });

  it('a task whose health check lacks a required field is launched, and every later SUBSCRIBE still encodes (it is not echoed)', () => {
    const task = {
      name: 'a',
      task_id: { value: 'a' },
      agent_id: { value: 'S0' },
      health_check: { type: 'TCP', tcp: {} },
      check: { type: 'TCP', tcp: {} },
    } as unknown as TaskInfo;
    const launched: string[] = [];
    routeEvent({ type: 'LAUNCH', launch: { task } }, { ...ignoreAll, launch: (t) => launched.push(t.task_id.value) });
    assert.deepEqual(launched, ['a'], 'the pool gets it (and answers TASK_ERROR)');
    const box = new Outbox(limits);
    box.addTask(task);
    const [echoed] = box.snapshotForSubscribe().tasks;
    assert.equal(echoed?.health_check, undefined);
    assert.equal(echoed?.check, undefined);
    assert.doesNotThrow(() => protobufCodec.encodeCall({ type: 'SUBSCRIBE', executor_id: { value: 'e' }, framework_id: { value: 'f' }, subscribe: { unacknowledged_tasks: [echoed!] } }));
    assert.equal(echoedTask({ name: 'b', task_id: { value: 'b' }, agent_id: { value: 'S0' } }).name, 'b');
  });

  it('keys uuids by their hex form, whatever the view', () => {
    const raw = randomBytes(32);
    assert.equal(uuidKey(raw.subarray(8, 24)), raw.subarray(8, 24).toString('hex'));
  });
});
