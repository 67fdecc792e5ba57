// What the driver carries back is what it was given: a launched TaskInfo is
// re-sent in SUBSCRIBE's `unacknowledged_tasks` with the fields our schema does not declare, and a
// task id that is not UTF-8 is named with its exact bytes in every UPDATE and SUBSCRIBE. Checked
// on the bytes that cross the wire (a recording proxy between the driver and the LocalAgent).
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { LocalAgent, type TaskInput } from '../../src/agent/index.js';
import { UNKNOWN_FIELDS, type ContentType } from '../../src/protocol/codec.js';
import { driverRigs, type DriverRig } from '../helpers/driver-rig.js';
import { FIELD, fieldBytes } from '../helpers/protobuf-fields.js';
import { RecordingProxy } from '../helpers/recording-proxy.js';
import { waitFor } from '../helpers/wait.js';

/** FF FE are not UTF-8; the codec holds them as U+DCFF U+DCFE (src/protocol/utf8.ts). */
const RAW_ID = Buffer.from('fffe2d31', 'hex');
const ID = '\udcff\udcfe-1';
/** TaskInfo field 9 (ContainerInfo {type: MESOS}), which our schema leaves out. */
const CONTAINER = Buffer.from('4a020802', 'hex');

interface Rig extends DriverRig {
  proxy: RecordingProxy;
}

const rigs = driverRigs();

async function rig(contentType: ContentType): Promise<Rig> {
  const agent = new LocalAgent({ subscriptionBackoffMaxMs: 50, frameworkInfo: { user: 'u', name: 'f', checkpoint: true } });
  await agent.start();
  const at = agent.endpoint.lastIndexOf(':');
  const proxy = await RecordingProxy.start({ host: agent.endpoint.slice(0, at), port: Number(agent.endpoint.slice(at + 1)) });
  const r = await rigs.rig({ agent, extraEnvironment: { MESOS_AGENT_ENDPOINT: proxy.endpoint }, driverOptions: { contentType }, start: true, cleanup: () => proxy.close() });
  return { ...r, proxy };
}

/** A task whose TaskInfo carries a field our schema does not declare (as a decoded one would). */
function taskWithUnknownField(id: string): TaskInput {
  return { task_id: id, data: Buffer.from('run'), [UNKNOWN_FIELDS]: [CONTAINER] } as TaskInput;
}

const isSubscribe = (body: Buffer): boolean => fieldBytes(body, [FIELD.CALL_SUBSCRIBE]).length > 0;
const isUpdate = (body: Buffer): boolean => fieldBytes(body, [FIELD.CALL_UPDATE]).length > 0;

describe('what the driver carries back (protobuf)', () => {
  it('unacknowledged_tasks keep unknown fields and exact id bytes across a resubscribe; UPDATEs name the exact id', async () => {
    const r = await rig('application/x-protobuf');
    r.agent.withholdAcks(true);
    r.agent.launchTask(taskWithUnknownField(ID));
    // The agent files the UPDATE under the task it launched: the id came back byte for byte.
    await waitFor(() => r.agent.task(ID)?.state === 'TASK_RUNNING', { what: 'TASK_RUNNING for the task the agent knows' });
    const launched = r.executor.records.find((x) => x.callback === 'launchTask');
    assert.ok(launched?.callback === 'launchTask');
    assert.equal(launched.task.task_id.value, ID);

    const updates = r.proxy.bodies(isUpdate);
    assert.equal(updates.length, 1);
    assert.deepEqual(fieldBytes(updates[0]!, [FIELD.CALL_UPDATE, FIELD.UPDATE_STATUS, FIELD.STATUS_TASK_ID, FIELD.ID_VALUE]), [RAW_ID]);

    const subscribesBefore = r.proxy.bodies(isSubscribe).length;
    r.agent.dropStream();
    // The proxy sees the SUBSCRIBE before the agent has processed it: wait for the agent too,
    // or the KILL below goes to no stream.
    await waitFor(() => r.agent.subscribed && (r.executor.names().includes('reregistered') || r.proxy.bodies(isSubscribe).length > subscribesBefore), {
      what: 'a resubscribe',
    });
    const resubscribe = r.proxy.bodies(isSubscribe).at(-1)!;
    const tasks = fieldBytes(resubscribe, [FIELD.CALL_SUBSCRIBE, FIELD.SUBSCRIBE_UNACKNOWLEDGED_TASKS]);
    assert.equal(tasks.length, 1, 'the launched task is carried');
    const task = tasks[0]!;
    assert.ok(task.includes(CONTAINER), `the unknown field is carried: ${task.toString('hex')}`);
    assert.deepEqual(fieldBytes(task, [FIELD.TASK_INFO_TASK_ID, FIELD.ID_VALUE]), [RAW_ID]);
    // The unacknowledged update rides along, naming the same bytes.
    assert.deepEqual(
      fieldBytes(resubscribe, [FIELD.CALL_SUBSCRIBE, FIELD.SUBSCRIBE_UNACKNOWLEDGED_UPDATES, FIELD.UPDATE_STATUS, FIELD.STATUS_TASK_ID, FIELD.ID_VALUE]),
      [RAW_ID],
    );
    // Its data (the payload) is not carried: the agent reads only the id (docs/wire.md).
    assert.deepEqual(fieldBytes(task, [6]), []);

    // After the resubscribe, a new update still names the task the agent knows.
    r.agent.withholdAcks(false, { deliver: true });
    r.agent.killTask(ID);
    await waitFor(() => r.agent.task(ID)?.state === 'TASK_KILLED', { what: 'TASK_KILLED for the same task' });
    const killed = r.proxy.bodies(isUpdate).at(-1)!;
    assert.deepEqual(fieldBytes(killed, [FIELD.CALL_UPDATE, FIELD.UPDATE_STATUS, FIELD.STATUS_TASK_ID, FIELD.ID_VALUE]), [RAW_ID]);
  });
});

describe('what the driver carries back (JSON)', () => {
  it("an id that is not UTF-8 cannot survive the agent's JSON: it comes with U+FFFD and the UPDATE names that (docs/wire.md)", async () => {
    const r = await rig('application/json');
    r.agent.launchTask(taskWithUnknownField(ID));
    await waitFor(() => r.executor.records.some((x) => x.callback === 'launchTask'), { what: 'the LAUNCH' });
    await waitFor(() => r.proxy.bodies((b) => b.includes('"type":"UPDATE"')).length > 0, { what: 'the UPDATE' });
    const update = JSON.parse(r.proxy.bodies((b) => b.includes('"type":"UPDATE"'))[0]!.toString('utf8')) as {
      update: { status: { task_id: { value: string } } };
    };
    assert.equal(update.update.status.task_id.value, '\ufffd\ufffd-1');
  });
});
