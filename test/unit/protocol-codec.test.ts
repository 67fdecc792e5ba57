import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { CodecError } from '../../src/errors.js';
import { CALL_TYPE, EVENT_TYPE, messageSpec, withDeclaredDefaults } from '../../src/proto/schema.js';
import type { Call, Event } from '../../src/proto/types.js';
import { codecFor, jsonCodec, protobufCodec, UNKNOWN_FIELDS, type Codec } from '../../src/protocol/codec.js';
import { encodeMessage } from '../../src/protocol/codec-protobuf.js';
import { loadFixtures, splitRecordIO, type Vector } from '../helpers/wire-fixtures.js';

const fixtures = loadFixtures();
const byName = new Map(fixtures.vectors.map((v) => [v.name, v]));

function decode(codec: Codec, v: Vector, bytes: Uint8Array): Record<string, unknown> {
  return (v.kind === 'Call' ? codec.decodeCall(bytes) : codec.decodeEvent(bytes)) as unknown as Record<string, unknown>;
}

function encode(codec: Codec, v: Vector, value: unknown): Buffer {
  return Buffer.from(v.kind === 'Call' ? codec.encodeCall(value as Call) : codec.encodeEvent(value as Event));
}

const typeName = (v: Vector): string => (v.kind === 'Call' ? CALL_TYPE : EVENT_TYPE);
const pbBytes = (v: Vector): Buffer => Buffer.from(v.protobuf_hex, 'hex');
const jsonBytes = (v: Vector): Buffer => Buffer.from(JSON.stringify(v.json), 'utf8');

/**
 * JSON text as JSON.parse + JSON.stringify see it: drops the `.0` of integral doubles (which
 * the fixture object, read with JSON.parse, has lost too) but keeps the key order.
 */
const normalised = (text: string): string => JSON.stringify(JSON.parse(text));

function assertCodecError(fn: () => unknown, code: CodecError['code'], message?: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof CodecError, `expected a CodecError, got ${String(err)}`);
    assert.equal(err.code, code);
    if (message !== undefined) assert.match(err.message, message);
    return true;
  });
}

describe('codec: the fixture vectors', () => {
  it('has every vector we expect', () => {
    assert.equal(fixtures.vectors.length, 16);
  });

  for (const v of fixtures.vectors) {
    describe(v.name, () => {
      it('protobuf bytes → decode → encode gives the same bytes', () => {
        const value = decode(protobufCodec, v, pbBytes(v));
        assert.equal(encode(protobufCodec, v, value).toString('hex'), v.protobuf_hex);
      });

      it('is covered by our schema subset (no unknown fields left over)', () => {
        assert.equal((decode(protobufCodec, v, pbBytes(v)) as { [UNKNOWN_FIELDS]?: unknown })[UNKNOWN_FIELDS], undefined);
      });

      it('decodes from protobuf and from JSON to the same effective values', () => {
        // The agent's JSON writes every unset field that declares a (non-deprecated) default,
        // e.g. "shell": true, "failover_timeout": 0.0, while the protobuf bytes leave them out.
        // Both mean the same message, so compare after filling the declared defaults in.
        const fromPb = decode(protobufCodec, v, pbBytes(v));
        const fromJson = decode(jsonCodec, v, jsonBytes(v));
        assert.deepStrictEqual(withDeclaredDefaults(typeName(v), fromJson), withDeclaredDefaults(typeName(v), fromPb));
      });

      it('JSON → decode → JSON encode equals the fixture JSON (field order included)', () => {
        const value = decode(jsonCodec, v, jsonBytes(v));
        assert.equal(normalised(encode(jsonCodec, v, value).toString('utf8')), JSON.stringify(v.json));
      });

      it("protobuf → decode → JSON encode equals the agent's JSON", () => {
        const value = decode(protobufCodec, v, pbBytes(v));
        assert.equal(normalised(encode(jsonCodec, v, value).toString('utf8')), JSON.stringify(v.json));
      });
    });
  }

  it('JSON → protobuf gives the official bytes (declared defaults aside)', () => {
    // The JSON carries defaults (shell: true) that the official bytes do not, so only the
    // vectors without such fields can compare bytes.
    for (const name of ['call-update-running', 'call-message', 'event-kill', 'event-acknowledged', 'event-message']) {
      const v = byName.get(name)!;
      assert.equal(encode(protobufCodec, v, decode(jsonCodec, v, jsonBytes(v))).toString('hex'), v.protobuf_hex, name);
    }
  });
});

describe('codec: the RecordIO streams', () => {
  const { names } = fixtures.streams;

  it('the protobuf stream decodes record by record to the named events', () => {
    const records = splitRecordIO(Buffer.from(fixtures.streams.protobuf_recordio_hex, 'hex'));
    assert.equal(records.length, names.length);
    records.forEach((record, i) => {
      const v = byName.get(names[i]!)!;
      assert.equal(record.toString('hex'), v.protobuf_hex);
      assert.equal(protobufCodec.decodeEvent(record).type, v.json['type']);
    });
  });

  it("the JSON stream decodes record by record; our JSON of each event is the agent's, byte for byte", () => {
    const records = splitRecordIO(Buffer.from(fixtures.streams.json_recordio_utf8, 'utf8'));
    assert.equal(records.length, names.length);
    records.forEach((record, i) => {
      const v = byName.get(names[i]!)!;
      const fromJson = jsonCodec.decodeEvent(record);
      assert.equal(fromJson.type, v.json['type']);
      const fromPb = protobufCodec.decodeEvent(pbBytes(v));
      assert.equal(Buffer.from(jsonCodec.encodeEvent(fromPb)).toString('utf8'), record.toString('utf8'), names[i]);
      assert.equal(Buffer.from(jsonCodec.encodeEvent(fromJson)).toString('utf8'), record.toString('utf8'), names[i]);
    });
  });

  it('the compact JSON keeps the .0 of integral doubles (64.0, 0.0)', () => {
    const launch = Buffer.from(jsonCodec.encodeEvent(protobufCodec.decodeEvent(pbBytes(byName.get('event-launch')!))));
    assert.match(launch.toString(), /"scalar":\{"value":64\.0\}/);
    const subscribed = Buffer.from(jsonCodec.encodeEvent(protobufCodec.decodeEvent(pbBytes(byName.get('event-subscribed')!))));
    assert.match(subscribed.toString(), /"failover_timeout":0\.0,"checkpoint":true/);
  });
});

describe('codec: Message.data field numbers differ between Call and Event', () => {
  const ids = { executor_id: { value: 'E' }, framework_id: { value: 'F' } };

  it('Call.Message.data is field 2', () => {
    const bytes = Buffer.from(protobufCodec.encodeCall({ ...ids, type: 'MESSAGE', message: { data: Uint8Array.of(0xab) } }));
    // ... field 6 (message), length 3: tag 0x12 = field 2, wire type 2; length 1; 0xab
    assert.ok(bytes.toString('hex').endsWith('3203' + '1201ab'), bytes.toString('hex'));
    assert.ok(byName.get('call-message')!.protobuf_hex.includes('32' + '0c' + '120a'));
  });

  it('Event.Message.data is field 1', () => {
    const bytes = Buffer.from(protobufCodec.encodeEvent({ type: 'MESSAGE', message: { data: Uint8Array.of(0xab) } }));
    assert.equal(bytes.toString('hex'), '0805' + '3203' + '0a01ab');
    assert.equal(byName.get('event-message')!.protobuf_hex.slice(4, 8), '320b');
    assert.equal(byName.get('event-message')!.protobuf_hex.slice(8, 10), '0a');
  });

  it('decodes each with its own number', () => {
    const call = protobufCodec.decodeCall(pbBytes(byName.get('call-message')!));
    assert.equal(Buffer.from(call.message!.data).toString('utf8'), 'héllo ✓');
    const event = protobufCodec.decodeEvent(pbBytes(byName.get('event-message')!));
    assert.deepStrictEqual([...event.message!.data], [0, 1, ...Buffer.from('binary'), 0xff]);
  });
});

describe('codec: 64-bit integers', () => {
  const BIG = '9223372036854775807'; // int64 max
  const NEG = '-9223372036854775808'; // int64 min
  const UBIG = '18446744073709551615'; // uint64 max
  const call: Call = {
    executor_id: { value: 'E' },
    framework_id: { value: 'F' },
    type: 'UPDATE',
    update: {
      status: {
        task_id: { value: 'T' },
        state: 'TASK_RUNNING',
        unreachable_time: { nanoseconds: BIG },
        limitation: {
          resources: [{ name: 'ports', type: 'RANGES', ranges: { range: [{ begin: 31000, end: UBIG }] } }],
        },
      },
    },
  };

  for (const codec of [protobufCodec, jsonCodec]) {
    it(`values beyond 2^53 survive ${codec.contentType} as decimal strings`, () => {
      const back = codec.decodeCall(codec.encodeCall(call));
      assert.deepStrictEqual(back, call);
      const negative = structuredClone(call);
      negative.update!.status.unreachable_time = { nanoseconds: NEG };
      assert.deepStrictEqual(codec.decodeCall(codec.encodeCall(negative)), negative);
    });

    it(`values within 2^53 come back from ${codec.contentType} as numbers`, () => {
      const small = structuredClone(call);
      small.update!.status.unreachable_time = { nanoseconds: '9007199254740991' };
      const back = codec.decodeCall(codec.encodeCall(small));
      assert.equal(back.update!.status.unreachable_time!.nanoseconds, 9007199254740991);
      small.update!.status.unreachable_time = { nanoseconds: -5 };
      assert.equal(codec.decodeCall(codec.encodeCall(small)).update!.status.unreachable_time!.nanoseconds, -5);
    });
  }

  it('JSON writes big int64 values as bare digits, as the agent does', () => {
    const text = Buffer.from(jsonCodec.encodeCall(call)).toString('utf8');
    assert.ok(text.includes(`"nanoseconds":${BIG}`), text);
    assert.ok(text.includes(`"end":${UBIG}`), text);
  });

  it('JSON reads int64 from a number or a string, without losing digits', () => {
    const body = (ns: string): Buffer =>
      Buffer.from(
        `{"executor_id":{"value":"E"},"framework_id":{"value":"F"},"type":"UPDATE","update":{"status":{"task_id":{"value":"T"},"state":"TASK_RUNNING","unreachable_time":{"nanoseconds":${ns}}}}}`,
      );
    const ns = (b: Buffer): unknown => jsonCodec.decodeCall(b).update!.status.unreachable_time!.nanoseconds;
    assert.equal(ns(body('1700000000123456789')), '1700000000123456789');
    assert.equal(ns(body('"1700000000123456789"')), '1700000000123456789');
    assert.equal(ns(body('"5000000000"')), 5000000000);
    assert.equal(ns(body('5000000000')), 5000000000);
  });

  it('refuses an int64 that is not an integer on encode', () => {
    const bad = structuredClone(call);
    bad.update!.status.unreachable_time = { nanoseconds: '12.5' };
    assertCodecError(() => protobufCodec.encodeCall(bad), 'MPE_ENCODE', /unreachable_time\.nanoseconds/);
    assertCodecError(() => jsonCodec.encodeCall(bad), 'MPE_ENCODE', /unreachable_time\.nanoseconds/);
  });
});

describe('codec: the JSON reader accepts what the agent accepts', () => {
  const ids = '"executor_id":{"value":"E"},"framework_id":{"value":"F"}';
  const call = (rest: string): Call => jsonCodec.decodeCall(Buffer.from(`{${ids}${rest}}`));
  const status = (fields: string): Call =>
    call(`,"type":"UPDATE","update":{"status":{"task_id":{"value":"T"},"state":"TASK_RUNNING"${fields}}}`);
  const event = (text: string): Event => jsonCodec.decodeEvent(Buffer.from(text));
  const subscribed = (frameworkInfo: string, agentInfo = '{"hostname":"h"}'): Event =>
    event(
      `{"type":"SUBSCRIBED","subscribed":{"executor_info":{"executor_id":{"value":"E"}},"framework_info":${frameworkInfo},"agent_info":${agentInfo}}}`,
    );

  it('refuses an enum given as a number', () => {
    assertCodecError(() => call(',"type":1'), 'MPE_DECODE', /Not expecting a JSON number for field 'type'/);
    assertCodecError(() => event('{"type":1}'), 'MPE_DECODE');
  });

  it('drops an unknown name of an optional enum, refuses one of a required enum', () => {
    assert.equal(call(',"type":"NOT_A_TYPE"').type, undefined);
    assert.equal(status(',"source":"SOURCE_BOGUS"').update!.status.source, undefined);
    assertCodecError(
      () => call(',"type":"UPDATE","update":{"status":{"task_id":{"value":"T"},"state":"TASK_BOGUS"}}'),
      'MPE_DECODE',
      /Failed to find enum for 'TASK_BOGUS'/,
    );
  });

  it('decodes standard base64, skipping whitespace and stopping at =', () => {
    assert.deepStrictEqual([...status(',"uuid":"AAEC\\nAw"').update!.status.uuid!], [0, 1, 2, 3]);
    assert.deepStrictEqual([...status(',"uuid":"+/8="').update!.status.uuid!], [0xfb, 0xff]);
    assert.deepStrictEqual([...status(',"uuid":"AAEC=garbage"').update!.status.uuid!], [0, 1, 2]);
  });

  it('refuses URL-safe base64 and other stray characters', () => {
    assertCodecError(() => status(',"uuid":"-_8"'), 'MPE_DECODE', /Failed to base64 decode bytes field 'uuid': Invalid character '-'/);
    assertCodecError(() => status(',"data":"ab*c"'), 'MPE_DECODE', /Invalid character '\*'/);
  });

  it('takes "true"/"false" strings for bools', () => {
    const fi = subscribed('{"user":"u","name":"n","checkpoint":"true"}').subscribed!.framework_info;
    assert.equal(fi.checkpoint, true);
    assert.equal(status(',"healthy":"false"').update!.status.healthy, false);
    assertCodecError(() => status(',"healthy":"yes"'), 'MPE_DECODE');
    assertCodecError(() => status(',"healthy":1'), 'MPE_DECODE', /Not expecting a JSON number/);
  });

  it('takes numeric strings for numbers, and "Infinity" for doubles', () => {
    const e = subscribed('{"user":"u","name":"n","failover_timeout":"1.5"}', '{"hostname":"h","port":"5052"}');
    assert.equal(e.subscribed!.framework_info.failover_timeout, 1.5);
    assert.equal(e.subscribed!.agent_info.port, 5052);
    assert.equal(status(',"timestamp":"Infinity"').update!.status.timestamp, Infinity);
    assert.equal(status(',"timestamp":1764130000.25').update!.status.timestamp, 1764130000.25);
    assertCodecError(() => status(',"timestamp":"soon"'), 'MPE_DECODE');
    assertCodecError(() => status(',"timestamp":true'), 'MPE_DECODE', /Not expecting a JSON boolean/);
  });

  it('takes a single value where a repeated field is expected', () => {
    const fi = subscribed('{"user":"u","name":"n","capabilities":{"type":"PARTITION_AWARE"},"roles":"r1"}')
      .subscribed!.framework_info;
    assert.deepStrictEqual(fi.capabilities, [{ type: 'PARTITION_AWARE' }]);
    assert.deepStrictEqual(fi.roles, ['r1']);
    const sub = call(',"type":"SUBSCRIBE","subscribe":{"unacknowledged_tasks":{"name":"t","task_id":{"value":"T"},"agent_id":{"value":"A"}}}');
    assert.equal(sub.subscribe!.unacknowledged_tasks!.length, 1);
  });

  it('ignores unknown fields, camelCase included (a misspelt required field is then missing)', () => {
    assert.deepStrictEqual(call(',"type":"HEARTBEAT","extra":{"x":[1,2]}'), {
      executor_id: { value: 'E' },
      framework_id: { value: 'F' },
      type: 'HEARTBEAT',
    });
    assertCodecError(
      () => jsonCodec.decodeCall(Buffer.from('{"executorId":{"value":"E"},"framework_id":{"value":"F"}}')),
      'MPE_DECODE',
      /Missing required fields: executor_id/,
    );
  });

  it('treats null as unset', () => {
    assert.equal(call(',"type":null,"subscribe":null').type, undefined);
  });

  it('refuses a top level that is not an object', () => {
    for (const text of ['[]', '"call"', '42', 'null', 'true']) {
      assertCodecError(() => jsonCodec.decodeCall(Buffer.from(text)), 'MPE_DECODE', /Expecting a JSON object/);
      assertCodecError(() => jsonCodec.decodeEvent(Buffer.from(text)), 'MPE_DECODE', /Expecting a JSON object/);
    }
  });

  it('refuses a wrong JSON type for a message field', () => {
    assertCodecError(() => call(',"subscribe":"yes"'), 'MPE_DECODE', /Not expecting a JSON string for field 'subscribe'/);
    assertCodecError(() => call(',"type":["SUBSCRIBE"]'), 'MPE_DECODE', /Not expecting a JSON array/);
  });
});

describe('codec: garbage and missing fields', () => {
  const garbage: Array<[string, Buffer]> = [
    ['0xff bytes', Buffer.from('ffffffffffffffffffff', 'hex')],
    ['a truncated event', pbBytes(byName.get('event-launch')!).subarray(0, 40)],
    ['a wrong wire type tag with no payload', Buffer.from('0a', 'hex')],
    ['a length beyond the end', Buffer.from('2264', 'hex')],
  ];

  for (const [what, bytes] of garbage) {
    it(`protobuf: ${what} → MPE_DECODE`, () => {
      assertCodecError(() => protobufCodec.decodeEvent(bytes), 'MPE_DECODE');
      assertCodecError(() => protobufCodec.decodeCall(bytes), 'MPE_DECODE');
    });
  }

  it('JSON: text that is not JSON → MPE_DECODE', () => {
    for (const text of ['{"type":', '', '{type: "SHUTDOWN"}', '\u0000\u0001']) {
      assertCodecError(() => jsonCodec.decodeEvent(Buffer.from(text)), 'MPE_DECODE', /Failed to parse body into JSON/);
      assertCodecError(() => jsonCodec.decodeCall(Buffer.from(text)), 'MPE_DECODE');
    }
    assertCodecError(() => jsonCodec.decodeEvent(pbBytes(byName.get('event-launch')!)), 'MPE_DECODE');
  });

  const incomplete: Array<[string, Call, RegExp]> = [
    ['framework_id', { executor_id: { value: 'E' }, type: 'HEARTBEAT' } as unknown as Call, /framework_id/],
    [
      'update.status.task_id',
      {
        executor_id: { value: 'E' },
        framework_id: { value: 'F' },
        type: 'UPDATE',
        update: { status: { state: 'TASK_RUNNING' } },
      } as unknown as Call,
      /update\.status\.task_id/,
    ],
    [
      'subscribe.unacknowledged_tasks[0].agent_id',
      {
        executor_id: { value: 'E' },
        framework_id: { value: 'F' },
        type: 'SUBSCRIBE',
        subscribe: { unacknowledged_tasks: [{ name: 't', task_id: { value: 'T' } }] },
      } as unknown as Call,
      /subscribe\.unacknowledged_tasks\[0\]\.agent_id/,
    ],
  ];

  for (const [what, call, path] of incomplete) {
    it(`encodeCall without ${what} → MPE_ENCODE (both codecs)`, () => {
      assertCodecError(() => protobufCodec.encodeCall(call), 'MPE_ENCODE', path);
      assertCodecError(() => jsonCodec.encodeCall(call), 'MPE_ENCODE', path);
    });
  }

  it('decodeCall refuses a Call missing a required field, as the agent parser does', () => {
    // Encoded as an Event-shaped partial message: field 1 (executor_id) only.
    const partial = Buffer.from('0a030a0145', 'hex');
    assertCodecError(() => protobufCodec.decodeCall(partial), 'MPE_DECODE', /Missing required fields: framework_id/);
    assert.deepStrictEqual(protobufCodec.decodeCall(partial, { requireInitialized: false }), { executor_id: { value: 'E' } });
    const json = Buffer.from('{"executor_id":{"value":"E"}}');
    assertCodecError(() => jsonCodec.decodeCall(json), 'MPE_DECODE', /Missing required fields: framework_id/);
    assert.deepStrictEqual(jsonCodec.decodeCall(json, { requireInitialized: false }), { executor_id: { value: 'E' } });
  });

  it('decodeEvent is lenient: an event missing required fields still decodes', () => {
    const launch = { type: 'LAUNCH', launch: { task: { name: 'only a name' } } } as unknown as Event;
    for (const codec of [protobufCodec, jsonCodec]) {
      assert.deepStrictEqual(codec.decodeEvent(codec.encodeEvent(launch)), launch);
    }
  });

  it('refuses a value of the wrong type on encode, naming the field', () => {
    const bad = { type: 'KILL', kill: { task_id: { value: 7 } } } as unknown as Event;
    assertCodecError(() => protobufCodec.encodeEvent(bad), 'MPE_ENCODE', /kill\.task_id\.value/);
    assertCodecError(() => jsonCodec.encodeEvent(bad), 'MPE_ENCODE', /kill\.task_id\.value/);
    assertCodecError(() => protobufCodec.encodeEvent({ type: 'NOT_A_TYPE' } as unknown as Event), 'MPE_ENCODE', /type/);
  });
});

describe('codec: unknown enum numbers and unknown fields (protobuf)', () => {
  it('an unknown enum number leaves the field unset, as proto2 does, and survives re-encoding', () => {
    const bytes = Buffer.from('0863', 'hex'); // Event.type = 99
    const event = protobufCodec.decodeEvent(bytes);
    assert.equal(event.type, undefined);
    assert.equal(Buffer.from(protobufCodec.encodeEvent(event)).toString('hex'), '0863');
  });

  it('fields our subset leaves out (TaskInfo.container) survive decode → encode', () => {
    const launch = pbBytes(byName.get('event-launch')!);
    // Append TaskInfo field 9 (ContainerInfo) = {type: MESOS} to the task, fixing both lengths.
    const task = protobufCodec.decodeEvent(launch);
    const container = Buffer.from('4a020802', 'hex');
    const taskBytes = Buffer.concat([encodeMessage(messageSpec('TaskInfo'), task.launch!.task as never), container]);
    const launchBody = Buffer.concat([Buffer.from([0x0a]), varint(taskBytes.length), taskBytes]);
    const event = Buffer.concat([Buffer.from('0802', 'hex'), Buffer.from([0x22]), varint(launchBody.length), launchBody]);
    const decoded = protobufCodec.decodeEvent(event);
    // The unknown field rides beside the known ones, as an enumerable symbol-keyed property.
    assert.deepStrictEqual(decoded, { ...task, launch: { task: { ...task.launch!.task, [UNKNOWN_FIELDS]: [container] } } });
    assert.equal(Buffer.from(protobufCodec.encodeEvent(decoded)).toString('hex'), event.toString('hex'));
    // A copy, not a view of the event's bytes.
    event.fill(0);
    assert.deepEqual((decoded.launch!.task as { [UNKNOWN_FIELDS]?: Uint8Array[] })[UNKNOWN_FIELDS], [container]);
    // ...and a copy by spread or object rest keeps it: the driver re-sends such copies.
    const { data: _data, ...withoutData } = decoded.launch!.task;
    assert.ok(Buffer.from(encodeMessage(messageSpec('TaskInfo'), withoutData as never)).includes(container));
  });
});

function varint(n: number): Buffer {
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  out.push(n);
  return Buffer.from(out);
}

describe('codec: the JSON writer', () => {
  it('writes unset fields with a non-deprecated declared default, and not deprecated ones', () => {
    const event: Event = {
      type: 'SUBSCRIBED',
      subscribed: {
        executor_info: {
          executor_id: { value: 'E' },
          command: { environment: { variables: [{ name: 'X', value: '1' }] }, uris: [{ value: 'u' }] },
        },
        framework_info: { user: 'u', name: 'n' },
        agent_info: { hostname: 'h', resources: [{ name: 'cpus', type: 'SCALAR', scalar: { value: 2 } }] },
      },
    };
    assert.equal(
      Buffer.from(jsonCodec.encodeEvent(event)).toString(),
      '{"type":"SUBSCRIBED","subscribed":{' +
        '"executor_info":{"executor_id":{"value":"E"},"command":{"uris":[{"value":"u","extract":true}],' +
        '"environment":{"variables":[{"name":"X","type":"VALUE","value":"1"}]},"shell":true}},' +
        '"framework_info":{"user":"u","name":"n","failover_timeout":0.0,"checkpoint":false},' +
        '"agent_info":{"hostname":"h","port":5051,"resources":[{"name":"cpus","type":"SCALAR","scalar":{"value":2.0}}]}}}',
    );
  });

  it('writes doubles as rapidjson does', async () => {
    const { formatDouble } = await import('../../src/protocol/codec.js');
    const cases: Array<[number, string]> = [
      [64, '64.0'],
      [0, '0.0'],
      [-0, '-0.0'],
      [0.5, '0.5'],
      [1764130000.25, '1764130000.25'],
      [1e20, '100000000000000000000.0'],
      [1e21, '1e21'],
      [1.5e300, '1.5e300'],
      [1e-7, '1e-7'],
      [0.000001, '0.000001'],
      [-2.5, '-2.5'],
    ];
    for (const [value, text] of cases) assert.equal(formatDouble(value), text, String(value));
  });

  it('escapes control characters with upper-case hex, like rapidjson', () => {
    const text = Buffer.from(jsonCodec.encodeEvent({ type: 'ERROR', error: { message: 'a\u001fb\n"\\é' } })).toString();
    assert.equal(text, '{"type":"ERROR","error":{"message":"a\\u001Fb\\n\\"\\\\é"}}');
    assert.equal(jsonCodec.decodeEvent(Buffer.from(text)).error!.message, 'a\u001fb\n"\\é');
  });

  it('writes map fields (TaskInfo.limits) as objects, and reads them back', () => {
    const event: Event = {
      type: 'LAUNCH',
      launch: { task: { name: 't', task_id: { value: 'T' }, agent_id: { value: 'A' }, limits: { cpus: { value: 1.5 } } } },
    };
    const text = Buffer.from(jsonCodec.encodeEvent(event)).toString();
    assert.ok(text.endsWith('"limits":{"cpus":{"value":1.5}}}}}'), text);
    assert.deepStrictEqual(jsonCodec.decodeEvent(Buffer.from(text)), event);
    assert.deepStrictEqual(protobufCodec.decodeEvent(protobufCodec.encodeEvent(event)), event);
  });
});

describe('codecFor', () => {
  it('matches the two content types exactly', () => {
    assert.equal(codecFor('application/json'), jsonCodec);
    assert.equal(codecFor('application/x-protobuf'), protobufCodec);
    assert.equal(jsonCodec.contentType, 'application/json');
    assert.equal(protobufCodec.contentType, 'application/x-protobuf');
  });

  it('refuses anything else, parameters and case included', () => {
    for (const type of ['application/json; charset=utf-8', 'Application/JSON', 'application/recordio', '', 'text/plain']) {
      assertCodecError(() => codecFor(type), 'MPE_UNSUPPORTED_CONTENT_TYPE');
    }
  });
});
