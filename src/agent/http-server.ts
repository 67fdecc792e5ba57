// The LocalAgent's listeners: HTTP/1.1 on TCP (and optionally a Unix domain socket), the routes
// of the executor endpoint, request bodies read whole with a size limit. Knows nothing of the
// agent's state: a request on the executor route is handed over with its body, everything else
// is answered here (404, 403 on the socket, 413).
import { rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { MesosExecutorError } from '../errors.js';
import { STATUS_TEXT } from './http-handler.js';
import type { AgentTlsConfig } from './options.js';

export interface AgentHttpServerOptions {
  readonly host: string;
  /** The libprocess process id: routes are `/api/v1/executor` and `/<pidId>/api/v1/executor`. */
  readonly pidId: string;
  /** Larger bodies get 413 and the connection is closed. */
  readonly maxBodyBytes: number;
  /** Serve TCP over TLS with this identity. */
  readonly tls: AgentTlsConfig | undefined;
  /** Every request, on any path and listener (for the agent's request counter). */
  readonly onRequest: () => void;
  /** A request on the executor route, with its whole body. */
  readonly onCall: (req: IncomingMessage, res: ServerResponse, path: string, body: Buffer) => void;
}

export class AgentHttpServer {
  readonly #options: AgentHttpServerOptions;
  readonly #routes: ReadonlySet<string>;
  #server: Server | undefined;
  /** The Unix-socket listener, with `domainSocket`. */
  #socketServer: Server | undefined;

  constructor(options: AgentHttpServerOptions) {
    this.#options = options;
    this.#routes = new Set(['/api/v1/executor', `/${options.pidId}/api/v1/executor`]);
  }

  get listening(): boolean {
    return this.#server !== undefined;
  }

  /** Binds TCP `port` (0: a free one) and, when `socketPath` is given, the domain socket. Resolves with the port. */
  async listen(port: number, socketPath: string | undefined): Promise<number> {
    const listener: RequestListener = (req, res) => this.#onRequest(req, res);
    const tls = this.#options.tls;
    const server: Server =
      tls === undefined
        ? createServer(listener)
        : createHttpsServer(
            {
              key: tls.key,
              cert: tls.cert,
              ...(tls.ca !== undefined ? { ca: [...tls.ca] } : {}),
              // A client without a certificate the CAs verify fails the handshake, as with libprocess.
              ...(tls.requestClientCert ? { requestCert: true, rejectUnauthorized: true } : {}),
            },
            listener,
          );
    // A failed handshake is the client's problem; it must not surface as an error here.
    server.on('tlsClientError', () => {});
    // libprocess never closes an idle keep-alive connection, and the reference library treats
    // the loss of its call connection as a disconnection (§3.3): no idle timeout here either.
    server.keepAliveTimeout = 0;
    this.#server = server;
    const { host } = this.#options;
    const bound = await new Promise<number>((resolve, reject) => {
      const onError = (error: Error): void => {
        this.#server = undefined;
        reject(new MesosExecutorError('MPE_CONNECTION', `LocalAgent cannot listen on ${host}:${port}: ${error.message}`, { cause: error }));
      };
      server.once('error', onError);
      server.listen(port, host, () => {
        server.off('error', onError);
        const address = server.address();
        resolve(typeof address === 'object' && address !== null ? address.port : port);
      });
    });
    if (socketPath !== undefined) await this.#listenSocket(socketPath);
    return bound;
  }

  /** The domain-socket listener: the same endpoint, but only under the PID's path (§1.2). */
  async #listenSocket(path: string): Promise<void> {
    await rm(path, { force: true });
    const { pidId } = this.#options;
    const allowed = new Set([`/${pidId}/api/v1/executor`, `/${pidId}/api/v1`]);
    const server = createServer((req, res) => {
      if (!allowed.has(routePath(req.url ?? '/'))) {
        // Upstream's socket server refuses every other path (Slave::initialize).
        req.resume();
        this.#options.onRequest();
        writeReply(res, 403, STATUS_TEXT[403] ?? 'Forbidden');
        return;
      }
      this.#onRequest(req, res);
    });
    server.keepAliveTimeout = 0;
    this.#socketServer = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', (error: Error) =>
        reject(new MesosExecutorError('MPE_CONNECTION', `LocalAgent cannot listen on ${path}: ${error.message}`, { cause: error })),
      );
      server.listen(path, () => resolve());
    });
  }

  /** Closes every listener and every connection, idle or streaming. */
  close(): Promise<void> {
    const servers = [this.#server, this.#socketServer];
    this.#server = undefined;
    this.#socketServer = undefined;
    return Promise.all(
      servers.map(
        (server) =>
          new Promise<void>((resolve) => {
            if (server === undefined) return resolve();
            server.close(() => resolve());
            // An agent going away takes every connection with it, idle or streaming.
            server.closeAllConnections();
          }),
      ),
    ).then(() => undefined);
  }

  #onRequest(req: IncomingMessage, res: ServerResponse): void {
    this.#options.onRequest();
    const path = routePath(req.url ?? '/');
    if (!this.#isExecutorRoute(path)) {
      req.resume();
      writeReply(res, 404, STATUS_TEXT[404]!);
      return;
    }
    const max = this.#options.maxBodyBytes;
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk: Buffer) => {
      if (tooLarge) return;
      size += chunk.length;
      if (size > max) {
        tooLarge = true;
        res.setHeader('Connection', 'close');
        writeReply(res, 413, `Request body larger than ${max} bytes`);
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (tooLarge) return;
      const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
      this.#options.onCall(req, res, path, body);
    });
  }

  #isExecutorRoute(path: string): boolean {
    if (this.#routes.has(path)) return true;
    // A client may percent-encode the PID's parentheses: /slave%281%29/api/v1/executor.
    if (!path.includes('%')) return false;
    try {
      return this.#routes.has(decodeURIComponent(path));
    } catch {
      return false;
    }
  }
}

/** A complete answer: plain text with its length, or an empty body. */
export function writeReply(res: ServerResponse, status: number, body: string, headers?: Readonly<Record<string, string>>): void {
  if (body === '') {
    res.writeHead(status, { 'Content-Length': '0', ...headers });
    res.end();
    return;
  }
  const bytes = Buffer.from(body, 'utf8');
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': String(bytes.length), ...headers });
  res.end(bytes);
}

function routePath(url: string): string {
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}
