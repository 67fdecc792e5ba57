// validateExecutorCall: upstream's checks, order and messages (PROTOCOL.md §8.1).
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { isValidUuid, validateExecutorCall } from '../../src/agent/validation.js';
import type { Call, TaskStatus } from '../../src/proto/types.js';

const V4 = Buffer.from('3f2b6c1e9d4a4c7e8b1f2a6d5e9c0b17', 'hex');
const ids = { executor_id: { value: 'E' }, framework_id: { value: 'F' } };

function update(status: Partial<TaskStatus>): Call {
  return {
    ...ids,
    type: 'UPDATE',
    update: { status: { task_id: { value: 'T' }, state: 'TASK_RUNNING', source: 'SOURCE_EXECUTOR', uuid: V4, ...status } },
  };
}

describe('validateExecutorCall', () => {
  it('passes well-formed calls of every type, including UNKNOWN (answered 501 later)', () => {
    assert.equal(validateExecutorCall({ ...ids, type: 'SUBSCRIBE', subscribe: {} }), undefined);
    assert.equal(validateExecutorCall(update({})), undefined);
    assert.equal(validateExecutorCall({ ...ids, type: 'MESSAGE', message: { data: Buffer.from('x') } }), undefined);
    assert.equal(validateExecutorCall({ ...ids, type: 'HEARTBEAT' }), undefined);
    assert.equal(validateExecutorCall({ ...ids, type: 'UNKNOWN' }), undefined);
  });

  it("reports a missing type, and an unknown enum number as missing, before the ids", () => {
    assert.equal(validateExecutorCall({ ...ids }), "Expecting 'type' to be present");
    assert.equal(validateExecutorCall({ ...ids, type: 42 }), "Expecting 'type' to be present");
    const noIds = { type: 'SUBSCRIBE' } as unknown as Call;
    assert.equal(validateExecutorCall(noIds), "Expecting 'executor_id' to be present");
    const noFramework = { type: 'SUBSCRIBE', executor_id: { value: 'E' } } as unknown as Call;
    assert.equal(validateExecutorCall(noFramework), "Expecting 'framework_id' to be present");
  });

  it('reports an id without its value as not initialized', () => {
    const call = { type: 'HEARTBEAT', executor_id: {}, framework_id: { value: 'F' } } as unknown as Call;
    assert.equal(validateExecutorCall(call), 'Not initialized: executor_id.value');
  });

  it('requires the payload of SUBSCRIBE, UPDATE and MESSAGE', () => {
    assert.equal(validateExecutorCall({ ...ids, type: 'SUBSCRIBE' }), "Expecting 'subscribe' to be present");
    assert.equal(validateExecutorCall({ ...ids, type: 'UPDATE' }), "Expecting 'update' to be present");
    assert.equal(validateExecutorCall({ ...ids, type: 'MESSAGE' }), "Expecting 'message' to be present");
  });

  it('checks an UPDATE in upstream order with upstream messages', () => {
    const noUuid = update({});
    delete noUuid.update!.status.uuid;
    assert.equal(validateExecutorCall(noUuid), "Expecting 'uuid' to be present");
    assert.equal(validateExecutorCall(update({ uuid: Buffer.from('PytsHp1KTH6LHyptXpwLFw==') })), 'Not a valid UUID');
    assert.equal(
      validateExecutorCall(update({ executor_id: { value: 'other' } })),
      'ExecutorID in Call: E does not match ExecutorID in TaskStatus: other',
    );
    const noSource = update({});
    delete noSource.update!.status.source;
    const sourceMessage = "Received Call from executor E of framework F with invalid source, expecting 'SOURCE_EXECUTOR'";
    assert.equal(validateExecutorCall(noSource), sourceMessage);
    assert.equal(validateExecutorCall(update({ source: 'SOURCE_AGENT' })), sourceMessage);
    assert.equal(
      validateExecutorCall(update({ state: 'TASK_STAGING' })),
      'Received TASK_STAGING from executor E of framework F which is not allowed',
    );
    // Order: the uuid is checked before the source and the state.
    assert.equal(validateExecutorCall(update({ uuid: Buffer.alloc(3), source: 'SOURCE_AGENT', state: 'TASK_STAGING' })), 'Not a valid UUID');
  });

  it('checks check_status', () => {
    assert.equal(validateExecutorCall(update({ check_status: {} })), "CheckStatusInfo must specify 'type'");
    assert.equal(validateExecutorCall(update({ check_status: { type: 'COMMAND' } })), "Expecting 'command' to be set for COMMAND check's status");
    assert.equal(validateExecutorCall(update({ check_status: { type: 'HTTP' } })), "Expecting 'http' to be set for HTTP check's status");
    assert.equal(validateExecutorCall(update({ check_status: { type: 'TCP' } })), "Expecting 'tcp' to be set for TCP check's status");
    assert.equal(validateExecutorCall(update({ check_status: { type: 'UNKNOWN' } })), "'UNKNOWN' is not a valid check's status type");
    assert.equal(validateExecutorCall(update({ check_status: { type: 'TCP', tcp: { succeeded: true } } })), undefined);
    assert.equal(validateExecutorCall(update({ check_status: { type: 'COMMAND', command: {} } })), undefined);
  });
});

describe('isValidUuid', () => {
  it('wants 16 bytes with a version nibble from 1 to 5', () => {
    assert.equal(isValidUuid(V4), true);
    for (const version of [1, 2, 3, 4, 5]) {
      const bytes = Buffer.from(V4);
      bytes[6] = (version << 4) | 0x0a;
      assert.equal(isValidUuid(bytes), true, `version ${version}`);
    }
    for (const version of [0, 6, 7, 15]) {
      const bytes = Buffer.from(V4);
      bytes[6] = (version << 4) | 0x0a;
      assert.equal(isValidUuid(bytes), false, `version ${version}`);
    }
    assert.equal(isValidUuid(Buffer.alloc(15, 0x40)), false);
    assert.equal(isValidUuid(Buffer.alloc(17, 0x40)), false);
    // The docs' example: base64 of the 36-character text form plus a newline, 37 bytes.
    assert.equal(isValidUuid(Buffer.from('d40f3f3e-bbe3-44af-a230-4cb1eae72f67\n')), false);
  });
});
