// Strings at the codec boundary: whatever a JS string holds, what we encode is well-formed.
import { strict as assert } from 'node:assert';
import { isUtf8 } from 'node:buffer';
import { describe, it } from 'node:test';
import type { Call } from '../../src/proto/types.js';
import { jsonCodec, protobufCodec } from '../../src/protocol/codec.js';

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
