// The whole driver over TLS against the LocalAgent's TLS listener, configured only by the
// libprocess variables an agent passes on, in both encodings: subscribe, a task, every update
// acknowledged; a client certificate the agent requires; an agent certificate refused when
// verifying (and accepted when not, as libprocess). Then whole executor processes.
import { strict as assert } from 'node:assert';
import { fileURLToPath } from 'node:url';
import { after, afterEach, before, describe, it } from 'node:test';
import { LocalAgent, type LocalAgentOptions } from '../../src/agent/index.js';
import type { ContentType } from '../../src/protocol/codec.js';
import { driverRigs, type DriverRig } from '../helpers/driver-rig.js';
import { TestCertificates, type CertificateAuthority, type Issued } from '../helpers/certificates.js';
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

const rigs = driverRigs();
type Rig = DriverRig;

interface AgentSide {
  /** The agent's identity (default: issued by the CA the executor is told to trust). */
  readonly identity?: Issued;
  /** Require a client certificate chaining to the executor CA. */
  readonly requireClientCert?: boolean;
}

function tlsAgent(side: AgentSide, options: LocalAgentOptions = {}): LocalAgent {
  const identity = side.identity ?? agentIdentity;
  return new LocalAgent({
    subscriptionBackoffMaxMs: 50,
    ...options,
    tls: { key: identity.key, cert: identity.cert, ...(side.requireClientCert === true ? { ca: clientCa.caCert, requestClientCert: true } : {}) },
  });
}

/** The executor's key and certificate, which libprocess requires whenever SSL is on. */
function executorSsl(extra: Record<string, string> = {}): Record<string, string> {
  return {
    LIBPROCESS_SSL_ENABLED: 'true',
    LIBPROCESS_SSL_KEY_FILE: executorIdentity.keyPath,
    LIBPROCESS_SSL_CERT_FILE: executorIdentity.certPath,
    ...extra,
  };
}

async function rig(contentType: ContentType, ssl: Record<string, string>, side: AgentSide = {}): Promise<Rig> {
  const agent = tlsAgent(side);
  await agent.start();
  // Only what an agent passes on: its environment plus the libprocess SSL variables.
  return rigs.rig({ agent, extraEnvironment: executorSsl(ssl), driverOptions: { contentType } });
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
  // The SUBSCRIBE stream and the call connection, both over TLS.
  const calls = r.agent.calls;
  assert.deepEqual([...new Set(calls.map((c) => c.transport))], ['tls']);
  assert.ok(calls.some((c) => c.type === 'SUBSCRIBE') && calls.some((c) => c.type === 'UPDATE'));
}

const VERIFY_OPENSSL = {
  LIBPROCESS_SSL_VERIFY_SERVER_CERT: 'true',
  LIBPROCESS_SSL_HOSTNAME_VALIDATION_SCHEME: 'openssl',
  LIBPROCESS_SSL_VERIFY_IPADD: 'true',
};

for (const contentType of ENCODINGS) {
  const short = contentType === 'application/json' ? 'json' : 'protobuf';

  describe(`driver over TLS (${short})`, () => {
    it('verifying (openssl scheme, IP SAN): subscribes, runs a task, every update acknowledged, every call over TLS', async () => {
      const r = await rig(contentType, { ...VERIFY_OPENSSL, LIBPROCESS_SSL_CA_FILE: agentCa.certPath });
      await runTask(r);
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

    it('an agent that requires client certificates accepts the executor certificate', async () => {
      const r = await rig(
        contentType,
        { LIBPROCESS_SSL_REQUIRE_CLIENT_CERT: 'true', LIBPROCESS_SSL_CA_FILE: agentCa.certPath, LIBPROCESS_SSL_VERIFY_IPADD: 'true' },
        { requireClientCert: true },
      );
      await runTask(r);
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
  const agents: LocalAgent[] = [];
  afterEach(async () => {
    for (const agent of agents.splice(0)) await agent.stop();
  });

  it('launched by the agent with the SSL variables as operator variables: verified both ways, a task, exit 0', async () => {
    const agent = tlsAgent(
      { requireClientCert: true },
      {
        // As upstream: `--executor_environment_variables` carries the libprocess SSL variables.
        extraEnvironment: executorSsl({
          LIBPROCESS_SSL_CA_FILE: agentCa.certPath,
          LIBPROCESS_SSL_REQUIRE_CLIENT_CERT: '1',
          LIBPROCESS_SSL_HOSTNAME_VALIDATION_SCHEME: 'openssl',
          LIBPROCESS_SSL_VERIFY_IPADD: '1',
        }),
      },
    );
    agents.push(agent);
    await agent.start();
    const handle = await agent.launchExecutor({ command: process.execPath, args: [RECORDING_MAIN] });
    await waitFor(() => agent.subscribed || !handle.alive, { what: 'the executor process to subscribe over TLS', timeoutMs: 10_000 });
    assert.ok(handle.alive, handle.stderr);
    agent.launchTask({ task_id: 'p1', data: Buffer.from('finish') });
    await waitFor(() => agent.task('p1')?.state === 'TASK_FINISHED', { what: 'TASK_FINISHED' });
    await agent.shutdownExecutor();
    assert.deepEqual(await handle.exited, { code: 0, signal: null }, handle.stderr);
    assert.deepEqual([...new Set(agent.calls.map((c) => c.transport))], ['tls']);
  });

  it('an executor certificate the agent does not trust: the executor process never subscribes, shuts down and exits', async () => {
    const agent = tlsAgent({ requireClientCert: true });
    agents.push(agent);
    await agent.start();
    const stranger = certs.root('Stranger CA').issue({ cn: 'stranger' });
    const handle = await agent.launchExecutor({
      command: process.execPath,
      args: [RECORDING_MAIN],
      env: executorSsl({ LIBPROCESS_SSL_KEY_FILE: stranger.keyPath, LIBPROCESS_SSL_CERT_FILE: stranger.certPath }),
    });
    await handle.exited;
    // A first connection that fails means the agent is not there for us: shutdown, never registered.
    const callbacks = handle.stdout
      .split('\n')
      .filter((l) => l.startsWith('{"callback"'))
      .map((l) => (JSON.parse(l) as { callback: string }).callback);
    assert.deepEqual(callbacks, ['shutdown'], handle.stderr);
    assert.equal(agent.calls.length, 0);
  });

  for (const [what, env, expected] of [
    ['SSL enabled without a key', { LIBPROCESS_SSL_ENABLED: 'true' }, /LIBPROCESS_SSL_KEY_FILE is not set.*\[MPE_ENV_MISSING\]/],
    [
      "SSL enabled with a key that is not the certificate's",
      { LIBPROCESS_SSL_ENABLED: '1', LIBPROCESS_SSL_KEY_FILE: 'KEY_OF_ANOTHER', LIBPROCESS_SSL_CERT_FILE: 'EXECUTOR_CERT' },
      /LIBPROCESS_SSL_KEY_FILE: the private key does not match the certificate.*\[MPE_TLS_CONFIG\]/,
    ],
  ] as const) {
    it(`the pool executor refuses to start: ${what} (exit 2, the variable named)`, async () => {
      const agent = tlsAgent({});
      agents.push(agent);
      await agent.start();
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
