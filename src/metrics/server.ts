// The /metrics endpoint: a bare node:http server (no framework for one route). GET and HEAD
// /metrics answer with the registry's exposition and content type; other methods there get 405;
// every other path 404. It listens only on the host it is given (127.0.0.1 by default), so a
// cluster deployment opens it to the network only on purpose (`--metrics-host 0.0.0.0`).
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { InvalidOptionError } from '../errors.js';
import { silentLogger, type Logger } from '../log.js';

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

function validate(options: MetricsServerOptions): { port: number; host: string; path: string } {
  const { port, host = '127.0.0.1', path = '/metrics' } = options;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new InvalidOptionError('port', `metrics port must be an integer from 0 to 65535, got ${String(port)}`);
  }
  if (typeof host !== 'string' || host.length === 0) throw new InvalidOptionError('host', `metrics host must be a non-empty string, got ${String(host)}`);
  if (typeof path !== 'string' || !path.startsWith('/')) throw new InvalidOptionError('path', `metrics path must start with "/", got ${String(path)}`);
  return { port, host, path };
}

/** Starts the endpoint; resolves once it listens. A port in use or a host not on this machine is MPE_INVALID_OPTION. */
export async function startMetricsServer(options: MetricsServerOptions): Promise<MetricsServer> {
  const { port, host, path } = validate(options);
  const registry = options.registry;
  const logger = options.logger ?? silentLogger;

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
    registry.metrics().then(
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

  const server = createServer(handle);
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
