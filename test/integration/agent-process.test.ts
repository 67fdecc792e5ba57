// Launching an executor process: its exact environment, its exit, shutdown with a grace period.
import { strict as assert } from 'node:assert';
import { realpathSync } from 'node:fs';
import { afterEach, describe, it } from 'node:test';
import { LocalAgent, type LocalAgentOptions } from '../../src/agent/index.js';
import { waitFor } from '../helpers/wait.js';

const agents: LocalAgent[] = [];
async function startAgent(options: LocalAgentOptions = {}): Promise<LocalAgent> {
  const agent = new LocalAgent(options);
  agents.push(agent);
  await agent.start();
  return agent;
}
afterEach(async () => {
  await Promise.all(agents.splice(0).map((a) => a.stop()));
});

const PRINT_ENV = 'process.stdout.write(JSON.stringify({ env: process.env, cwd: process.cwd() }))';

// A tiny executor speaking the wire by hand (JSON): it subscribes, finishes each launched task,
// ignores tasks named ignore-*, exits with status 3 on a task named "exit", and on SHUTDOWN
// exits 0 unless EXECUTOR_IGNORE_SHUTDOWN is set.
const TINY_EXECUTOR = `
const http = require('node:http');
const crypto = require('node:crypto');
const env = process.env;
const [host, port] = env.MESOS_AGENT_ENDPOINT.split(':');
const path = '/' + env.MESOS_SLAVE_PID.split('@')[0] + '/api/v1/executor';
const ids = { framework_id: { value: env.MESOS_FRAMEWORK_ID }, executor_id: { value: env.MESOS_EXECUTOR_ID } };
function post(call, onResponse) {
  const body = JSON.stringify(call);
  const req = http.request({ host, port, path, method: 'POST', headers: {
    'Content-Type': 'application/json', 'Accept': 'application/json', 'Content-Length': Buffer.byteLength(body) } },
    onResponse || ((res) => res.resume()));
  req.end(body);
}
function onEvent(event) {
  if (event.type === 'LAUNCH') {
    const id = event.launch.task.task_id.value;
    if (id === 'exit') process.exit(3);
    if (id.startsWith('ignore-')) return;
    const uuid = Buffer.from(crypto.randomUUID().replace(/-/g, ''), 'hex').toString('base64');
    post({ ...ids, type: 'UPDATE', update: { status: { task_id: { value: id }, state: 'TASK_FINISHED', source: 'SOURCE_EXECUTOR', uuid } } });
  }
  if (event.type === 'SHUTDOWN' && !env.EXECUTOR_IGNORE_SHUTDOWN) process.exit(0);
}
post({ ...ids, type: 'SUBSCRIBE', subscribe: {} }, (res) => {
  let buffer = Buffer.alloc(0);
  res.on('data', (chunk) => {
    buffer = Buffer.concat([buffer, chunk]);
    for (;;) {
      const nl = buffer.indexOf(10);
      if (nl < 0) return;
      const length = Number(buffer.subarray(0, nl).toString());
      if (buffer.length < nl + 1 + length) return;
      const event = JSON.parse(buffer.subarray(nl + 1, nl + 1 + length).toString());
      buffer = buffer.subarray(nl + 1 + length);
      onEvent(event);
    }
  });
});
`;

describe('LocalAgent executor process', () => {
  it('computes the environment a real agent gives an executor', async () => {
    const agent = await startAgent({ shutdownGracePeriodMs: 3000, extraEnvironment: { LIBPROCESS_SSL_ENABLED: '0' }, frameworkInfo: { checkpoint: true } });
    const env = agent.executorEnvironment({ EXTRA: 'x' });
    assert.deepEqual(env, {
      LIBPROCESS_SSL_ENABLED: '0',
      LIBPROCESS_PORT: '0',
      MESOS_FRAMEWORK_ID: agent.frameworkId,
      MESOS_EXECUTOR_ID: agent.executorId,
      MESOS_DIRECTORY: agent.sandboxDir,
      MESOS_SLAVE_ID: agent.agentId,
      MESOS_SLAVE_PID: agent.pid,
      MESOS_AGENT_ENDPOINT: agent.endpoint,
      MESOS_CHECKPOINT: '1',
      MESOS_HTTP_COMMAND_EXECUTOR: '0',
      MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD: '3secs',
      MESOS_RECOVERY_TIMEOUT: '15mins',
      MESOS_SUBSCRIPTION_BACKOFF_MAX: '2secs',
      MESOS_SANDBOX: agent.sandboxDir,
      EXTRA: 'x',
    });
    const noCheckpoint = await startAgent({ frameworkInfo: { checkpoint: false }, authToken: 'tok' });
    const env2 = noCheckpoint.executorEnvironment();
    assert.equal(env2['MESOS_CHECKPOINT'], '0');
    assert.equal(env2['MESOS_RECOVERY_TIMEOUT'], undefined);
    assert.equal(env2['MESOS_SUBSCRIPTION_BACKOFF_MAX'], undefined);
    assert.equal(env2['MESOS_EXECUTOR_AUTHENTICATION_TOKEN'], 'tok');
  });

  it('launches the executor with exactly that environment (plus PATH), not ours, in the sandbox', async () => {
    const agent = await startAgent({
      executorInfo: { command: { environment: { variables: [{ name: 'FROM_EXECUTOR_INFO', value: 'yes' }] } } },
    });
    process.env['MPE_TEST_PARENT_ONLY'] = 'must-not-leak';
    let handle;
    try {
      handle = await agent.launchExecutor({ command: process.execPath, args: ['-e', PRINT_ENV], env: { GIVEN: '1' } });
    } finally {
      delete process.env['MPE_TEST_PARENT_ONLY'];
    }
    assert.ok(handle.pid > 0);
    const exit = await handle.exited;
    assert.deepEqual(exit, { code: 0, signal: null });
    const printed = JSON.parse(handle.stdout) as { env: Record<string, string>; cwd: string };
    const expected: Record<string, string> = { ...agent.executorEnvironment(), GIVEN: '1', PATH: process.env['PATH']! };
    assert.deepEqual(printed.env, expected);
    assert.equal(printed.env['FROM_EXECUTOR_INFO'], 'yes');
    assert.equal(printed.env['MPE_TEST_PARENT_ONLY'], undefined);
    assert.equal(realpathSync(printed.cwd), realpathSync(agent.sandboxDir));
    assert.deepEqual(handle.env, expected);
  });

  it('runs a shell command through /bin/sh -c', async () => {
    const agent = await startAgent();
    const handle = await agent.launchExecutor({ command: 'printf "%s" "$MESOS_EXECUTOR_ID" && exit 7', shell: true });
    assert.deepEqual(await handle.exited, { code: 7, signal: null });
    assert.equal(handle.stdout, agent.executorId);
  });

  it('refuses a missing program and a second live executor', async () => {
    const agent = await startAgent();
    await assert.rejects(agent.launchExecutor({ command: '/nonexistent/executor' }), { code: 'MPE_EXECUTOR_PROCESS' });
    await agent.launchExecutor({ command: process.execPath, args: ['-e', 'setInterval(() => {}, 1000)'] });
    await assert.rejects(agent.launchExecutor({ command: process.execPath }), { code: 'MPE_EXECUTOR_PROCESS' });
  });

  it('fails the non-terminal tasks (REASON_EXECUTOR_TERMINATED, source AGENT) when the executor exits', async () => {
    const agent = await startAgent();
    const subscribed = agent.nextEvent('subscribed');
    const handle = await agent.launchExecutor({ command: process.execPath, args: ['-e', TINY_EXECUTOR] });
    await subscribed;
    agent.launchTask('done');
    await waitFor(() => agent.task('done')!.state === 'TASK_FINISHED', { what: 'task done to finish' });
    agent.launchTask('ignore-me');
    const exited = agent.nextEvent('executorExited');
    agent.launchTask('exit');
    assert.deepEqual(await exited, { code: 3, signal: null });
    assert.deepEqual(await handle.exited, { code: 3, signal: null });
    for (const id of ['ignore-me', 'exit']) {
      const last = agent.task(id)!.statuses.at(-1)!;
      assert.deepEqual([last.state, last.reason, last.source], ['TASK_FAILED', 'REASON_EXECUTOR_TERMINATED', 'SOURCE_AGENT'], id);
    }
    assert.equal(agent.task('done')!.state, 'TASK_FINISHED');
    assert.equal(agent.executorState, 'TERMINATED');
    assert.equal(agent.subscribed, false);
  });

  it('SHUTDOWN: a cooperative executor exits; a stubborn one is killed after the grace period', async () => {
    const agent = await startAgent({ shutdownGracePeriodMs: 200 });
    const subscribed = agent.nextEvent('subscribed');
    await agent.launchExecutor({ command: process.execPath, args: ['-e', TINY_EXECUTOR] });
    await subscribed;
    assert.deepEqual(await agent.shutdownExecutor(), { code: 0, signal: null });

    // A new run after the previous executor exited: new container, REGISTERING again.
    const firstContainer = agent.containerId;
    const resubscribed = agent.nextEvent('subscribed');
    await agent.launchExecutor({ command: process.execPath, args: ['-e', TINY_EXECUTOR], env: { EXECUTOR_IGNORE_SHUTDOWN: '1' } });
    assert.notEqual(agent.containerId, firstContainer);
    assert.equal((await resubscribed).resubscribe, false);
    assert.deepEqual(await agent.shutdownExecutor(), { code: null, signal: 'SIGKILL' });
  });

  it('stop() kills a running executor', async () => {
    const agent = await startAgent();
    const handle = await agent.launchExecutor({ command: process.execPath, args: ['-e', 'setInterval(() => {}, 1000)'] });
    assert.equal(handle.alive, true);
    await agent.stop();
    assert.equal(handle.alive, false);
    assert.equal((await handle.exited).signal, 'SIGKILL');
  });
});
