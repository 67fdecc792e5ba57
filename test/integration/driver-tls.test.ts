// The whole driver over TLS, configured only by the libprocess variables an agent passes on, in
// both encodings: subscribe, a task, every update acknowledged; a client certificate the agent
// requires; an agent certificate refused when verifying (and accepted when not, as libprocess).
import { strict as assert } from 'node:assert';
import { connect as netConnect } from 'node:net';
import { fileURLToPath } from 'node:url';
import { createServer as createTlsServer, type Server as TlsServer, type TLSSocket } from 'node:tls';
import { after, afterEach, before, describe, it } from 'node:test';
import { LocalAgent } from '../../src/agent/index.js';
import { MesosExecutorDriver } from '../../src/driver/driver.js';
import type { ContentType } from '../../src/protocol/codec.js';
import { TestCertificates, type CertificateAuthority, type Issued } from '../helpers/certificates.js';
import { RecordingExecutor } from '../helpers/recording-executor.js';
import { waitFor } from '../helpers/wait.js';

const ENCODINGS: ContentType[] = ['application/x-protobuf', 'application/json'];
const RECORDING_MAIN = fileURLToPath(new URL('../fixtures/recording-executor-main.js', import.meta.url));
const CLI_MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

const certs = new TestCertificates();
let agentCa: CertificateAuthority;
let clientCa: CertificateAuthority;
let agentIdentity: Issued;
let executorIdentity: Issued;
before(() => {
  agentCa = certs.root('Agent CA');
  clientCa = certs.root('Executor CA');
  // What an operator following libprocess' advice issues: the agent's IP as an IP SAN.
  agentIdentity = agentCa.issue({ cn: 'agent.example', names: ['DNS:agent.example', 'IP:127.0.0.1'] });
  executorIdentity = clientCa.issue({ cn: 'executor' });
});
after(() => certs.remove());

/**
 * A TLS listener in front of a LocalAgent: TLS ends here and the bytes go on to the agent's
 * plain port. It records the client certificate of every connection it accepts.
 */
interface TlsFront {
  readonly port: number;
  /** CN of each accepted connection's client certificate (null without one). */
  readonly clients: Array<string | null>;
  close(): Promise<void>;
}

async function tlsFront(agent: LocalAgent, identity: { key: string; cert: string }, requireClientCertFrom?: string): Promise<TlsFront> {
  const clients: Array<string | null> = [];
  const server: TlsServer = createTlsServer(
    {
      key: identity.key,
      cert: identity.cert,
      ...(requireClientCertFrom !== undefined ? { requestCert: true, rejectUnauthorized: true, ca: [requireClientCertFrom] } : {}),
    },
    (socket: TLSSocket) => {
      const peer = socket.getPeerCertificate();
      clients.push(typeof peer?.subject?.CN === 'string' ? peer.subject.CN : null);
      const upstream = netConnect({ host: '127.0.0.1', port: agent.port });
      socket.pipe(upstream).pipe(socket);
      const end = (): void => {
        socket.destroy();
        upstream.destroy();
      };
      socket.on('error', end).on('close', end);
      upstream.on('error', end).on('close', end);
    },
  );
  server.on('tlsClientError', () => {});
  const port = await new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)));
  return {
    port,
    clients,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
      }),
  };
}

interface Rig {
  readonly agent: LocalAgent;
  readonly front: TlsFront;
  readonly driver: MesosExecutorDriver;
  readonly executor: RecordingExecutor;
}

const open: Rig[] = [];
afterEach(async () => {
  for (const r of open.splice(0)) {
    await r.driver.abort();
    await r.front.close();
    await r.agent.stop();
  }
});

async function rig(contentType: ContentType, ssl: Record<string, string>, front: { identity?: Issued; requireClientCert?: boolean } = {}): Promise<Rig> {
  const agent = new LocalAgent({ subscriptionBackoffMaxMs: 50 });
  await agent.start();
  const tls = await tlsFront(agent, front.identity ?? agentIdentity, front.requireClientCert === true ? clientCa.caCert : undefined);
  const executor = new RecordingExecutor();
  const driver = new MesosExecutorDriver(executor, {
    // Only what an agent passes on: its environment with the libprocess SSL variables, the
    // address being the TLS listener's.
    env: agent.executorEnvironment({
      MESOS_AGENT_ENDPOINT: `127.0.0.1:${tls.port}`,
      LIBPROCESS_SSL_ENABLED: 'true',
      LIBPROCESS_SSL_KEY_FILE: executorIdentity.keyPath,
      LIBPROCESS_SSL_CERT_FILE: executorIdentity.certPath,
      ...ssl,
    }),
    contentType,
    subscribeRetryIntervalMs: 20,
    updateRetryIntervalMs: 20,
  });
  const r = { agent, front: tls, driver, executor };
  open.push(r);
  return r;
}

/** Subscribes, runs one task to TASK_FINISHED and waits for every acknowledgement. */
async function runTask(r: Rig): Promise<void> {
  await r.driver.start();
  await waitFor(() => r.executor.names().includes('registered'), { what: 'registered over TLS' });
  r.agent.launchTask({ task_id: 't1', data: Buffer.from('finish') });
  await waitFor(() => r.agent.task('t1')?.state === 'TASK_FINISHED', { what: 'TASK_FINISHED over TLS' });
  await waitFor(() => r.driver.unacknowledgedUpdates === 0, { what: 'all updates acknowledged' });
  assert.deepEqual(
    r.agent.task('t1')!.statuses.map((s) => s.state),
    ['TASK_RUNNING', 'TASK_FINISHED'],
  );
  assert.equal(r.driver.unacknowledgedTasks, 0);
}

const VERIFY_OPENSSL = {
  LIBPROCESS_SSL_VERIFY_SERVER_CERT: 'true',
  LIBPROCESS_SSL_HOSTNAME_VALIDATION_SCHEME: 'openssl',
  LIBPROCESS_SSL_VERIFY_IPADD: 'true',
};

for (const contentType of ENCODINGS) {
  const short = contentType === 'application/json' ? 'json' : 'protobuf';

  describe(`driver over TLS (${short})`, () => {
    it('verifying (openssl scheme, IP SAN): subscribes, runs a task, every update acknowledged; both connections are TLS', async () => {
      const r = await rig(contentType, { ...VERIFY_OPENSSL, LIBPROCESS_SSL_CA_FILE: agentCa.certPath });
      await runTask(r);
      // The SUBSCRIBE stream and the call connection, each through the TLS listener.
      assert.ok(r.front.clients.length >= 2, `${r.front.clients.length} TLS connections`);
      assert.equal(r.agent.calls.at(-1)?.contentType, contentType);
    });

    it('verifying (legacy scheme, the modern variable names, VERIFY_IPADD): the IP SAN is enough', async () => {
      const r = await rig(contentType, {
        LIBPROCESS_SSL_VERIFY_SERVER_CERT: '1',
        LIBPROCESS_SSL_CA_FILE: agentCa.certPath,
        LIBPROCESS_SSL_VERIFY_IPADD: '1',
      });
      await runTask(r);
    });

    it('an agent that requires client certificates gets the executor certificate on every connection', async () => {
      const r = await rig(
        contentType,
        { LIBPROCESS_SSL_REQUIRE_CLIENT_CERT: 'true', LIBPROCESS_SSL_CA_FILE: agentCa.certPath, LIBPROCESS_SSL_VERIFY_IPADD: 'true' },
        { requireClientCert: true },
      );
      await runTask(r);
      assert.ok(r.front.clients.length >= 2);
      assert.deepEqual(new Set(r.front.clients), new Set(['executor']));
    });

    it('verifying, an agent certificate from a CA not trusted is refused: no SUBSCRIBE reaches the agent, the driver shuts down', async () => {
      const stranger = certs.root('Stranger CA').issue({ cn: 'agent.example', names: ['IP:127.0.0.1'] });
      const r = await rig(contentType, { ...VERIFY_OPENSSL, LIBPROCESS_SSL_CA_FILE: agentCa.certPath }, { identity: stranger });
      const failures: string[] = [];
      r.driver.on('subscribeFailed', (info) => failures.push(info.message));
      await r.driver.start();
      await waitFor(() => r.executor.names().includes('shutdown'), { what: 'shutdown after the refused certificate' });
      assert.match(failures[0] ?? '', /certificate was refused: Could not verify peer certificate/);
      assert.equal(r.agent.calls.length, 0);
      assert.ok(!r.executor.names().includes('registered'));
    });

    it('not verifying (libprocess default): the same untrusted agent is accepted', async () => {
      const stranger = certs.root('Stranger CA').issue({ cn: 'mallory.example' });
      const r = await rig(contentType, {}, { identity: stranger });
      await runTask(r);
    });
  });
}

describe('executor processes over TLS', () => {
  const agents: Array<{ agent: LocalAgent; front?: TlsFront }> = [];
  afterEach(async () => {
    for (const { agent, front } of agents.splice(0)) {
      await front?.close();
      await agent.stop();
    }
  });

  async function agentBehindTls(): Promise<{ agent: LocalAgent; front: TlsFront }> {
    const agent = new LocalAgent({});
    await agent.start();
    const front = await tlsFront(agent, agentIdentity, clientCa.caCert);
    agents.push({ agent, front });
    return { agent, front };
  }

  it('an executor process launched by the agent, configured by its environment alone: verified both ways, a task, exit 0', async () => {
    const { agent, front } = await agentBehindTls();
    const handle = await agent.launchExecutor({
      command: process.execPath,
      args: [RECORDING_MAIN],
      env: {
        MESOS_AGENT_ENDPOINT: `127.0.0.1:${front.port}`,
        LIBPROCESS_SSL_ENABLED: '1',
        LIBPROCESS_SSL_KEY_FILE: executorIdentity.keyPath,
        LIBPROCESS_SSL_CERT_FILE: executorIdentity.certPath,
        LIBPROCESS_SSL_CA_FILE: agentCa.certPath,
        LIBPROCESS_SSL_REQUIRE_CLIENT_CERT: '1',
        LIBPROCESS_SSL_HOSTNAME_VALIDATION_SCHEME: 'openssl',
        LIBPROCESS_SSL_VERIFY_IPADD: '1',
      },
    });
    await waitFor(() => agent.subscribed || !handle.alive, { what: 'the executor process to subscribe over TLS', timeoutMs: 10_000 });
    assert.ok(handle.alive, handle.stderr);
    agent.launchTask({ task_id: 'p1', data: Buffer.from('finish') });
    await waitFor(() => agent.task('p1')?.state === 'TASK_FINISHED', { what: 'TASK_FINISHED' });
    await agent.shutdownExecutor();
    assert.deepEqual(await handle.exited, { code: 0, signal: null }, handle.stderr);
    assert.deepEqual(new Set(front.clients), new Set(['executor']));
  });

  for (const [what, env, expected] of [
    ['SSL enabled without a key', { LIBPROCESS_SSL_ENABLED: 'true' }, /LIBPROCESS_SSL_KEY_FILE is not set.*\[MPE_ENV_MISSING\]/],
    [
      'SSL enabled with a key that is not the certificate\'s',
      { LIBPROCESS_SSL_ENABLED: '1', LIBPROCESS_SSL_KEY_FILE: 'KEY_OF_ANOTHER', LIBPROCESS_SSL_CERT_FILE: 'EXECUTOR_CERT' },
      /LIBPROCESS_SSL_KEY_FILE: the private key does not match the certificate.*\[MPE_TLS_CONFIG\]/,
    ],
  ] as const) {
    it(`the pool executor refuses to start: ${what} (exit 2, the variable named)`, async () => {
      const agent = new LocalAgent({});
      await agent.start();
      agents.push({ agent });
      const other = clientCa.issue({ cn: 'someone else' });
      const resolved = Object.fromEntries(
        Object.entries(env).map(([k, v]) => [k, v === 'KEY_OF_ANOTHER' ? other.keyPath : v === 'EXECUTOR_CERT' ? executorIdentity.certPath : v]),
      );
      const handle = await agent.launchExecutor({ command: process.execPath, args: [CLI_MAIN, '--threads', '1', '--log-level', 'error'], env: resolved });
      const exit = await handle.exited;
      assert.equal(exit.code, 2, handle.stderr);
      assert.match(handle.stderr.replace(/\n/g, ' '), expected);
      assert.equal(agent.calls.length, 0);
    });
  }
});
