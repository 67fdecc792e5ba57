#!/usr/bin/env node
// Not an executor design but a floor: the least an executor process can do on this wire. It
// subscribes, and for each LAUNCH posts the same three UPDATE calls ours sends (STARTING,
// RUNNING, FINISHED; pipelined on one keep-alive connection) and reads the ACKNOWLEDGED events
// — with the same HTTP client (undici) and codec, but no driver (no outbox, no retries, no
// callback loop), no pool, no job. Its CPU per task is what the protocol itself costs here, so
// it bounds from below what any executor on this stack can reach (see the dispatch section).
//   --http request    undici's request() per call, reading the (empty) body, as our transport does
//   --http dispatch   undici's lower-level dispatch() with a handler that ignores the body
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { Client, type Dispatcher } from 'undici';
import { readExecutorEnvironment } from '../../src/driver/executor-environment.js';
import { protobufCodec } from '../../src/protocol/codec.js';
import { RecordIODecoder } from '../../src/protocol/recordio.js';
import type { Call, TaskID, TaskState } from '../../src/proto/types.js';

const { values } = parseArgs({ options: { threads: { type: 'string' }, http: { type: 'string' } } });
const mode = values.http === 'dispatch' ? 'dispatch' : 'request';
const env = readExecutorEnvironment(process.env);
if (env.endpoint.transport !== 'tcp') throw new Error('wire floor: TCP endpoints only');
const { origin, path } = env.endpoint;
const ids = { framework_id: { value: process.env['MESOS_FRAMEWORK_ID']! }, executor_id: { value: process.env['MESOS_EXECUTOR_ID']! } };
const headers = { 'content-type': 'application/x-protobuf', accept: 'application/x-protobuf' };
const calls = new Client(origin, { pipelining: 8, keepAliveTimeout: 60_000 });
const stream = new Client(origin, { pipelining: 1, bodyTimeout: 0 });

const ignoreBody: Dispatcher.DispatchHandler = {
  onConnect() {},
  onError() {},
  onHeaders() {
    return true;
  },
  onData() {
    return true;
  },
  onComplete() {},
};

function update(taskId: TaskID, state: TaskState): void {
  const call: Call = {
    ...ids,
    type: 'UPDATE',
    update: {
      status: {
        task_id: taskId,
        state,
        source: 'SOURCE_EXECUTOR',
        executor_id: ids.executor_id,
        timestamp: Date.now() / 1000,
        uuid: Buffer.from(randomUUID().replaceAll('-', ''), 'hex'),
        ...(state === 'TASK_FINISHED' ? { data: Buffer.from('null') } : {}),
      },
    },
  };
  const body = Buffer.from(protobufCodec.encodeCall(call));
  if (mode === 'dispatch') {
    calls.dispatch({ path, method: 'POST', headers, body }, ignoreBody);
  } else {
    void calls.request({ path, method: 'POST', headers, body, blocking: false }).then((r) => r.body.text());
  }
}

const subscribe = protobufCodec.encodeCall({ ...ids, type: 'SUBSCRIBE', subscribe: { unacknowledged_tasks: [], unacknowledged_updates: [] } });
const response = await stream.request({ path, method: 'POST', headers, body: Buffer.from(subscribe) });
if (response.statusCode !== 200) throw new Error(`SUBSCRIBE answered ${response.statusCode}`);
const decoder = new RecordIODecoder();
let shutdown = false;
for await (const chunk of response.body as AsyncIterable<Buffer>) {
  for (const record of decoder.push(chunk)) {
    const event = protobufCodec.decodeEvent(record);
    if (event.type === 'LAUNCH' && event.launch !== undefined) {
      const taskId = event.launch.task.task_id;
      update(taskId, 'TASK_STARTING');
      update(taskId, 'TASK_RUNNING');
      update(taskId, 'TASK_FINISHED');
    } else if (event.type === 'SHUTDOWN') {
      shutdown = true;
    }
  }
  if (shutdown) break;
}
await calls.close();
process.exit(0);
