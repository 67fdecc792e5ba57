// The probes against real processes and real loopback servers: COMMAND (exit code, sandbox,
// environment, argv, the process group killed on abort), HTTP(S) (status codes, redirects,
// an unverified certificate, no answer) and TCP (connected or not).
import { strict as assert } from 'node:assert';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createTcpServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { probeFor, type ProbeOutcome, type ProbeSpec } from '../../src/checks/index.js';
import { TestCertificates } from '../helpers/certificates.js';
import { waitFor } from '../helpers/wait.js';

let sandbox: string;
before(() => {
  sandbox = mkdtempSync(join(tmpdir(), 'mpe-checks-'));
});
after(() => rmSync(sandbox, { recursive: true, force: true }));

function run(spec: ProbeSpec, signal = new AbortController().signal): Promise<ProbeOutcome> {
  return probeFor(spec, { sandboxDirectory: sandbox, environment: { PATH: process.env['PATH'], FROM_EXECUTOR: 'e' } })(signal);
}

const sh = (value: string, environment: Record<string, string> = {}): ProbeSpec => ({ type: 'COMMAND', shell: true, value, argv: [], environment });

async function listen(server: Server | ReturnType<typeof createTcpServer>): Promise<number> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}

describe('COMMAND probe', () => {
  it('reports the exit code of sh -c, run in the sandbox with the executor environment and the command variables', async () => {
    assert.deepEqual(await run(sh('exit 0')), { kind: 'result', status: { type: 'COMMAND', command: { exit_code: 0 } } });
    assert.deepEqual(await run(sh('exit 7')), { kind: 'result', status: { type: 'COMMAND', command: { exit_code: 7 } } });
    const out = join(sandbox, 'env.txt');
    await run(sh('echo "$PWD $FROM_EXECUTOR $OWN" > env.txt', { OWN: 'c', FROM_EXECUTOR: 'overridden' }));
    assert.equal(readFileSync(out, 'utf8').trim(), `${sandbox} overridden c`);
  });

  it('shell false: value is the executable, arguments the whole argv', async () => {
    const outcome = await run({ type: 'COMMAND', shell: false, value: 'sh', argv: ['my-argv0', '-c', 'test "$0" = my-argv0 && exit 3'], environment: {} });
    assert.deepEqual(outcome, { kind: 'result', status: { type: 'COMMAND', command: { exit_code: 3 } } });
  });

  it('a command that cannot start is an error, not a result', async () => {
    const outcome = await run({ type: 'COMMAND', shell: false, value: '/no/such/binary', argv: ['x'], environment: {} });
    assert.equal(outcome.kind, 'error');
    assert.match(outcome.kind === 'error' ? outcome.message : '', /Failed to create subprocess: .*ENOENT/);
  });

  it('an abort (a timeout) SIGKILLs the whole process group, grandchildren too', async () => {
    const pidFile = join(sandbox, 'grandchild.pid');
    const abort = new AbortController();
    const pending = run(sh(`sleep 30 & echo $! > ${pidFile}; wait`), abort.signal);
    await waitFor(() => existsSync(pidFile) && readFileSync(pidFile, 'utf8').trim() !== '', { what: 'the grandchild pid' });
    const grandchild = Number(readFileSync(pidFile, 'utf8').trim());
    abort.abort();
    assert.deepEqual(await pending, { kind: 'error', message: 'aborted' });
    await waitFor(() => {
      try {
        process.kill(grandchild, 0);
        return false;
      } catch {
        return true;
      }
    }, { what: 'the grandchild to be killed' });
  });
});

describe('HTTP probe', () => {
  let server: Server;
  let port: number;
  before(async () => {
    server = createServer((req, res) => {
      if (req.url === '/redirect') res.writeHead(302, { location: '/teapot' }).end();
      else if (req.url === '/loop') res.writeHead(301, { location: '/loop' }).end();
      else if (req.url === '/teapot') res.writeHead(418).end('short and stout');
      else if (req.url === '/down') res.writeHead(503).end();
      else res.writeHead(200).end('ok');
    });
    port = await listen(server);
  });
  after(() => server.close());

  const http = (path: string, p = port): ProbeSpec => ({ type: 'HTTP', scheme: 'http', host: '127.0.0.1', port: p, path });

  it('GETs the path and reports the status code', async () => {
    assert.deepEqual(await run(http('/health')), { kind: 'result', status: { type: 'HTTP', http: { status_code: 200 } } });
    assert.deepEqual(await run(http('/down')), { kind: 'result', status: { type: 'HTTP', http: { status_code: 503 } } });
  });

  it('follows redirects like curl -L, at most 50', async () => {
    assert.deepEqual(await run(http('/redirect')), { kind: 'result', status: { type: 'HTTP', http: { status_code: 418 } } });
    const loop = await run(http('/loop'));
    assert.equal(loop.kind, 'error');
    assert.match(loop.kind === 'error' ? loop.message : '', /more than 50 redirects/);
  });

  it('nothing listening is an error (curl fails), not a status', async () => {
    const closed = createTcpServer();
    const free = await listen(closed);
    closed.close();
    await once(closed, 'close');
    assert.equal((await run(http('/', free))).kind, 'error');
  });

  it('https: the task certificate is not verified (curl -k)', async () => {
    const certs = new TestCertificates();
    const leaf = certs.selfSigned({ cn: 'task', names: ['DNS:task.invalid'] });
    const tls = createHttpsServer({ key: leaf.key, cert: leaf.cert }, (_req, res) => res.writeHead(204).end());
    try {
      tls.listen(0, '127.0.0.1');
      await once(tls, 'listening');
      const tlsPort = (tls.address() as AddressInfo).port;
      assert.deepEqual(await run({ type: 'HTTP', scheme: 'https', host: '127.0.0.1', port: tlsPort, path: '/' }), {
        kind: 'result',
        status: { type: 'HTTP', http: { status_code: 204 } },
      });
    } finally {
      tls.close();
      certs.remove();
    }
  });
});

describe('TCP probe', () => {
  it('succeeded true when a connection is made, false when refused', async () => {
    const server = createTcpServer((socket) => socket.destroy());
    const port = await listen(server);
    assert.deepEqual(await run({ type: 'TCP', host: '127.0.0.1', port }), { kind: 'result', status: { type: 'TCP', tcp: { succeeded: true } } });
    server.close();
    await once(server, 'close');
    assert.deepEqual(await run({ type: 'TCP', host: '127.0.0.1', port }), { kind: 'result', status: { type: 'TCP', tcp: { succeeded: false } } });
  });
});
