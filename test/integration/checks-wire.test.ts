// Health checks and checks over the real wire, in both encodings: the LocalAgent launches the
// executor process (our CLI) exactly as an agent would, and every assertion is on the statuses
// the agent accepted. COMMAND, HTTP and TCP, passing and failing; the kill after consecutive
// failures; check_status on every update; nothing checked after the end; invalid definitions;
// checks paused while the agent is down and resumed after the executor resubscribes.
import { strict as assert } from 'node:assert';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Server as TcpServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { LocalAgent, type LocalAgentOptions, type TaskInput } from '../../src/agent/index.js';
import { isTerminalState, type CheckInfo, type HealthCheck, type TaskStatus } from '../../src/proto/types.js';
import { killPolicy } from '../helpers/pool-tasks.js';
import { waitFor } from '../helpers/wait.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const ENCODINGS = ['protobuf', 'json'] as const;
const HEALTH_REASON = 'REASON_TASK_HEALTH_CHECK_STATUS_UPDATED';
const CHECK_REASON = 'REASON_TASK_CHECK_STATUS_UPDATED';

async function startExecutor(encoding: string, options: LocalAgentOptions = {}): Promise<LocalAgent> {
  const agent = new LocalAgent(options);
  await agent.start();
  const handle = await agent.launchExecutor({
    command: process.execPath,
    args: [MAIN, '--threads', '4', '--content-type', encoding, '--log-level', 'error'],
  });
  await waitFor(() => agent.subscribed || !handle.alive, { what: 'the executor to subscribe', timeoutMs: 15_000 });
  assert.ok(handle.alive, `executor exited early: ${handle.stderr}`);
  return agent;
}

function payload(job: string, input?: unknown): Buffer {
  return Buffer.from(JSON.stringify(input === undefined ? { job } : { job, input }));
}

function statuses(agent: LocalAgent, id: string): TaskStatus[] {
  return [...(agent.task(id)?.statuses ?? [])];
}

function terminal(agent: LocalAgent, id: string, timeoutMs = 15_000): Promise<TaskStatus> {
  return waitFor(() => statuses(agent, id).find((s) => isTerminalState(s.state)), { what: `task ${id} to end`, timeoutMs });
}

/** Lines in a file a check command appends to: how many times it ran. */
function runs(file: string): number {
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter((l) => l !== '').length : 0;
}

const quick = { delay_seconds: 0, interval_seconds: 0.05, timeout_seconds: 5 };
const quickHealth = (check: Partial<HealthCheck>): HealthCheck => ({ ...quick, grace_period_seconds: 0, consecutive_failures: 2, ...check });
const hold = (id: string, extra: Partial<TaskInput>): TaskInput => ({ task_id: id, data: payload('sleep', { ms: 60_000 }), kill_policy: killPolicy(500), ...extra });

async function listen<T extends Server | TcpServer>(server: T): Promise<number> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}

async function closedPort(): Promise<number> {
  const server = createTcpServer();
  const port = await listen(server);
  server.close();
  await once(server, 'close');
  return port;
}

for (const encoding of ENCODINGS) {
  describe(`health checks and checks over the wire (${encoding})`, () => {
    let agent: LocalAgent;
    let dir: string;
    let web: Server;
    let webPort: number;
    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'mpe-checks-wire-'));
      web = createServer((req, res) => res.writeHead(req.url === '/ok' ? 200 : 503).end());
      webPort = await listen(web);
      agent = await startExecutor(encoding, { taskKillingState: true });
    });
    after(async () => {
      await agent.shutdownExecutor();
      await agent.stop();
      web.close();
      rmSync(dir, { recursive: true, force: true });
    });

    /** Asserts the end of a task killed by its health check, and returns its statuses. */
    async function killedByHealthCheck(id: string): Promise<TaskStatus[]> {
      const end = await terminal(agent, id);
      const all = statuses(agent, id);
      assert.deepEqual([end.state, end.healthy, end.reason], ['TASK_KILLED', false, undefined], JSON.stringify(end));
      assert.match(end.message ?? '', /health check failed 2 consecutive times/);
      const unhealthy = all.filter((s) => s.reason === HEALTH_REASON);
      assert.deepEqual(unhealthy.map((s) => [s.state, s.healthy]), [['TASK_RUNNING', false], ['TASK_RUNNING', false]]);
      // The same kill path as a KILL: TASK_KILLING (the framework has the capability), then KILLED.
      assert.deepEqual(all.map((s) => s.state).slice(-2), ['TASK_KILLING', 'TASK_KILLED']);
      return all;
    }

    it('a passing COMMAND health check: one healthy update (the first result), none for the later passes', async () => {
      const file = join(dir, 'cmd-pass');
      agent.launchTask(hold('cmd-pass', { health_check: quickHealth({ type: 'COMMAND', command: { value: `echo run >> ${file}; exit 0` } }) }));
      const healthy = await waitFor(() => statuses(agent, 'cmd-pass').find((s) => s.reason === HEALTH_REASON), { what: 'the health update' });
      assert.deepEqual([healthy.state, healthy.healthy, healthy.source], ['TASK_RUNNING', true, 'SOURCE_EXECUTOR']);
      await waitFor(() => runs(file) >= 4, { what: 'four health checks' });
      assert.equal(statuses(agent, 'cmd-pass').filter((s) => s.reason === HEALTH_REASON).length, 1);
      agent.killTask('cmd-pass');
      const end = await terminal(agent, 'cmd-pass');
      // Killed on request, not by its health check: no healthy on the terminal update.
      assert.deepEqual([end.state, end.healthy], ['TASK_KILLED', undefined]);
    });

    it('a failing COMMAND health check: an unhealthy update per failure, then the kill: TASK_KILLED with healthy false', async () => {
      agent.launchTask(hold('cmd-fail', { health_check: quickHealth({ type: 'COMMAND', command: { value: 'exit 1' } }) }));
      await killedByHealthCheck('cmd-fail');
    });

    it('COMMAND with shell false runs the argv in the sandbox with the command environment', async () => {
      agent.launchTask(
        hold('cmd-argv', {
          health_check: quickHealth({
            type: 'COMMAND',
            command: { shell: false, value: 'sh', arguments: ['sh', '-c', 'test "$MODE" = ok && test -d "$MESOS_SANDBOX" && test "$PWD" = "$MESOS_SANDBOX"'], environment: { variables: [{ name: 'MODE', value: 'ok' }] } },
          }),
        }),
      );
      const first = await waitFor(() => statuses(agent, 'cmd-argv').find((s) => s.reason === HEALTH_REASON), { what: 'the health update' });
      assert.equal(first.healthy, true);
      agent.killTask('cmd-argv');
      await terminal(agent, 'cmd-argv');
    });

    it('HTTP: 200 is healthy; 503 is a failure and the task is killed', async () => {
      agent.launchTask(hold('http-pass', { health_check: quickHealth({ type: 'HTTP', http: { port: webPort, path: '/ok' } }) }));
      agent.launchTask(hold('http-fail', { health_check: quickHealth({ type: 'HTTP', http: { port: webPort, path: '/down' } }) }));
      const healthy = await waitFor(() => statuses(agent, 'http-pass').find((s) => s.reason === HEALTH_REASON), { what: 'the HTTP health update' });
      assert.equal(healthy.healthy, true);
      await killedByHealthCheck('http-fail');
      agent.killTask('http-pass');
      await terminal(agent, 'http-pass');
    });

    it('TCP: a listening port is healthy; a closed one is a failure and the task is killed', async () => {
      const server = createTcpServer((socket) => socket.destroy());
      const port = await listen(server);
      try {
        agent.launchTask(hold('tcp-pass', { health_check: quickHealth({ type: 'TCP', tcp: { port } }) }));
        agent.launchTask(hold('tcp-fail', { health_check: quickHealth({ type: 'TCP', tcp: { port: await closedPort() } }) }));
        const healthy = await waitFor(() => statuses(agent, 'tcp-pass').find((s) => s.reason === HEALTH_REASON), { what: 'the TCP health update' });
        assert.equal(healthy.healthy, true);
        await killedByHealthCheck('tcp-fail');
        agent.killTask('tcp-pass');
        await terminal(agent, 'tcp-pass');
      } finally {
        server.close();
      }
    });

    it('check: check_status on every update, a CHECK_STATUS_UPDATED update per change, the empty result on the terminal one', async () => {
      const check: CheckInfo = { type: 'COMMAND', command: { command: { value: 'exit 3' } }, ...quick };
      agent.launchTask({ task_id: 'checked', data: payload('sleep', { ms: 800 }), check });
      const end = await terminal(agent, 'checked');
      const all = statuses(agent, 'checked');
      for (const s of all) assert.ok(s.check_status !== undefined, `${s.state} without check_status`);
      assert.deepEqual(all[0]!.check_status, { type: 'COMMAND', command: {} });
      const updates = all.filter((s) => s.reason === CHECK_REASON);
      // exit 3 every time: one change from "no result" to 3, then nothing new.
      assert.deepEqual(updates.map((s) => [s.state, s.check_status]), [['TASK_RUNNING', { type: 'COMMAND', command: { exit_code: 3 } }]]);
      assert.deepEqual([end.state, end.check_status, end.healthy], ['TASK_FINISHED', { type: 'COMMAND', command: {} }, undefined]);
    });

    it('HTTP and TCP checks report the status code and the connection, unjudged', async () => {
      agent.launchTask(hold('check-http', { check: { type: 'HTTP', http: { port: webPort, path: '/down' }, ...quick } }));
      agent.launchTask(hold('check-tcp', { check: { type: 'TCP', tcp: { port: await closedPort() }, ...quick } }));
      const http = await waitFor(() => statuses(agent, 'check-http').find((s) => s.reason === CHECK_REASON), { what: 'the HTTP check update' });
      assert.deepEqual(http.check_status, { type: 'HTTP', http: { status_code: 503 } });
      const tcp = await waitFor(() => statuses(agent, 'check-tcp').find((s) => s.reason === CHECK_REASON), { what: 'the TCP check update' });
      assert.deepEqual(tcp.check_status, { type: 'TCP', tcp: { succeeded: false } });
      // A check never kills.
      for (const id of ['check-http', 'check-tcp']) {
        assert.ok(!statuses(agent, id).some((s) => isTerminalState(s.state)));
        agent.killTask(id);
        assert.equal((await terminal(agent, id)).state, 'TASK_KILLED');
      }
    });

    it('nothing is checked after the terminal update', async () => {
      const ended = join(dir, 'ended');
      const witness = join(dir, 'witness');
      const check = (file: string): CheckInfo => ({ type: 'COMMAND', command: { command: { value: `echo run >> ${file}` } }, ...quick });
      // Long enough for two checks even on a loaded machine (each is a shell started anew).
      agent.launchTask({ task_id: 'short', data: payload('sleep', { ms: 1_500 }), check: check(ended) });
      await terminal(agent, 'short');
      const atEnd = runs(ended);
      assert.ok(atEnd >= 2, `the check ran while the task did (${atEnd})`);
      // Another task's check, on the same interval, runs 6 times: the ended task's would have too.
      agent.launchTask(hold('witness', { check: check(witness) }));
      await waitFor(() => runs(witness) >= 6, { what: 'six checks of the witness' });
      // One check may have been in flight at the end: its shell was started before the terminal
      // update and may write after we read the file. No check is STARTED after the end.
      assert.ok(runs(ended) <= atEnd + 1, `checks after the end: ${runs(ended) - atEnd}`);
      agent.killTask('witness');
      await terminal(agent, 'witness');
    });

    it('invalid definitions are TASK_ERROR (REASON_TASK_INVALID) saying what is wrong', async () => {
      const cases: Array<[string, Partial<TaskInput>, string]> = [
        ['bad-type', { health_check: { type: 'UNKNOWN' } }, "Task uses invalid health check: 'UNKNOWN' is not a valid health check type"],
        ['bad-command', { health_check: { type: 'COMMAND' } }, "Task uses invalid health check: Expecting 'command' to be set for COMMAND health check"],
        ['bad-port', { health_check: { type: 'TCP', tcp: { port: 70_000 } } }, "Task uses invalid health check: Expecting 'port' to be within 1..65535, got 70000"],
        ['bad-delay', { check: { type: 'TCP', tcp: { port: 80 }, delay_seconds: -1 } }, "Task uses invalid check: Expecting 'delay_seconds' to be non-negative"],
        ['bad-scheme', { health_check: { type: 'HTTP', http: { port: 80, scheme: 'gopher' } } }, "Task uses invalid health check: Unsupported HTTP health check scheme: 'gopher'"],
      ];
      for (const [id, extra] of cases) agent.launchTask({ task_id: id, data: payload('noop'), ...extra });
      for (const [id, , message] of cases) {
        const end = await terminal(agent, id);
        assert.deepEqual([end.state, end.reason, end.message], ['TASK_ERROR', 'REASON_TASK_INVALID', message], id);
      }
    });
  });

  describe(`checks pause while the agent is down and resume after resubscription (${encoding})`, () => {
    it('no probe while disconnected; probes again once subscribed', async () => {
      const probes: Array<{ at: number; phase: string }> = [];
      let agent: LocalAgent | undefined;
      const server = createTcpServer((socket) => {
        probes.push({ at: performance.now(), phase: agent?.phase ?? 'none' });
        socket.destroy();
      });
      const port = await listen(server);
      agent = await startExecutor(encoding, { frameworkInfo: { checkpoint: true }, subscriptionBackoffMaxMs: 100 });
      try {
        agent.launchTask(hold('paused', { check: { type: 'TCP', tcp: { port }, ...quick } }));
        await waitFor(() => probes.length >= 3, { what: 'three checks before the restart' });
        let downAt = 0;
        let upAt = 0;
        agent.on('phase', (phase) => {
          if (phase === 'down') downAt = performance.now();
          if (phase === 'containerizer-recovery') upAt = performance.now();
        });
        const resubscribed = new Promise<void>((resolve) => agent!.once('subscribed', () => resolve()));
        await agent.restart({ downMs: 1_500, recoverMs: 0, reregisterMs: 1_000 });
        await resubscribed;
        const before = probes.length;
        await waitFor(() => probes.length >= before + 3, { what: 'checks after the resubscription' });
        // While the agent was down the executor was disconnected: at most a probe already under
        // way as the stream closed, none after (at 50 ms intervals there would be ~30).
        const whileDown = probes.filter((p) => p.at > downAt + 250 && p.at < upAt);
        assert.deepEqual(whileDown, [], `${whileDown.length} probes while disconnected`);
        const statusesSeen = statuses(agent, 'paused');
        assert.ok(statusesSeen.every((s) => s.check_status?.type === 'TCP'));
        agent.killTask('paused');
        assert.equal((await terminal(agent, 'paused')).state, 'TASK_KILLED');
      } finally {
        await agent.shutdownExecutor();
        await agent.stop();
        server.close();
      }
    });
  });
}
