// The health-check and check messages on the wire: vectors encoded by protoc from upstream's own
// .proto (test/fixtures/mesos-v1-executor/checks-vectors.json, made by
// scripts/make-checks-fixtures.mjs) decode to the values they spell and re-encode to the same
// bytes, in protobuf and through our JSON.
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { taskChecksProblem } from '../../src/checks/index.js';
import { jsonCodec, protobufCodec } from '../../src/protocol/codec.js';
import { CALL_TYPE, EVENT_TYPE, withDeclaredDefaults } from '../../src/proto/schema.js';
import type { Call, Event } from '../../src/proto/types.js';
import { repoRoot } from '../helpers/repo-root.js';

interface CheckVector {
  name: string;
  kind: 'Call' | 'Event';
  protobuf_hex: string;
}

const fixtures = JSON.parse(
  readFileSync(join(repoRoot, 'test', 'fixtures', 'mesos-v1-executor', 'checks-vectors.json'), 'utf8'),
) as { vectors: CheckVector[] };

function vector(name: string): Buffer {
  const v = fixtures.vectors.find((x) => x.name === name);
  assert.ok(v !== undefined, `no vector ${name}`);
  return Buffer.from(v.protobuf_hex, 'hex');
}

function roundTrips(v: CheckVector): void {
  const bytes = Buffer.from(v.protobuf_hex, 'hex');
  if (v.kind === 'Event') {
    const event = protobufCodec.decodeEvent(bytes);
    assert.equal(Buffer.from(protobufCodec.encodeEvent(event)).toString('hex'), v.protobuf_hex, `${v.name}: protobuf`);
    // The agent's JSON writes every unset field that declares a default: through JSON, those
    // fields come back set, so the comparison is of values with the defaults filled in.
    const viaJson = jsonCodec.decodeEvent(jsonCodec.encodeEvent(event));
    assert.deepStrictEqual(viaJson, withDeclaredDefaults(EVENT_TYPE, event), `${v.name}: through JSON`);
  } else {
    const call = protobufCodec.decodeCall(bytes);
    assert.equal(Buffer.from(protobufCodec.encodeCall(call)).toString('hex'), v.protobuf_hex, `${v.name}: protobuf`);
    const viaJson = jsonCodec.decodeCall(jsonCodec.encodeCall(call));
    assert.deepStrictEqual(viaJson, withDeclaredDefaults(CALL_TYPE, call), `${v.name}: through JSON`);
  }
}

describe('health check and check wire fixtures (protoc on upstream .proto)', () => {
  it('has the vectors the tests name', () => {
    assert.deepEqual(fixtures.vectors.map((v) => v.name).sort(), [
      'launch-command-health-http-check',
      'launch-http-health-command-check',
      'launch-tcp-defaults',
      'update-terminal-empty-check-status',
      'update-unhealthy-http-status',
    ]);
  });

  for (const v of fixtures.vectors) {
    it(`${v.name}: re-encodes to the same bytes; through JSON gives the same values`, () => roundTrips(v));
  }

  it('decodes an HTTP(S) health check and an argv COMMAND check with every field', () => {
    const task = protobufCodec.decodeEvent(vector('launch-http-health-command-check')).launch!.task;
    assert.deepStrictEqual(task.health_check, {
      delay_seconds: 0.5,
      interval_seconds: 2,
      timeout_seconds: 1.25,
      consecutive_failures: 2,
      grace_period_seconds: 30,
      type: 'HTTP',
      http: { protocol: 'IPv6', scheme: 'https', port: 8443, path: '/health', statuses: [200, 204] },
    });
    assert.deepStrictEqual(task.check, {
      type: 'COMMAND',
      command: {
        command: {
          environment: { variables: [{ name: 'MODE', value: 'check' }] },
          shell: false,
          value: '/bin/test',
          arguments: ['test', '-f', 'ready'],
        },
      },
      delay_seconds: 0,
      interval_seconds: 0.25,
      timeout_seconds: 0,
    });
  });

  it('writes the declared defaults into JSON as the agent does, and reads them back', () => {
    const event: Event = protobufCodec.decodeEvent(vector('launch-tcp-defaults'));
    const json = JSON.parse(Buffer.from(jsonCodec.encodeEvent(event)).toString()) as {
      launch: { task: { health_check: Record<string, unknown>; check: Record<string, unknown> } };
    };
    assert.deepStrictEqual(json.launch.task.health_check, {
      delay_seconds: 15,
      interval_seconds: 10,
      timeout_seconds: 20,
      consecutive_failures: 3,
      grace_period_seconds: 10,
      type: 'TCP',
      tcp: { protocol: 'IPv4', port: 5432 },
    });
    assert.deepStrictEqual(json.launch.task.check, { type: 'TCP', tcp: { port: 5432 }, delay_seconds: 15, interval_seconds: 10, timeout_seconds: 20 });
  });

  it('decodes healthy and check_status of an update, including an empty result', () => {
    const unhealthy: Call = protobufCodec.decodeCall(vector('update-unhealthy-http-status'));
    const status = unhealthy.update!.status;
    assert.deepStrictEqual(
      [status.state, status.reason, status.healthy, status.check_status],
      ['TASK_RUNNING', 'REASON_TASK_HEALTH_CHECK_STATUS_UPDATED', false, { type: 'HTTP', http: { status_code: 503 } }],
    );
    const terminal = protobufCodec.decodeCall(vector('update-terminal-empty-check-status')).update!.status;
    assert.deepStrictEqual([terminal.state, terminal.reason, terminal.healthy, terminal.check_status], [
      'TASK_KILLED',
      undefined,
      false,
      { type: 'COMMAND', command: {} },
    ]);
  });

  it('a missing upstream-required port is refused on a Call as the agent refuses it', () => {
    const call: Call = {
      executor_id: { value: 'e' },
      framework_id: { value: 'f' },
      type: 'SUBSCRIBE',
      subscribe: {
        unacknowledged_tasks: [
          { name: 't', task_id: { value: 't' }, agent_id: { value: 'a' }, health_check: { type: 'TCP', tcp: {} as { port: number } } },
        ],
      },
    };
    for (const codec of [protobufCodec, jsonCodec]) {
      assert.throws(() => codec.encodeCall(call), /subscribe\.unacknowledged_tasks\[0\]\.health_check\.tcp\.port/);
    }
  });

  it("docs/checks.md's LAUNCH example decodes and its checks are valid", () => {
    const page = readFileSync(join(repoRoot, 'docs', 'checks.md'), 'utf8');
    const at = page.indexOf('```json');
    const text = page.slice(at + '```json'.length, page.indexOf('```', at + 7));
    const task = jsonCodec.decodeEvent(Buffer.from(text)).launch!.task;
    assert.equal(task.health_check?.type, 'HTTP');
    assert.equal(task.check?.type, 'COMMAND');
    assert.equal(taskChecksProblem(task), undefined);
  });
});
