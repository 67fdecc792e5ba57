// Typical messages of the executor API, as the LocalAgent and our driver build them: a LAUNCH
// event carrying a TaskInfo (with its ExecutorInfo and resources, as an agent sends it), an
// ACKNOWLEDGED event, and an UPDATE call carrying a TASK_FINISHED status with a small result.
import { randomBytes } from 'node:crypto';
import type { Call, Event } from '../../src/proto/types.js';

const frameworkId = { value: '2a7f1e0c-5b9d-4c1e-9f3a-2d6b8e4c1a70-0000' };
const agentId = { value: '7c3e9a51-0d2f-4b8e-a6c4-91f0e2d3b5a8-S0' };
const executorId = { value: 'mesos-pool-executor' };

export function launchEvent(n = 1): Event {
  return {
    type: 'LAUNCH',
    launch: {
      task: {
        name: `primes ${n}`,
        task_id: { value: `task-${n}` },
        agent_id: agentId,
        resources: [
          { name: 'cpus', type: 'SCALAR', scalar: { value: 1 } },
          { name: 'mem', type: 'SCALAR', scalar: { value: 128 } },
        ],
        executor: {
          executor_id: executorId,
          framework_id: frameworkId,
          name: 'mesos-pool-executor',
          command: { value: 'node mesos-pool-executor/dist/src/cli/main.js --threads 4', shell: true },
        },
        data: Buffer.from('{"job":"primes","input":{"limit":1000000}}'),
      },
    },
  };
}

export function acknowledgedEvent(n = 1): Event {
  return { type: 'ACKNOWLEDGED', acknowledged: { task_id: { value: `task-${n}` }, uuid: randomBytes(16) } };
}

export function updateCall(n = 1): Call {
  return {
    type: 'UPDATE',
    framework_id: frameworkId,
    executor_id: executorId,
    update: {
      status: {
        task_id: { value: `task-${n}` },
        state: 'TASK_FINISHED',
        source: 'SOURCE_EXECUTOR',
        executor_id: executorId,
        timestamp: 1_760_000_000.123456,
        uuid: randomBytes(16),
        data: Buffer.from('{"limit":1000000,"count":78498}'),
      },
    },
  };
}
