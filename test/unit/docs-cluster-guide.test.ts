// The cluster guide's JSON is what a framework would copy: the ExecutorInfo and the TaskInfo of
// the ACCEPT call must decode with the agent's JSON rules, and the task's data must be a payload
// the pool executor accepts.
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parsePayload } from '../../src/pool/payload.js';
import { jsonCodec } from '../../src/protocol/codec.js';
import { repoRoot } from '../helpers/repo-root.js';

const guide = readFileSync(join(repoRoot, 'docs', 'cluster.md'), 'utf8');

/** The JSON blocks of the guide, in order (their leading indentation removed). */
function jsonBlocks(): unknown[] {
  const out: unknown[] = [];
  for (const match of guide.matchAll(/```json\n([\s\S]*?)```/g)) out.push(JSON.parse(match[1]!));
  return out;
}

describe('the cluster guide (docs/cluster.md)', () => {
  it('its ExecutorInfo and the TaskInfo of its ACCEPT call decode, and the task data is a valid payload', () => {
    const [executor, accept] = jsonBlocks() as [Record<string, unknown>, { accept: { operations: Array<{ launch: { task_infos: Array<Record<string, unknown>> } }> } }];
    assert.equal(executor.type, 'CUSTOM');
    const taskJson = { ...accept.accept.operations[0]!.launch.task_infos[0]!, executor };
    const event = jsonCodec.decodeEvent(Buffer.from(JSON.stringify({ type: 'LAUNCH', launch: { task: taskJson } })));
    const task = event.launch!.task;
    assert.equal(task.executor?.executor_id.value, 'js-pool-1');
    assert.equal(task.executor?.command?.uris?.[0]?.cache, true);
    const payload = parsePayload(task.data, new Set(['primes']));
    assert.equal(payload.job, 'primes');
    assert.deepEqual(payload.input, { limit: 1_000_000 });
  });
});
