// The `local` run's account of the wire: the encodings the subscription negotiated and the calls
// the agent refused (status and reason), from a real executor process in both encodings.
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { ALL_AT_ONCE } from '../../src/cli/local/allocator.js';
import { runLocal } from '../../src/cli/local/run-local.js';
import { formatSummary } from '../../src/cli/local/summary.js';
import type { ContentType } from '../../src/protocol/codec.js';

const NOOP = { job: 'noop', data: Buffer.from('{"job":"noop"}') };

describe('local run: the wire in the summary', () => {
  for (const [flag, contentType] of [
    ['json', 'application/json'],
    ['protobuf', 'application/x-protobuf'],
  ] as ReadonlyArray<readonly [string, ContentType]>) {
    it(`shows the encoding negotiated and the refused calls with their status and reason (${flag})`, async () => {
      const result = await runLocal({
        workload: [NOOP, NOOP, NOOP],
        launch: ALL_AT_ONCE,
        executorArgs: ['--threads', '1', '--content-type', flag, '--log-level', 'error'],
        expect: 'TASK_FINISHED',
        checkpoint: false,
        timeoutMs: 30_000,
        progress: undefined,
        pipeExecutorOutput: false,
        // Two UPDATEs refused: the executor's retries still get every task through.
        onAgentStarted: (agent) => agent.respondStatus(503, 2, { calls: 'update' }),
      });
      assert.equal(result.ok, true, JSON.stringify(result.executorStderrTail));
      assert.deepEqual(result.wire, { calls: contentType, events: contentType });
      assert.deepEqual(result.refused, [{ type: 'UPDATE', status: 503, reason: '503 Service Unavailable.', count: 2 }]);
      const summary = formatSummary(result, { title: 'local', expect: 'TASK_FINISHED' });
      assert.match(summary, new RegExp(`wire {13}calls ${contentType}, events ${contentType}\\n`));
      assert.match(summary, /refused calls {4}2 × UPDATE 503 503 Service Unavailable\.\n/);
    });
  }
});
