// The /metrics endpoint: a bare node:http server (no framework for one route). GET and HEAD
// /metrics answer with the registry's exposition and content type; other methods there get 405;
// every other path 404. It listens only on the host it is given (127.0.0.1 by default), so a
// cluster deployment opens it to the network only on purpose (`--metrics-host 0.0.0.0`).
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { InvalidOptionError } from '../errors.js';
import { silentLogger, type Logger } from '../log.js';
import * as is from '../validate.js';

export interface MetricsServerOptions {
  /** The registry to serve (prom-client, any content type). */
  readonly registry: Registry;
  /** TCP port; 0 picks a free one (read it back from `port`). */
  readonly port: number;
  /** Address to listen on (default 127.0.0.1: this machine only). */
  readonly host?: string;
  /** Path of the endpoint (default /metrics). */
  readonly path?: string;
  /** Where a failed collection is reported (default: nowhere). */
  readonly logger?: Logger;
  /**
   * A collection is served again to scrapes within this many ms (default 1000), and scrapes
   * that arrive while one is being collected share it: 32 clients scraping in a loop cost one
   * collection a second, not 32 in a row on the executor's main thread. 0: every scrape collects.
   */
  readonly cacheMs?: number;
  /** Open connections at most (default 16); more are closed as they come, so no scraper can take the executor's file descriptors. */
  readonly maxConnections?: number;
  /** A request must have sent its headers within this many ms, and be whole within twice that (default 5000). */
  readonly headersTimeoutMs?: number;
}

export interface MetricsServer {
  /** The address actually bound (e.g. 127.0.0.1, ::1). */
  readonly host: string;
  /** The port actually bound (the free one picked for port 0). */
  readonly port: number;
  /** The endpoint's URL, e.g. http://127.0.0.1:9464/metrics. */
  readonly url: string;
  /** Stops listening and closes open connections (a scraper keeps one alive). Idempotent. */
  close(): Promise<void>;
}

interface Resolved {
  readonly port: number;
  readonly host: string;
  readonly path: string;
  readonly cacheMs: number;
  readonly maxConnections: number;
  readonly headersTimeoutMs: number;
}

const PATH: is.Check<string> = { expected: 'a path starting with "/"', test: (value): value is string => typeof value === 'string' && value.startsWith('/') };

function validate(options: MetricsServerOptions): Resolved {
  const { port, host = '127.0.0.1', path = '/metrics', cacheMs = 1000, maxConnections = 16, headersTimeoutMs = 5000 } = options;
  const check = (name: string, value: number, min: number): number => is.required(value, name, is.integer(min, 2 ** 31 - 1));
  is.required(port, 'port', is.integer(0, 65535));
  is.required(host, 'host', is.nonEmptyString);
  is.required(path, 'path', PATH);
  return {
    port,
    host,
    path,
    cacheMs: check('cacheMs', cacheMs, 0),
    maxConnections: check('maxConnections', maxConnections, 1),
    headersTimeoutMs: check('headersTimeoutMs', headersTimeoutMs, 1),
  };
}

/** Starts the endpoint; resolves once it listens. A port in use or a host not on this machine is MPE_INVALID_OPTION. */
export async function startMetricsServer(options: MetricsServerOptions): Promise<MetricsServer> {
  const { port, host, path, cacheMs, maxConnections, headersTimeoutMs } = validate(options);
  const registry = options.registry;
  const logger = options.logger ?? silentLogger;

  let cached: { readonly at: number; readonly body: string } | undefined;
  let collecting: Promise<string> | undefined;
  const collect = (): Promise<string> => {
    if (cached !== undefined && performance.now() - cached.at < cacheMs) return Promise.resolve(cached.body);
    collecting ??= registry.metrics().then(
      (body) => {
        collecting = undefined;
        if (cacheMs > 0) cached = { at: performance.now(), body };
        return body;
      },
      (error: unknown) => {
        collecting = undefined;
        throw error;
      },
    );
    return collecting;
  };

  const handle = (request: IncomingMessage, response: ServerResponse): void => {
    const url = request.url ?? '/';
    const query = url.indexOf('?');
    if ((query === -1 ? url : url.slice(0, query)) !== path) {
      response.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end(`not found: the metrics are at ${path}\n`);
      return;
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'text/plain; charset=utf-8' }).end('method not allowed\n');
      return;
    }
    if (request.method === 'HEAD') {
      // Headers only: a HEAD (a health probe) should not pay for a collection.
      response.writeHead(200, { 'Content-Type': registry.contentType, 'Cache-Control': 'no-store' }).end();
      return;
    }
    collect().then(
      (body) => {
        response
          .writeHead(200, { 'Content-Type': registry.contentType, 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-store' })
          .end(body);
      },
      (error: unknown) => {
        logger.error({ err: error }, 'collecting metrics failed');
        if (!response.headersSent) response.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' });
        response.end('collecting metrics failed\n');
      },
    );
  };

  const server = createServer({ headersTimeout: headersTimeoutMs, requestTimeout: 2 * headersTimeoutMs, connectionsCheckingInterval: Math.min(1000, headersTimeoutMs) }, handle);
  server.maxConnections = maxConnections;
  server.keepAliveTimeout = Math.min(5000, headersTimeoutMs);
  await new Promise<void>((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException): void => {
      reject(new InvalidOptionError('metricsPort', `the metrics endpoint cannot listen on ${host}:${port}: ${error.code ?? error.message}`));
    };
    server.once('error', onError);
    server.listen({ port, host }, () => {
      server.off('error', onError);
      resolve();
    });
  });
  // After listening, a server error (rare: e.g. EMFILE on accept) must not crash the executor.
  server.on('error', (error) => logger.error({ err: error }, 'metrics server error'));
  server.on('clientError', (_error, socket) => socket.destroy());

  const address = server.address() as AddressInfo;
  const urlHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  let closing: Promise<void> | undefined;
  return {
    host: address.address,
    port: address.port,
    url: `http://${urlHost}:${address.port}${path}`,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
