import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  CALL_TYPE,
  EVENT_TYPE,
  messageSpec,
  missingRequiredFields,
  protobufType,
  upstreamRequiredFields,
  withDeclaredDefaults,
} from '../../src/proto/schema.js';
import { repoRoot } from './codec-fixtures.js';

describe('proto schema', () => {
  it('loads the Call and Event types with upstream names and numbers', () => {
    const call = protobufType(CALL_TYPE);
    assert.deepStrictEqual(
      call.fieldsArray.map((f) => [f.name, f.id]),
      [['executor_id', 1], ['framework_id', 2], ['type', 3], ['subscribe', 4], ['update', 5], ['message', 6]],
    );
    assert.equal(messageSpec('mesos.v1.executor.Call.Message').byName.get('data')!.id, 2);
    assert.equal(messageSpec('mesos.v1.executor.Event.Message').byName.get('data')!.id, 1);
    assert.deepStrictEqual(
      messageSpec(EVENT_TYPE).fields.map((f) => f.name),
      ['type', 'subscribed', 'acknowledged', 'launch', 'launch_group', 'kill', 'message', 'error'],
    );
  });

  it('keeps declaration order where it differs from number order', () => {
    assert.deepStrictEqual(
      messageSpec('mesos.v1.TaskStatus').fields.map((f) => f.id),
      [1, 2, 4, 9, 10, 3, 5, 7, 6, 11, 8, 15, 12, 13, 14, 16],
    );
    assert.deepStrictEqual(messageSpec('mesos.v1.ExecutorInfo').fields.map((f) => f.id), [15, 1, 8, 7, 5, 9, 10, 4, 13, 14]);
    assert.deepStrictEqual(messageSpec('mesos.v1.CommandInfo').fields.map((f) => f.name), [
      'uris',
      'environment',
      'shell',
      'value',
      'arguments',
      'user',
    ]);
  });

  it('resolves short names', () => {
    assert.equal(messageSpec('TaskInfo').fullName, 'mesos.v1.TaskInfo');
    assert.throws(() => messageSpec('NoSuchType'), /no message type/);
  });

  it('records declared defaults and deprecation', () => {
    const fi = messageSpec('mesos.v1.FrameworkInfo').byName;
    assert.equal(fi.get('failover_timeout')!.declaredDefault, 0);
    assert.equal(fi.get('checkpoint')!.declaredDefault, false);
    assert.equal(fi.get('role')!.declaredDefault, '*');
    assert.equal(fi.get('role')!.deprecated, true);
    assert.equal(messageSpec('mesos.v1.Environment.Variable').byName.get('type')!.declaredDefault, 'VALUE');
    assert.equal(messageSpec('mesos.v1.AgentInfo').byName.get('port')!.declaredDefault, 5051);
    assert.equal(messageSpec('mesos.v1.TaskStatus').byName.get('source')!.declaredDefault, undefined);
  });

  it('derives the upstream-required table from the .proto markers', () => {
    const table = upstreamRequiredFields();
    assert.deepStrictEqual(table.get(CALL_TYPE), ['executor_id', 'framework_id']);
    assert.deepStrictEqual(table.get('mesos.v1.TaskStatus'), ['task_id', 'state']);
    assert.deepStrictEqual(table.get('mesos.v1.TaskInfo'), ['name', 'task_id', 'agent_id']);
    assert.deepStrictEqual(table.get('mesos.v1.executor.Call.Message'), ['data']);
    assert.deepStrictEqual(table.get('mesos.v1.executor.Event.Subscribed'), ['executor_info', 'framework_info', 'agent_info']);
    assert.equal(table.get(EVENT_TYPE), undefined);
    // Every marker in the files is one entry of the table, so a mistyped marker cannot hide.
    const text = ['mesos.proto', 'executor.proto']
      .map((f) => readFileSync(join(repoRoot, 'src', 'proto', f), 'utf8'))
      .join('\n');
    const markers = text.match(/; \/\/ required upstream$/gm)?.length ?? 0;
    const entries = [...table.values()].reduce((n, fields) => n + fields.length, 0);
    assert.equal(entries, markers);
    assert.ok(!/^\s*required /m.test(text), 'no field may be declared required (protobufjs would refuse events)');
  });

  it('finds missing required fields recursively, with C++-style paths', () => {
    assert.deepStrictEqual(missingRequiredFields(CALL_TYPE, {}), ['executor_id', 'framework_id']);
    assert.deepStrictEqual(
      missingRequiredFields(CALL_TYPE, {
        executor_id: { value: 'E' },
        framework_id: {},
        update: { status: { task_id: { value: 'T' } } },
        subscribe: { unacknowledged_tasks: [{ name: 'n', task_id: { value: 'T' }, agent_id: { value: 'A' } }, {}] },
      }),
      [
        'framework_id.value',
        'subscribe.unacknowledged_tasks[1].name',
        'subscribe.unacknowledged_tasks[1].task_id',
        'subscribe.unacknowledged_tasks[1].agent_id',
        'update.status.state',
      ],
    );
  });

  it('withDeclaredDefaults fills defaults recursively without touching its input', () => {
    const input = {
      type: 'SUBSCRIBED',
      subscribed: { framework_info: { user: 'u', name: 'n' }, executor_info: { executor_id: { value: 'E' }, command: {} } },
    };
    const copy = structuredClone(input);
    const out = withDeclaredDefaults(EVENT_TYPE, input);
    assert.deepStrictEqual(input, copy);
    assert.deepStrictEqual(out.subscribed.framework_info, {
      user: 'u',
      name: 'n',
      failover_timeout: 0,
      checkpoint: false,
      role: '*',
    });
    assert.deepStrictEqual(out.subscribed.executor_info.command, { shell: true });
    assert.equal('agent_info' in out.subscribed, false);
  });
});
