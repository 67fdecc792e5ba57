// The executor endpoint over real loopback HTTP: every row of PROTOCOL.md §2.2, in upstream's
// order, with upstream's texts.
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import type { Call } from '../../src/proto/types.js';
import {
  ids,
  postCall,
  rawRequest,
  subscribeCall,
  taskStatus,
  updateCall,
  agentRig,
} from '../helpers/agent-client.js';
import type { LocalAgent } from '../../src/agent/index.js';
import { waitFor } from '../helpers/wait.js';

const { startAgent, open } = agentRig();

/** Puts the agent in a recovery phase for the rest of the test (stop() ends it); `recovering` needs checkpointing. */
async function holdPhase(agent: LocalAgent, phase: 'containerizer-recovery' | 'recovering'): Promise<void> {
  const long = 60_000;
  void agent.restart(phase === 'containerizer-recovery' ? { recoverMs: long } : { reregisterMs: long }).catch(() => undefined);
  await waitFor(() => agent.phase === phase, { what: `phase ${phase}` });
}

const TEXT = 'text/plain; charset=utf-8';

describe('LocalAgent endpoint: routes', () => {
  it('serves /api/v1/executor and /slave(1)/api/v1/executor (also percent-encoded), 404 elsewhere', async () => {
    const agent = await startAgent();
    for (const path of ['/api/v1/executor', '/slave(1)/api/v1/executor', '/slave%281%29/api/v1/executor', '/api/v1/executor?x=1']) {
      const res = await postCall(agent, { ...ids(agent), type: 'HEARTBEAT' }, { path });
      assert.equal(res.status, 202, path);
    }
    for (const path of ['/', '/api/v1', '/slave(2)/api/v1/executor', '/api/v1/scheduler']) {
      const res = await postCall(agent, { ...ids(agent), type: 'HEARTBEAT' }, { path });
      assert.equal(res.status, 404, path);
    }
    assert.equal(agent.url, `http://${agent.endpoint}/slave(1)/api/v1/executor`);
    assert.equal(agent.pid, `slave(1)@127.0.0.1:${agent.port}`);
  });
});

describe('LocalAgent endpoint: §2.2 rows', () => {
  it('row 0: 401 with the Bearer challenge when a token is configured and missing or wrong', async () => {
    const agent = await startAgent({ authToken: 'sekrit' });
    const call = { ...ids(agent), type: 'HEARTBEAT' } as Call;
    const missing = await postCall(agent, call);
    assert.equal(missing.status, 401);
    assert.equal(missing.headers['www-authenticate'], 'Bearer realm="mesos-agent-executor"');
    const cases: Array<[string, string]> = [
      ['sekrit', `Bearer realm="mesos-agent-executor", error="invalid_token", error_description="Malformed 'Authorization' header"`],
      ['Bearer a b', `Bearer realm="mesos-agent-executor", error="invalid_token", error_description="Malformed 'Authorization' header"`],
      ['Basic sekrit', `Bearer realm="mesos-agent-executor", error="invalid_token", error_description="Scheme 'Basic' unsupported"`],
      ['Bearer nope', `Bearer realm="mesos-agent-executor", error="invalid_token", error_description="Invalid JWT: token not recognised"`],
    ];
    for (const [authorization, challenge] of cases) {
      const res = await postCall(agent, call, { headers: { Authorization: authorization } });
      assert.equal(res.status, 401, authorization);
      assert.equal(res.headers['www-authenticate'], challenge);
    }
    const ok = await postCall(agent, call, { headers: { Authorization: 'Bearer sekrit' } });
    assert.equal(ok.status, 202);
  });

  it('row 0 before row 1: unauthenticated during recovery gets 401, not 503', async () => {
    const agent = await startAgent({ authToken: 'sekrit' });
    await holdPhase(agent, 'containerizer-recovery');
    const res = await rawRequest(agent.endpoint, { method: 'GET' });
    assert.equal(res.status, 401);
    const authed = await rawRequest(agent.endpoint, { method: 'GET', headers: { Authorization: 'Bearer sekrit' } });
    assert.equal(authed.status, 503);
  });

  it('row 1: 503 to every request, even a GET, until containerizer recovery is done', async () => {
    const agent = await startAgent();
    await holdPhase(agent, 'containerizer-recovery');
    for (const res of [
      await rawRequest(agent.endpoint, { method: 'GET' }),
      await postCall(agent, subscribeCall(agent)),
      await postCall(agent, { ...ids(agent), type: 'HEARTBEAT' }),
    ]) {
      assert.equal(res.status, 503);
      assert.equal(res.body, 'Agent has not finished recovery');
      assert.equal(res.headers['content-type'], TEXT);
    }
  });

  it('row 2: 405 with Allow: POST for any other method', async () => {
    const agent = await startAgent();
    for (const method of ['GET', 'PUT', 'DELETE']) {
      const res = await rawRequest(agent.endpoint, { method, headers: { 'Content-Type': 'application/json' }, body: '{}' });
      assert.equal(res.status, 405);
      assert.equal(res.headers['allow'], 'POST');
      assert.equal(res.body, `405 Method Not Allowed. Expecting one of { 'POST' }, but received '${method}'.`);
    }
  });

  it('row 3: 400 without Content-Type (after the method check)', async () => {
    const agent = await startAgent();
    const res = await rawRequest(agent.endpoint, { body: '{}' });
    assert.equal(res.status, 400);
    assert.equal(res.body, "Expecting 'Content-Type' to be present");
    assert.equal(res.headers['content-type'], TEXT);
    assert.equal((await rawRequest(agent.endpoint, { method: 'GET' })).status, 405);
  });

  it('row 4: parse errors with upstream texts, and 415 for any other Content-Type', async () => {
    const agent = await startAgent();
    const post = (contentType: string, body: string | Uint8Array) =>
      rawRequest(agent.endpoint, { headers: { 'Content-Type': contentType }, body });
    const garbage = await post('application/x-protobuf', Buffer.from([0x0f, 0xff]));
    assert.deepEqual([garbage.status, garbage.body], [400, 'Failed to parse body into Call protobuf']);
    // type=HEARTBEAT with neither id: ParseFromString fails on missing required fields.
    const partial = await post('application/x-protobuf', Buffer.from([0x18, 0x04]));
    assert.deepEqual([partial.status, partial.body], [400, 'Failed to parse body into Call protobuf']);
    const notJson = await post('application/json', '{"type":');
    assert.equal(notJson.status, 400);
    assert.match(notJson.body, /^Failed to parse body into JSON: /);
    const notCall = await post('application/json', '{"type":"HEARTBEAT"}');
    assert.equal(notCall.status, 400);
    assert.match(notCall.body, /^Failed to convert JSON into Call protobuf: /);
    for (const contentType of ['application/json; charset=utf-8', 'text/plain', 'application/recordio', 'Application/JSON']) {
      const res = await post(contentType, '{}');
      assert.deepEqual([res.status, res.body], [415, "Expecting 'Content-Type' of application/json or application/x-protobuf"], contentType);
    }
  });

  it('row 4 honours the configured content types', async () => {
    const agent = await startAgent({ contentTypes: ['application/x-protobuf'] });
    const json = await postCall(agent, { ...ids(agent), type: 'HEARTBEAT' }, { contentType: 'application/json' });
    assert.equal(json.status, 415);
    const pb = await postCall(agent, { ...ids(agent), type: 'HEARTBEAT' }, { contentType: 'application/x-protobuf' });
    assert.equal(pb.status, 202);
  });

  it('row 5: 400 "Failed to validate Executor::Call: …" in both encodings', async () => {
    const agent = await startAgent();
    for (const contentType of ['application/json', 'application/x-protobuf'] as const) {
      const staging = await postCall(agent, updateCall(agent, taskStatus(agent, 't', 'TASK_STAGING')), { contentType });
      assert.equal(staging.status, 400);
      assert.equal(
        staging.body,
        `Failed to validate Executor::Call: Received TASK_STAGING from executor ${agent.executorId} of framework ${agent.frameworkId} which is not allowed`,
      );
      const noSubscribe = await postCall(agent, { ...ids(agent), type: 'SUBSCRIBE' }, { contentType });
      assert.deepEqual([noSubscribe.status, noSubscribe.body], [400, "Failed to validate Executor::Call: Expecting 'subscribe' to be present"]);
    }
    // JSON: an unknown enum name in the optional `type` is dropped, so the type is missing.
    const unknownType = await rawRequest(agent.endpoint, {
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ ...ids(agent), type: 'NO_SUCH_CALL' }),
    });
    assert.deepEqual([unknownType.status, unknownType.body], [400, "Failed to validate Executor::Call: Expecting 'type' to be present"]);
  });

  it('row 5 before row 6: an invalid SUBSCRIBE with an unacceptable Accept gets 400', async () => {
    const agent = await startAgent();
    const res = await postCall(agent, { ...ids(agent), type: 'SUBSCRIBE' }, { headers: { Accept: 'text/html' } });
    assert.equal(res.status, 400);
  });

  it('row 6: 406 for a SUBSCRIBE that accepts neither type', async () => {
    const agent = await startAgent();
    for (const accept of ['text/html', 'application/recordio', 'application/json;q=0, application/x-protobuf;q=0']) {
      const res = await postCall(agent, subscribeCall(agent), { headers: { Accept: accept } });
      assert.deepEqual(
        [res.status, res.body],
        [406, "Expecting 'Accept' to allow 'application/x-protobuf' or 'application/json'"],
        accept,
      );
    }
  });

  it('row 6: HEARTBEAT gets 202 with any ids, before any lookup and even while RECOVERING', async () => {
    const agent = await startAgent({ frameworkInfo: { checkpoint: true } });
    const dummy: Call = { framework_id: { value: 'unused' }, executor_id: { value: 'unused' }, type: 'HEARTBEAT' };
    assert.equal((await postCall(agent, dummy)).status, 202);
    await holdPhase(agent, 'recovering');
    assert.equal((await postCall(agent, dummy, { contentType: 'application/x-protobuf' })).status, 202);
  });

  it('row 6: while RECOVERING, UPDATE and MESSAGE get 503 but SUBSCRIBE is served', async () => {
    const agent = await startAgent({ frameworkInfo: { checkpoint: true } });
    await holdPhase(agent, 'recovering');
    const update = await postCall(agent, updateCall(agent, taskStatus(agent, 't', 'TASK_RUNNING')));
    assert.deepEqual([update.status, update.body], [503, 'Agent has not finished recovery']);
    const message = await postCall(agent, { ...ids(agent), type: 'MESSAGE', message: { data: Buffer.from('x') } });
    assert.equal(message.status, 503);
    // Row 6 comes before the lookups of rows 7 and 8.
    const unknownFramework = await postCall(agent, { ...updateCall(agent, taskStatus(agent, 't', 'TASK_RUNNING')), framework_id: { value: 'nope' } });
    assert.equal(unknownFramework.status, 503);
    const s = await open(agent);
    await s.next('SUBSCRIBED');
  });

  it('rows 7 and 8: unknown framework, then unknown executor', async () => {
    const agent = await startAgent();
    const both = await postCall(agent, { framework_id: { value: 'nope' }, executor_id: { value: 'nope' }, type: 'SUBSCRIBE', subscribe: {} });
    assert.deepEqual([both.status, both.body], [400, 'Framework cannot be found']);
    const executor = await postCall(agent, { framework_id: { value: agent.frameworkId }, executor_id: { value: 'nope' }, type: 'SUBSCRIBE', subscribe: {} });
    assert.deepEqual([executor.status, executor.body], [400, 'Executor cannot be found']);
    // Rows 7/8 come before row 10 (not subscribed).
    const update = await postCall(agent, { ...updateCall(agent, taskStatus(agent, 't', 'TASK_RUNNING')), framework_id: { value: 'nope' } });
    assert.deepEqual([update.status, update.body], [400, 'Framework cannot be found']);
  });

  it('row 9: 403 when the token’s claims do not match the call or the current container', async () => {
    const agent = await startAgent({
      authToken: 'mine',
      containerId: 'c1',
      extraAuthTokens: {
        wrongFramework: { fid: 'other', eid: 'x', cid: 'c1' },
        wrongContainer: { fid: 'F', eid: 'E', cid: 'old' },
      },
      frameworkInfo: { id: { value: 'F' } },
      executorId: 'E',
    });
    const call = subscribeCall(agent);
    const fid = await postCall(agent, call, { headers: { Authorization: 'Bearer wrongFramework' } });
    assert.equal(fid.status, 403);
    assert.equal(
      fid.body,
      `Authenticated principal '{"claims":{"fid":"other","eid":"x","cid":"c1"}}' does not contain an 'fid' claim with the framework ID F, which is set in the call`,
    );
    const cid = await postCall(agent, call, { headers: { Authorization: 'Bearer wrongContainer' } });
    assert.equal(cid.status, 403);
    assert.match(cid.body, /does not contain a 'cid' claim with the correct active ContainerID$/);
    // HEARTBEAT is answered before the claims are looked at.
    const hb = await postCall(agent, { ...ids(agent), type: 'HEARTBEAT' }, { headers: { Authorization: 'Bearer wrongFramework' } });
    assert.equal(hb.status, 202);
    const s = await open(agent, { headers: { Authorization: 'Bearer mine' } });
    await s.next('SUBSCRIBED');
  });

  it('row 10: 403 "Executor is not subscribed" for UPDATE and MESSAGE before SUBSCRIBE', async () => {
    const agent = await startAgent();
    const update = await postCall(agent, updateCall(agent, taskStatus(agent, 't', 'TASK_RUNNING')));
    assert.deepEqual([update.status, update.body], [403, 'Executor is not subscribed']);
    const message = await postCall(agent, { ...ids(agent), type: 'MESSAGE', message: { data: Buffer.from('x') } });
    assert.deepEqual([message.status, message.body], [403, 'Executor is not subscribed']);
  });

  it('row 11: SUBSCRIBE 200 streaming, UPDATE/MESSAGE 202, UNKNOWN 501', async () => {
    const agent = await startAgent();
    const s = await open(agent);
    assert.equal(s.response.statusCode, 200);
    assert.equal(s.response.headers['transfer-encoding'], 'chunked');
    assert.equal(s.response.headers['content-length'], undefined);
    await s.next('SUBSCRIBED');
    agent.launchTask('t');
    const update = await postCall(agent, updateCall(agent, taskStatus(agent, 't', 'TASK_RUNNING')));
    assert.deepEqual([update.status, update.body], [202, '']);
    const messages: Uint8Array[] = [];
    agent.on('frameworkMessage', (data) => messages.push(data));
    const message = await postCall(agent, { ...ids(agent), type: 'MESSAGE', message: { data: Buffer.from('hello') } }, { contentType: 'application/x-protobuf' });
    assert.equal(message.status, 202);
    assert.deepEqual(messages.map((m) => Buffer.from(m).toString()), ['hello']);
    const unknown = await postCall(agent, { ...ids(agent), type: 'UNKNOWN' });
    assert.deepEqual([unknown.status, unknown.body], [501, '501 Not Implemented.']);
  });

  it('records every call with the status it got', async () => {
    const agent = await startAgent();
    const seen: number[] = [];
    agent.on('call', (record) => seen.push(record.status));
    await postCall(agent, { ...ids(agent), type: 'HEARTBEAT' });
    await postCall(agent, updateCall(agent, taskStatus(agent, 't', 'TASK_RUNNING')));
    await rawRequest(agent.endpoint, { method: 'GET' });
    assert.deepEqual(
      agent.calls.map((c) => [c.type, c.status]),
      [
        ['HEARTBEAT', 202],
        ['UPDATE', 403],
        [undefined, 405],
      ],
    );
    assert.deepEqual(seen, [202, 403, 405]);
    assert.equal(agent.counters.requests, 3);
  });

  it('keeps no call history with recordCalls: false', async () => {
    const agent = await startAgent({ recordCalls: false });
    await postCall(agent, { ...ids(agent), type: 'HEARTBEAT' });
    assert.equal(agent.calls.length, 0);
  });
});
