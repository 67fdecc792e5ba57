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
import { repoRoot } from '../helpers/repo-root.js';

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

  it('declares HealthCheck, CheckInfo and the TaskInfo fields that carry them as upstream does', () => {
    const ids = (type: string): Array<[string, number]> => messageSpec(type).fields.map((f) => [f.name, f.id]);
    assert.deepStrictEqual(ids('mesos.v1.TaskInfo').slice(5, 9), [['command', 7], ['health_check', 8], ['check', 13], ['kill_policy', 12]]);
    assert.deepStrictEqual(ids('mesos.v1.HealthCheck'), [
      ['delay_seconds', 2], ['interval_seconds', 3], ['timeout_seconds', 4], ['consecutive_failures', 5],
      ['grace_period_seconds', 6], ['type', 8], ['command', 7], ['http', 1], ['tcp', 9],
    ]);
    assert.deepStrictEqual(ids('mesos.v1.HealthCheck.HTTPCheckInfo'), [['protocol', 5], ['scheme', 3], ['port', 1], ['path', 2], ['statuses', 4]]);
    assert.deepStrictEqual(ids('mesos.v1.HealthCheck.TCPCheckInfo'), [['protocol', 2], ['port', 1]]);
    assert.deepStrictEqual(ids('mesos.v1.CheckInfo'), [
      ['type', 1], ['command', 2], ['http', 3], ['tcp', 7], ['delay_seconds', 4], ['interval_seconds', 5], ['timeout_seconds', 6],
    ]);
    assert.deepStrictEqual(ids('mesos.v1.CheckInfo.Http'), [['port', 1], ['path', 2]]);
    assert.deepStrictEqual(ids('mesos.v1.CheckStatusInfo'), [['type', 1], ['command', 2], ['http', 3], ['tcp', 4]]);
    const defaults = (type: string): Record<string, unknown> =>
      Object.fromEntries(messageSpec(type).fields.filter((f) => f.declaredDefault !== undefined).map((f) => [f.name, f.declaredDefault]));
    assert.deepStrictEqual(defaults('mesos.v1.HealthCheck'), {
      delay_seconds: 15, interval_seconds: 10, timeout_seconds: 20, consecutive_failures: 3, grace_period_seconds: 10,
    });
    assert.deepStrictEqual(defaults('mesos.v1.CheckInfo'), { delay_seconds: 15, interval_seconds: 10, timeout_seconds: 20 });
    assert.deepStrictEqual(defaults('mesos.v1.HealthCheck.HTTPCheckInfo'), { protocol: 'IPv4' });
    const table = upstreamRequiredFields();
    for (const type of ['HealthCheck.HTTPCheckInfo', 'HealthCheck.TCPCheckInfo', 'CheckInfo.Http', 'CheckInfo.Tcp']) {
      assert.deepStrictEqual(table.get(`mesos.v1.${type}`), ['port'], type);
    }
    assert.deepStrictEqual(table.get('mesos.v1.CheckInfo.Command'), ['command']);
    const type = messageSpec('mesos.v1.HealthCheck').byName.get('type')!.enumSpec!;
    assert.deepStrictEqual([...type.numberOf], [['UNKNOWN', 0], ['COMMAND', 1], ['HTTP', 2], ['TCP', 3]]);
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
