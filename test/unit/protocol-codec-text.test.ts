// Strings at the codec boundary: whatever a JS string holds, what we encode is well-formed; and
// Mesos ids, which are opaque bytes, come back exactly as they came.
import { strict as assert } from 'node:assert';
import { isUtf8 } from 'node:buffer';
import { describe, it } from 'node:test';
import { messageSpec } from '../../src/proto/schema.js';
import type { Call } from '../../src/proto/types.js';
import { jsonCodec, protobufCodec } from '../../src/protocol/codec.js';
import { FIELD, fieldBytes } from '../helpers/protobuf-fields.js';

/** A lone high, a lone low, a reversed pair, and a good pair for contrast. */
const LONE_HIGH = 'a\ud83d';
const LONE_LOW = '\ude00b';
const REVERSED = '\ude00\ud83d';

function update(message: string, labelKey: string, labelValue: string): Call {
  return {
    executor_id: { value: 'e' },
    framework_id: { value: 'f' },
    type: 'UPDATE',
    update: {
      status: {
        task_id: { value: 't' },
        state: 'TASK_RUNNING',
        message,
        labels: { labels: [{ key: labelKey, value: labelValue }] },
      },
    },
  };
}

function subscribeWithLimits(key: string, name: string): Call {
  return {
    executor_id: { value: 'e' },
    framework_id: { value: 'f' },
    type: 'SUBSCRIBE',
    subscribe: {
      unacknowledged_tasks: [{ name, task_id: { value: 't' }, agent_id: { value: 'a' }, limits: { [key]: { value: 1 } } }],
    },
  };
}

/** The protobuf length-delimited field `tag` holding exactly `text`'s UTF-8. */
function field(tag: number, text: string): Buffer {
  const bytes = Buffer.from(text, 'utf8');
  assert.ok(bytes.length < 128);
  return Buffer.concat([Buffer.from([tag, bytes.length]), bytes]);
}

/** CESU-8 of a surrogate (ED A0..BF xx): what protobufjs writes for a lone surrogate. */
const SURROGATE_BYTES = /\xed[\xa0-\xbf]/;
/** A JSON escape of a surrogate, which picojson refuses when unpaired (we write none at all). */
const SURROGATE_ESCAPE = /\\u[dD][89a-fA-F][0-9a-fA-F]{2}/;

describe('codec: every string we encode is well-formed', () => {
  it('protobuf: lone surrogates in a message and a label go out as U+FFFD, valid UTF-8', () => {
    const body = Buffer.from(protobufCodec.encodeCall(update(LONE_HIGH, LONE_LOW, REVERSED)));
    assert.doesNotMatch(body.toString('latin1'), SURROGATE_BYTES);
    // TaskStatus.message is field 4 (tag 0x22); Label.key 1 (0x0a), Label.value 2 (0x12).
    assert.ok(body.includes(field(0x22, 'a\ufffd')), 'message as a\\ufffd');
    assert.ok(body.includes(field(0x0a, '\ufffdb')), 'label key as \\ufffdb');
    assert.ok(body.includes(field(0x12, '\ufffd\ufffd')), 'label value as two U+FFFD');
    const back = protobufCodec.decodeCall(body);
    assert.equal(back.update?.status.message, 'a\ufffd');
  });

  it('protobuf: a map key and a TaskInfo name in unacknowledged_tasks are well-formed too', () => {
    const body = Buffer.from(protobufCodec.encodeCall(subscribeWithLimits(LONE_HIGH, LONE_LOW)));
    assert.doesNotMatch(body.toString('latin1'), SURROGATE_BYTES);
    const task = protobufCodec.decodeCall(body).subscribe?.unacknowledged_tasks?.[0];
    assert.equal(task?.name, '\ufffdb');
    assert.deepEqual(Object.keys(task?.limits ?? {}), ['a\ufffd']);
  });

  it('JSON: lone surrogates are written as U+FFFD, never as a \\uD8xx escape', () => {
    for (const call of [update(LONE_HIGH, LONE_LOW, REVERSED), subscribeWithLimits(LONE_HIGH, LONE_LOW)]) {
      const body = Buffer.from(jsonCodec.encodeCall(call));
      assert.ok(isUtf8(body));
      const text = body.toString('utf8');
      assert.doesNotMatch(text, SURROGATE_ESCAPE);
      assert.ok(text.isWellFormed());
    }
    const text = Buffer.from(jsonCodec.encodeCall(update(LONE_HIGH, LONE_LOW, REVERSED))).toString('utf8');
    assert.ok(text.includes('"message":"a\ufffd"'));
    assert.ok(text.includes('"key":"\ufffdb","value":"\ufffd\ufffd"'));
    assert.ok(Buffer.from(jsonCodec.encodeCall(subscribeWithLimits(LONE_HIGH, 'n'))).toString('utf8').includes('"limits":{"a\ufffd":'));
  });

  it('keeps well-formed text, pairs included, byte for byte in both encodings', () => {
    const good = 'ü€😀\u2028';
    const pb = Buffer.from(protobufCodec.encodeCall(update(good, good, good)));
    assert.ok(pb.includes(field(0x22, good)));
    assert.equal(protobufCodec.decodeCall(pb).update?.status.message, good);
    assert.equal(jsonCodec.decodeCall(jsonCodec.encodeCall(update(good, good, good))).update?.status.message, good);
  });

  it('events too (the local agent writes them with the same codec)', () => {
    const event = { type: 'ERROR' as const, error: { message: LONE_HIGH } };
    assert.doesNotMatch(Buffer.from(protobufCodec.encodeEvent(event)).toString('latin1'), SURROGATE_BYTES);
    assert.doesNotMatch(Buffer.from(jsonCodec.encodeEvent(event)).toString('utf8'), SURROGATE_ESCAPE);
  });
});

describe('codec: Mesos ids keep their exact bytes (protobuf)', () => {
  /** FF FE are not UTF-8 anywhere; "-x" is. */
  const RAW_ID = Buffer.from('fffe2d78', 'hex');
  const ID = '\udcff\udcfe-x';

  /** A KILL event for a task id given as raw bytes, built by hand (no encoder of ours involved). */
  function killEvent(id: Buffer): Buffer {
    const taskId = Buffer.concat([Buffer.from([0x0a, id.length]), id]);
    const kill = Buffer.concat([Buffer.from([0x0a, taskId.length]), taskId]);
    // Event.type = KILL (3), Event.kill = field 5.
    return Buffer.concat([Buffer.from([0x08, 0x03, 0x2a, kill.length]), kill]);
  }

  it('an id that is not UTF-8 decodes to a distinct string and goes back as the same bytes', () => {
    const event = protobufCodec.decodeEvent(killEvent(RAW_ID));
    assert.equal(event.kill?.task_id.value, ID);
    // Another invalid id stays another id (a lossy decode would make both '\ufffd\ufffd-x').
    assert.notEqual(protobufCodec.decodeEvent(killEvent(Buffer.from('fefe2d78', 'hex'))).kill?.task_id.value, ID);
    assert.deepEqual(Buffer.from(protobufCodec.encodeEvent(event)), killEvent(RAW_ID));
    const call: Call = {
      executor_id: { value: '\udc80e' },
      framework_id: { value: '\udcc0f' },
      type: 'UPDATE',
      update: { status: { task_id: { value: ID }, state: 'TASK_RUNNING', agent_id: { value: '\udcffa' } } },
    };
    const body = Buffer.from(protobufCodec.encodeCall(call));
    assert.deepEqual(fieldBytes(body, [FIELD.CALL_UPDATE, FIELD.UPDATE_STATUS, FIELD.STATUS_TASK_ID, FIELD.ID_VALUE]), [RAW_ID]);
    assert.deepEqual(fieldBytes(body, [1, FIELD.ID_VALUE]), [Buffer.from('8065', 'hex')]);
    assert.deepEqual(fieldBytes(body, [2, FIELD.ID_VALUE]), [Buffer.from('c066', 'hex')]);
    assert.deepEqual(protobufCodec.decodeCall(body), call);
  });

  it('an id that is valid UTF-8 is unchanged, and a lone surrogate that stands for no byte is U+FFFD', () => {
    assert.equal(protobufCodec.decodeEvent(killEvent(Buffer.from('t-ü😀'))).kill?.task_id.value, 't-ü😀');
    const body = Buffer.from(protobufCodec.encodeEvent({ type: 'KILL', kill: { task_id: { value: 'x\ud83d' } } }));
    assert.deepEqual(body, killEvent(Buffer.from('x\ufffd')));
  });

  it('only id values are opaque: other strings are text', () => {
    for (const name of ['TaskID', 'ExecutorID', 'FrameworkID', 'AgentID', 'ContainerID', 'ResourceProviderID']) {
      assert.equal(messageSpec(`mesos.v1.${name}`).byName.get('value')?.opaqueId, true, name);
      assert.equal(messageSpec(`mesos.v1.${name}`).byName.get('value')?.kind, 'string', name);
    }
    assert.equal(messageSpec('mesos.v1.TaskInfo').byName.get('name')?.opaqueId, false);
    assert.equal(messageSpec('mesos.v1.TaskStatus').byName.get('message')?.opaqueId, false);
  });

  it('JSON cannot carry such an id: it is written with U+FFFD for each byte (see docs/wire.md)', () => {
    const text = Buffer.from(jsonCodec.encodeEvent({ type: 'KILL', kill: { task_id: { value: ID } } })).toString('utf8');
    assert.ok(text.includes('"task_id":{"value":"\ufffd\ufffd-x"}'), text);
  });
});
