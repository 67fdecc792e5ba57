// `local`'s workload as a scheduler on offers: the executor's and the tasks' resources are in
// their Infos, a task is LAUNCHed only once it fits beside the executor and the live tasks, its
// resources come back at its terminal update; `all-at-once` keeps every LAUNCH at the start.
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import type { LocalAgent } from '../../src/agent/index.js';
import { ALL_AT_ONCE, type LaunchPlan } from '../../src/cli/local/allocator.js';
import { runLocal } from '../../src/cli/local/run-local.js';
import { resourceCpus } from '../../src/pool/payload.js';
import type { Resource } from '../../src/proto/types.js';
import { TERMINAL_TASK_STATES } from '../../src/proto/types.js';

interface Watch {
  /** Tasks launched and not yet terminal, at each LAUNCH (after counting it). */
  readonly inFlightAtLaunch: number[];
  readonly taskResources: Array<Resource[] | undefined>;
  executorResources: Resource[] | undefined;
}

/** Follows LAUNCH events and terminal updates at the agent, before runLocal reacts to them. */
function watch(agent: LocalAgent, into: Watch): void {
  let inFlight = 0;
  agent.on('event', ({ event }) => {
    if (event.type === 'SUBSCRIBED') into.executorResources = event.subscribed?.executor_info.resources;
    if (event.type !== 'LAUNCH') return;
    inFlight++;
    into.inFlightAtLaunch.push(inFlight);
    into.taskResources.push(event.launch?.task.resources);
  });
  agent.on('statusUpdate', (info) => {
    const state = info.status.state;
    if (info.outcome === 'accepted' && typeof state === 'string' && TERMINAL_TASK_STATES.has(state)) inFlight--;
  });
}

async function run(launch: LaunchPlan, tasks: number, ms: number): Promise<{ watch: Watch; ok: boolean; stderr: readonly string[] }> {
  const seen: Watch = { inFlightAtLaunch: [], taskResources: [], executorResources: undefined };
  const data = Buffer.from(JSON.stringify({ job: 'sleep', input: { ms } }));
  const result = await runLocal({
    workload: Array.from({ length: tasks }, () => ({ job: 'sleep', data })),
    launch,
    executorArgs: ['--log-level', 'error'],
    expect: 'TASK_FINISHED',
    checkpoint: false,
    timeoutMs: 60_000,
    progress: undefined,
    pipeExecutorOutput: false,
    onAgentStarted: (agent) => watch(agent, seen),
  });
  return { watch: seen, ok: result.ok, stderr: result.executorStderrTail };
}

describe('local: offers', () => {
  it('launches a task only once its cpus are free: at most 2 in flight on 2.1 cpus beside a 0.1-cpu executor', async () => {
    const plan: LaunchPlan = { kind: 'offers', agent: { cpus: 2.1, mem: 100_000 }, executor: { cpus: 0.1, mem: 64 }, task: { cpus: 1, mem: 0 } };
    const { watch: seen, ok, stderr } = await run(plan, 6, 30);
    assert.equal(ok, true, stderr.join('\n'));
    assert.equal(seen.inFlightAtLaunch.length, 6);
    assert.equal(Math.max(...seen.inFlightAtLaunch), 2, `in flight at each LAUNCH: ${seen.inFlightAtLaunch.join(' ')}`);
    assert.deepEqual(seen.inFlightAtLaunch.slice(0, 2), [1, 2], 'the first two at once');
    // What the agent's LAUNCH and SUBSCRIBED carry: the resources that were accounted.
    assert.equal(resourceCpus(seen.executorResources), 0.1);
    assert.deepEqual(seen.executorResources?.find((r) => r.name === 'mem')?.scalar, { value: 64 });
    for (const resources of seen.taskResources) assert.deepEqual(resources, [{ name: 'cpus', type: 'SCALAR', scalar: { value: 1 } }]);
  });

  it('mem binds as cpus do, and fractional cpus add up exactly (3 tasks of 0.3 beside 0.1 on 1 cpu)', async () => {
    const byMem: LaunchPlan = { kind: 'offers', agent: { cpus: 64, mem: 300 }, executor: { cpus: 0.1, mem: 100 }, task: { cpus: 1, mem: 100 } };
    const mem = await run(byMem, 5, 30);
    assert.equal(mem.ok, true, mem.stderr.join('\n'));
    assert.equal(Math.max(...mem.watch.inFlightAtLaunch), 2, `by mem: ${mem.watch.inFlightAtLaunch.join(' ')}`);
    const fractional: LaunchPlan = { kind: 'offers', agent: { cpus: 1, mem: 100_000 }, executor: { cpus: 0.1, mem: 0 }, task: { cpus: 0.3, mem: 0 } };
    const cpus = await run(fractional, 7, 30);
    assert.equal(cpus.ok, true, cpus.stderr.join('\n'));
    assert.equal(Math.max(...cpus.watch.inFlightAtLaunch), 3, `fractional: ${cpus.watch.inFlightAtLaunch.join(' ')}`);
  });

  it('all at once: every task is launched at the start and no Info carries resources (today\'s benchmarks)', async () => {
    const { watch: seen, ok, stderr } = await run(ALL_AT_ONCE, 5, 30);
    assert.equal(ok, true, stderr.join('\n'));
    assert.deepEqual(seen.inFlightAtLaunch, [1, 2, 3, 4, 5]);
    assert.equal(seen.executorResources, undefined);
    assert.deepEqual(seen.taskResources, [undefined, undefined, undefined, undefined, undefined]);
  });

  it('refuses a plan whose task never fits instead of waiting for an offer forever', async () => {
    const plan: LaunchPlan = { kind: 'offers', agent: { cpus: 1, mem: 1000 }, executor: { cpus: 0.1, mem: 0 }, task: { cpus: 1, mem: 0 } };
    await assert.rejects(run(plan, 1, 1), { code: 'MPE_INVALID_OPTION', message: /never fits/ });
  });
});
