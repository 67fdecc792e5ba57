// The /metrics endpoint over real loopback HTTP.
import { strict as assert } from 'node:assert';
import { request } from 'node:http';
import { connect } from 'node:net';
import { afterEach, describe, it } from 'node:test';
import { Counter, Registry } from 'prom-client';
import { MesosExecutorError } from '../../src/errors.js';
import { readMetricsAddress, writeMetricsAddress } from '../../src/metrics/address-file.js';
import { startMetricsServer, type MetricsServer } from '../../src/metrics/server.js';
import { withTimeout } from '../helpers/wait.js';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const servers: MetricsServer[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await server.close();
});

async function serve(registry = sampleRegistry()): Promise<MetricsServer> {
  const server = await startMetricsServer({ registry, port: 0, host: '127.0.0.1' });
  servers.push(server);
  return server;
}

function sampleRegistry(): Registry {
  const registry = new Registry();
  new Counter({ name: 'mesos_executor_test_total', help: 'a test counter', registers: [registry] }).inc(3);
  return registry;
}

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function call(server: MetricsServer, method: string, path: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: server.port, method, path, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('metrics server', () => {
  it('GET /metrics answers 200 with the registry exposition and content type', async () => {
    const registry = sampleRegistry();
    const server = await serve(registry);
    assert.ok(server.port > 0, 'port 0 reports the port actually bound');
    assert.equal(server.host, '127.0.0.1');
    assert.equal(server.url, `http://127.0.0.1:${server.port}/metrics`);
    const answer = await call(server, 'GET', '/metrics');
    assert.equal(answer.status, 200);
    assert.equal(answer.headers['content-type'], registry.contentType);
    assert.match(String(answer.headers['content-type']), /^text\/plain; version=0\.0\.4/);
    assert.equal(answer.body, await registry.metrics());
    assert.match(answer.body, /^mesos_executor_test_total 3$/m);
    const withQuery = await call(server, 'GET', '/metrics?name[]=x');
    assert.equal(withQuery.status, 200, 'a query string does not change the path');
  });

  it('HEAD /metrics answers 200 with the content type and no body', async () => {
    const registry = sampleRegistry();
    const server = await serve(registry);
    const answer = await call(server, 'HEAD', '/metrics');
    assert.equal(answer.status, 200);
    assert.equal(answer.headers['content-type'], registry.contentType);
    assert.equal(answer.body, '');
  });

  it('the OpenMetrics content type is served when the registry has it', async () => {
    const registry = new Registry();
    registry.setContentType(Registry.OPENMETRICS_CONTENT_TYPE as unknown as typeof registry.contentType);
    const server = await serve(registry);
    const answer = await call(server, 'GET', '/metrics');
    assert.match(String(answer.headers['content-type']), /^application\/openmetrics-text/);
  });

  it('404 for any other path, 405 with Allow for other methods on /metrics', async () => {
    const server = await serve();
    for (const path of ['/', '/metrics/', '/metricsx', '/favicon.ico']) {
      assert.equal((await call(server, 'GET', path)).status, 404, path);
    }
    for (const method of ['POST', 'PUT', 'DELETE', 'OPTIONS']) {
      const answer = await call(server, method, '/metrics');
      assert.equal(answer.status, 405, method);
      assert.equal(answer.headers.allow, 'GET, HEAD');
    }
  });

  it('500 when collecting fails, and the server goes on', async () => {
    const registry = new Registry();
    new Counter({
      name: 'broken_total',
      help: 'h',
      registers: [registry],
      collect() {
        throw new Error('collector bug');
      },
    });
    const server = await serve(registry);
    const answer = await call(server, 'GET', '/metrics');
    assert.equal(answer.status, 500);
    assert.ok(!answer.body.includes('collector bug'), 'internals are not echoed');
    assert.equal((await call(server, 'GET', '/x')).status, 404);
  });

  it('binds only to the host given: another loopback address is refused', async () => {
    const server = await serve();
    // 127.0.0.2 is this machine too (127/8 is loopback on Linux): a server on 0.0.0.0 would answer there.
    const outcome = await new Promise<string>((resolve) => {
      const socket = connect({ host: '127.0.0.2', port: server.port, timeout: 2_000 });
      socket.once('connect', () => {
        socket.destroy();
        resolve('connected');
      });
      socket.once('timeout', () => {
        socket.destroy();
        resolve('timeout');
      });
      socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
    });
    assert.notEqual(outcome, 'connected');
  });

  it('a port in use or an invalid option is MPE_INVALID_OPTION naming the address', async () => {
    const first = await serve();
    await assert.rejects(
      startMetricsServer({ registry: new Registry(), port: first.port, host: '127.0.0.1' }),
      (error: unknown) => error instanceof MesosExecutorError && error.code === 'MPE_INVALID_OPTION' && error.message.includes(`127.0.0.1:${first.port}`) && error.message.includes('EADDRINUSE'),
    );
    for (const port of [-1, 65536, 1.5, Number.NaN]) {
      await assert.rejects(startMetricsServer({ registry: new Registry(), port }), (error: unknown) => error instanceof MesosExecutorError && error.code === 'MPE_INVALID_OPTION');
    }
    await assert.rejects(startMetricsServer({ registry: new Registry(), port: 0, host: '' }), /host/);
  });

  it('close() stops listening even with a kept-alive connection, and is idempotent', async () => {
    const server = await startMetricsServer({ registry: sampleRegistry(), port: 0 });
    const socket = connect({ host: '127.0.0.1', port: server.port });
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    socket.write('GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n');
    await new Promise<void>((resolve) => socket.once('data', () => resolve()));
    await Promise.all([server.close(), server.close()]);
    await new Promise<void>((resolve) => (socket.destroyed ? resolve() : socket.once('close', () => resolve())));
    await assert.rejects(call(server, 'GET', '/metrics'), /ECONNREFUSED/);
  });

  it('the address file holds the bound address, written atomically', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mpe-metrics-address-'));
    try {
      const server = await serve();
      const file = join(dir, 'metrics-address.json');
      assert.equal(await readMetricsAddress(file), undefined);
      await writeMetricsAddress(file, server);
      assert.deepEqual(await readMetricsAddress(file), { url: server.url, host: '127.0.0.1', port: server.port, pid: process.pid });
      assert.deepEqual(await readdir(dir), ['metrics-address.json'], 'no temporary file left');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('one collection serves the scrapes of cacheMs, and concurrent scrapes share one collection', async () => {
    let collections = 0;
    const registry = new Registry();
    const counter = new Counter({
      name: 'mesos_executor_test_total',
      help: 'a test counter',
      registers: [registry],
      collect() {
        collections++;
      },
    });
    const cached = await startMetricsServer({ registry, port: 0, cacheMs: 60_000 });
    servers.push(cached);
    const answers = await Promise.all(Array.from({ length: 32 }, () => call(cached, 'GET', '/metrics')));
    assert.equal(collections, 1, '32 concurrent scrapes, one collection');
    assert.ok(answers.every((a) => a.status === 200 && a.body === answers[0]!.body));
    counter.inc(5);
    assert.equal((await call(cached, 'GET', '/metrics')).body, answers[0]!.body, 'served from the cache');
    assert.equal(collections, 1);
    const fresh = await startMetricsServer({ registry, port: 0, cacheMs: 0 });
    servers.push(fresh);
    assert.match((await call(fresh, 'GET', '/metrics')).body, /mesos_executor_test_total 5/);
    assert.match((await call(fresh, 'GET', '/metrics')).body, /mesos_executor_test_total 5/);
    assert.equal(collections, 3, 'cacheMs 0: every scrape collects');
  });

  it('bounds connections: past maxConnections they are closed at once', async () => {
    const server = await startMetricsServer({ registry: sampleRegistry(), port: 0, maxConnections: 4, headersTimeoutMs: 60_000 });
    servers.push(server);
    const sockets = Array.from({ length: 12 }, () => connect({ host: '127.0.0.1', port: server.port }));
    let closedCount = 0;
    const eightClosed = new Promise<void>((resolve) => {
      for (const socket of sockets) {
        socket.on('error', () => {});
        socket.once('close', () => {
          if (++closedCount === 8) resolve();
        });
      }
    });
    await withTimeout(eightClosed, { timeoutMs: 10_000, what: 'the 8 connections over the limit to be closed' });
    assert.equal(sockets.filter((socket) => !socket.destroyed).length, 4, 'the 4 within the limit stay open');
    for (const socket of sockets) socket.destroy();
  });

  it('drops a client that never ends its headers (headersTimeoutMs)', async () => {
    const server = await startMetricsServer({ registry: sampleRegistry(), port: 0, headersTimeoutMs: 200 });
    servers.push(server);
    const socket = connect({ host: '127.0.0.1', port: server.port });
    socket.on('error', () => {});
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.write('GET /metrics HTTP/1.1\r\nHost: x\r\n');
    await withTimeout(closed, { timeoutMs: 10_000, what: 'the slow client to be dropped' });
    assert.equal((await call(server, 'GET', '/metrics')).status, 200);
  });

  it('validates the new bounds', async () => {
    for (const [option, value] of [['cacheMs', -1], ['maxConnections', 0], ['headersTimeoutMs', 0], ['cacheMs', 1.5]] as const) {
      await assert.rejects(startMetricsServer({ registry: new Registry(), port: 0, [option]: value }), (error: unknown) => error instanceof MesosExecutorError && error.code === 'MPE_INVALID_OPTION', `${option} ${value}`);
    }
  });
});
