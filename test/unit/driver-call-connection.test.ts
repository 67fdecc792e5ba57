import { strict as assert } from 'node:assert';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer, Socket, type Server } from 'node:net';
import { after, describe, it } from 'node:test';
import { CallConnection } from '../../src/driver/call-connection.js';
import { createTlsOptions } from '../../src/driver/tls.js';
import { TestCertificates } from '../helpers/certificates.js';

const servers: Array<Server | HttpServer> = [];
after(async () => {
  await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
});

function listen<S extends Server | HttpServer>(server: S): Promise<number> {
  servers.push(server);
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)));
}

const HEADERS = 'Content-Type: application/x-protobuf\r\nAccept: application/x-protobuf\r\n';

function connection(port: number, options: Partial<ConstructorParameters<typeof CallConnection>[0]> = {}): CallConnection {
  return new CallConnection({
    host: '127.0.0.1',
    port,
    path: '/slave(1)/api/v1/executor',
    responseTimeoutMs: 2000,
    pipelining: 4,
    ...options,
  });
}

describe('CallConnection', () => {
  it('pipelines calls on one socket and matches answers to calls in order', async () => {
    let sockets = 0;
    const bodies: string[] = [];
    const server = createHttpServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString();
        bodies.push(body);
        res.writeHead(body === 'bad' ? 400 : 202, { 'Content-Type': 'text/plain' });
        res.end(body === 'bad' ? 'Failed to validate' : '');
      });
    });
    server.on('connection', () => sockets++);
    const port = await listen(server);
    const calls = connection(port);
    const answers = await Promise.all(['a', 'b', 'bad', 'c', 'd', 'e', 'f'].map((b) => calls.post(Buffer.from(b), HEADERS)));
    assert.deepEqual(answers.map((a) => a.status), [202, 202, 400, 202, 202, 202, 202]);
    assert.equal(answers[2]!.body, 'Failed to validate');
    assert.deepEqual(bodies, ['a', 'b', 'bad', 'c', 'd', 'e', 'f']);
    assert.equal(sockets, 1, 'one keep-alive connection');
    calls.close();
  });

  it('fails the calls of a lost connection, and reconnects for the next call', async () => {
    const accepted: Socket[] = [];
    const server = createServer((socket) => {
      accepted.push(socket);
      socket.on('data', () => {
        // The first connection dies without answering; later ones answer.
        if (accepted.length === 1) socket.destroy();
        else socket.write('HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n');
      });
    });
    const port = await listen(server);
    const calls = connection(port);
    await assert.rejects(calls.post(Buffer.from('x'), HEADERS), { code: 'MPE_CONNECTION' });
    assert.equal((await calls.post(Buffer.from('y'), HEADERS)).status, 202);
    assert.equal(accepted.length, 2);
    calls.close();
  });

  it('writes the calls made in one event-loop turn together, and still at most `pipelining` before their answers', async () => {
    const reads: string[] = [];
    const server = createServer((socket) => {
      socket.on('data', (chunk: Buffer) => {
        reads.push(chunk.toString('latin1'));
        const calls = chunk.toString('latin1').split('POST ').length - 1;
        socket.write('HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n'.repeat(calls));
      });
    });
    const port = await listen(server);
    const calls = connection(port, { pipelining: 3 });
    // Connected first: calls made while it connects wait for it anyway.
    assert.equal((await calls.post(Buffer.from('w'), HEADERS)).status, 202);
    reads.length = 0;
    // Counts the client socket's writes (in this process the server would read separate writes
    // made in one turn as one chunk anyway).
    const write = Socket.prototype.write;
    let writes = 0;
    Socket.prototype.write = function (this: Socket, ...args: Parameters<Socket['write']>) {
      if (this.remotePort === port) writes++;
      return write.apply(this, args);
    } as Socket['write'];
    let answers;
    try {
      answers = await Promise.all(['a', 'b', 'c', 'd', 'e'].map((b) => calls.post(Buffer.from(b), HEADERS)));
    } finally {
      Socket.prototype.write = write;
    }
    assert.deepEqual(answers.map((a) => a.status), [202, 202, 202, 202, 202]);
    // One write of the first three (the limit), one of the other two once answers made room.
    assert.equal(writes, 2);
    assert.equal(reads[0]!.split('POST ').length - 1, 3, reads[0]);
    assert.match(reads[0]!, /^POST \/slave\(1\)\/api\/v1\/executor HTTP\/1\.1\r\nHost: 127\.0\.0\.1:\d+\r\nContent-Type: application\/x-protobuf\r\nAccept: application\/x-protobuf\r\nContent-Length: 1\r\n\r\na/);
    assert.equal(reads.join('').split('POST ').length - 1, 5);
    calls.close();
  });

  it('times out a call made after earlier ones were answered, counting from its own write', async () => {
    let seen = 0;
    const server = createServer((socket) =>
      socket.on('data', () => {
        // Only the first call is answered.
        if (seen++ === 0) socket.write('HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n');
      }),
    );
    const port = await listen(server);
    const calls = connection(port, { responseTimeoutMs: 150 });
    assert.equal((await calls.post(Buffer.from('x'), HEADERS)).status, 202);
    const sent = performance.now();
    await assert.rejects(calls.post(Buffer.from('y'), HEADERS), /no answer within 150 ms/);
    assert.ok(performance.now() - sent >= 149, 'not before its own timeout');
    calls.close();
  });

  it('fails at once when nothing listens (no reconnect loop)', async () => {
    const server = createServer();
    const port = await listen(server);
    await new Promise<void>((resolve) => server.close(() => resolve()));
    servers.splice(servers.indexOf(server), 1);
    const calls = connection(port);
    await assert.rejects(calls.post(Buffer.from('x'), HEADERS), { code: 'MPE_CONNECTION' });
    calls.close();
  });

  it('fails calls whose answer does not come within the timeout', async () => {
    const server = createServer((socket) => socket.on('data', () => {}));
    const port = await listen(server);
    const calls = connection(port, { responseTimeoutMs: 100 });
    await assert.rejects(calls.post(Buffer.from('x'), HEADERS), /no answer within 100 ms/);
    calls.close();
  });

  it('speaks TLS, and refuses an agent certificate it was not told to trust when verifying', async () => {
    const certs = new TestCertificates();
    try {
      const { key, cert } = certs.selfSigned({ cn: '127.0.0.1', names: ['IP:127.0.0.1'] });
      const server = createHttpsServer({ key, cert }, (req, res) => {
        req.resume();
        req.on('end', () => {
          res.writeHead(202);
          res.end();
        });
      });
      const port = await listen(server as unknown as HttpServer);
      const verify = { scheme: 'openssl', caFile: null, caDir: null, depth: 4, verifyIpAddress: true } as const;
      const trusted = connection(port, { tls: createTlsOptions({ ca: [cert] }, verify) });
      assert.equal((await trusted.post(Buffer.from('x'), HEADERS)).status, 202);
      trusted.close();
      const untrusted = connection(port, { tls: createTlsOptions({}, verify) });
      await assert.rejects(untrusted.post(Buffer.from('x'), HEADERS), { code: 'MPE_CONNECTION', message: /Could not verify peer certificate/ });
      untrusted.close();
      // libprocess does not verify by default (LIBPROCESS_SSL_VERIFY_SERVER_CERT unset): neither do we then.
      const unverified = connection(port, { tls: createTlsOptions({}, { scheme: 'off' }) });
      assert.equal((await unverified.post(Buffer.from('x'), HEADERS)).status, 202);
      unverified.close();
    } finally {
      certs.remove();
    }
  });

  it('a closed connection refuses new calls and fails pending ones', async () => {
    const server = createServer((socket) => socket.on('data', () => {}));
    const port = await listen(server);
    const calls = connection(port);
    const pending = calls.post(Buffer.from('x'), HEADERS);
    calls.close();
    await assert.rejects(pending, { code: 'MPE_CONNECTION' });
    await assert.rejects(calls.post(Buffer.from('y'), HEADERS), { code: 'MPE_CONNECTION' });
  });
});
