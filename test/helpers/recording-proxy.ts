// An HTTP proxy on loopback that records the exact bytes of every request body before it passes
// the request on: what went over the wire, not what a decoder made of it (protobufjs replaces
// invalid UTF-8 when decoding, so a decoded Call cannot show that its bytes were wrong).
import { createServer, request as httpRequest, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly contentType: string | undefined;
  readonly body: Buffer;
}

// Hop-by-hop headers (RFC 9110 §7.6.1) belong to one connection, not to the request.
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer']);

function endToEnd(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !HOP_BY_HOP.has(name)));
}

export class RecordingProxy {
  readonly requests: RecordedRequest[] = [];
  readonly #server: Server;

  private constructor(server: Server) {
    this.#server = server;
  }

  /** Listens on 127.0.0.1 (a free port) and forwards to `target` (`host:port`). */
  static async start(target: { host: string; port: number }): Promise<RecordingProxy> {
    let proxy: RecordingProxy | undefined;
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        proxy!.requests.push({ method: req.method ?? '', path: req.url ?? '', contentType: req.headers['content-type'], body });
        // One upstream connection per request: a SUBSCRIBE holds its connection for the stream.
        const upstream = httpRequest(
          { host: target.host, port: target.port, method: req.method, path: req.url, headers: endToEnd(req.headers), agent: false },
          (answer) => {
            res.writeHead(answer.statusCode ?? 502, endToEnd(answer.headers));
            answer.pipe(res);
            answer.on('error', () => res.destroy());
            answer.on('aborted', () => res.destroy());
          },
        );
        // The agent went away (a restart): the executor sees its connection drop, as it would.
        upstream.on('error', () => res.destroy());
        res.on('close', () => upstream.destroy());
        upstream.end(body);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    proxy = new RecordingProxy(server);
    return proxy;
  }

  /** `127.0.0.1:<port>`, for MESOS_AGENT_ENDPOINT. */
  get endpoint(): string {
    const { port } = this.#server.address() as AddressInfo;
    return `127.0.0.1:${port}`;
  }

  /** Request bodies whose path ends with the executor API and whose bytes satisfy `match`. */
  bodies(match: (body: Buffer) => boolean = () => true): Buffer[] {
    return this.requests.filter((r) => r.path.endsWith('/api/v1/executor') && match(r.body)).map((r) => r.body);
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
