// Request bodies as the real agent reads them, over loopback HTTP: JSON with picojson's rules
// (stout JSON::parse), strings that are not valid UTF-8 in either encoding (proto2 strings are
// not checked by the agent's protobuf parser).
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { jsonCodec, protobufCodec } from '../../src/protocol/codec.js';
import { agentRig, rawRequest, taskStatus, updateCall, type RawResponse } from '../helpers/agent-client.js';
import type { LocalAgent } from '../../src/agent/index.js';

const { startAgent, open } = agentRig();

const MARK = 'MARK-0123456789';

/** A subscribed agent with task t1 launched. */
async function subscribedAgent(): Promise<LocalAgent> {
  const agent = await startAgent();
  const s = await open(agent);
  await s.next('SUBSCRIBED');
  agent.launchTask('t1');
  await s.next('LAUNCH');
  return agent;
}

/** A JSON UPDATE for t1 whose message is `MARK`, with `MARK` then replaced by `raw` bytes as they are. */
function jsonUpdate(agent: LocalAgent, raw: string | Buffer): Buffer {
  const body = Buffer.from(jsonCodec.encodeCall(updateCall(agent, taskStatus(agent, 't1', 'TASK_RUNNING', { message: MARK }))));
  return replace(body, Buffer.from(MARK), typeof raw === 'string' ? Buffer.from(raw, 'latin1') : raw);
}

function replace(body: Buffer, what: Buffer, by: Buffer): Buffer {
  const at = body.indexOf(what);
  assert.notEqual(at, -1);
  return Buffer.concat([body.subarray(0, at), by, body.subarray(at + what.length)]);
}

function post(agent: LocalAgent, contentType: string, body: Buffer): Promise<RawResponse> {
  return rawRequest(agent.endpoint, { headers: { 'Content-Type': contentType }, body });
}

describe('LocalAgent: JSON bodies with the agent’s parser', () => {
  it('400s an unpaired high-surrogate escape with picojson’s words, and records nothing', async () => {
    const agent = await subscribedAgent();
    const body = jsonUpdate(agent, '\\ud83d');
    const res = await post(agent, 'application/json', body);
    // picojson stops at the closing quote, which it pushed back: the rest of the line follows.
    const rest = body.subarray(body.indexOf('\\ud83d') + 6).toString('utf8');
    assert.deepEqual([res.status, res.body], [400, `Failed to parse body into JSON: syntax error at line 1 near: ${rest}`]);
    assert.equal(agent.task('t1')!.acceptedCount, 0);
    assert.equal(agent.counters.updatesReceived, 0);
  });

  it('400s a lone low-surrogate escape, and accepts a pair', async () => {
    const agent = await subscribedAgent();
    const low = await post(agent, 'application/json', jsonUpdate(agent, '\\udc00'));
    assert.equal(low.status, 400);
    assert.match(low.body, /^Failed to parse body into JSON: syntax error at line 1 near: "/);
    const pair = await post(agent, 'application/json', jsonUpdate(agent, '\\ud83d\\ude00'));
    assert.equal(pair.status, 202);
    assert.equal(agent.task('t1')!.statuses[0]!.message, '😀');
  });

  it('400s a value beyond the double range as "Value out of range"', async () => {
    const agent = await subscribedAgent();
    const body = replace(jsonUpdate(agent, 'x'), Buffer.from('"timestamp":'), Buffer.from('"timestamp":1e400,"t":'));
    const res = await post(agent, 'application/json', body);
    assert.deepEqual([res.status, res.body], [400, 'Failed to parse body into JSON: Value out of range']);
  });

  it('accepts numbers picojson reads and JSON.parse does not (leading zeros, "1.")', async () => {
    const agent = await subscribedAgent();
    const body = replace(jsonUpdate(agent, 'x'), Buffer.from('"timestamp":'), Buffer.from('"timestamp":0001700000000.,"t":'));
    const res = await post(agent, 'application/json', body);
    assert.equal(res.status, 202);
    assert.equal(agent.task('t1')!.statuses[0]!.timestamp, 1_700_000_000);
  });

  it('refuses a top-level value that is not an object as the protobuf conversion does', async () => {
    const agent = await startAgent();
    for (const body of ['[]', '"SUBSCRIBE"', '1x', 'null']) {
      const res = await post(agent, 'application/json', Buffer.from(body));
      assert.deepEqual([res.status, res.body], [400, 'Failed to convert JSON into Call protobuf: Expecting a JSON object'], body);
    }
    const trailing = await post(agent, 'application/json', Buffer.from('{"type":"HEARTBEAT"} {}'));
    assert.deepEqual([trailing.status, trailing.body], [400, 'Failed to parse body into JSON: Parsed JSON included non-whitespace trailing characters:  {}']);
  });

  it('refuses raw control characters in a string', async () => {
    const agent = await subscribedAgent();
    const res = await post(agent, 'application/json', jsonUpdate(agent, 'a\tb'));
    assert.equal(res.status, 400);
    assert.match(res.body, /^Failed to parse body into JSON: syntax error at line 1 near: b"/);
  });
});

describe('LocalAgent: strings that are not valid UTF-8', () => {
  it('accepts them in a JSON body (picojson copies bytes)', async () => {
    const agent = await subscribedAgent();
    const res = await post(agent, 'application/json', jsonUpdate(agent, Buffer.from([0xff, 0xfe, 0x41])));
    assert.equal(res.status, 202);
    assert.equal(agent.task('t1')!.acceptedCount, 1);
  });

  it('accepts them in a protobuf body (proto2 strings are not checked)', async () => {
    const agent = await subscribedAgent();
    const encoded = Buffer.from(protobufCodec.encodeCall(updateCall(agent, taskStatus(agent, 't1', 'TASK_RUNNING', { message: 'MARK' }))));
    const res = await post(agent, 'application/x-protobuf', replace(encoded, Buffer.from('MARK'), Buffer.from([0xff, 0xfe, 0xc0, 0x41])));
    assert.equal(res.status, 202);
    assert.equal(agent.task('t1')!.acceptedCount, 1);
  });
});
