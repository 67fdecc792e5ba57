// A minimal executor-side wire client for testing the LocalAgent over real loopback HTTP. It
// deliberately does not use src/driver (two sides of one wire must not share code beyond the
// codec and the RecordIO framing), only node:http.
import { randomUUID } from 'node:crypto';
import { request as httpRequest, type ClientRequest, type IncomingHttpHeaders, type IncomingMessage, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { afterEach } from 'node:test';
import { LocalAgent, type LocalAgentOptions } from '../../src/agent/index.js';
import { jsonCodec, protobufCodec, type Codec, type ContentType } from '../../src/protocol/codec.js';
import { RecordIODecoder } from '../../src/protocol/recordio.js';
import type { Call, Event, EventType, TaskInfo, TaskState, TaskStatus } from '../../src/proto/types.js';
import { waitFor } from './wait.js';

export interface Target {
  /** `host:port` */
  readonly endpoint: string;
  readonly frameworkId: string;
  readonly executorId: string;
}

/** Speak https to an agent started with `tls`: the CAs to trust, and a client identity if wanted. */
export interface ClientTls {
  ca: string;
  key?: string;
  cert?: string;
}

export interface RawRequest {
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  body?: Uint8Array | string;
  tls?: ClientTls;
}

function request(options: RequestOptions, tls: ClientTls | undefined, onResponse: (res: IncomingMessage) => void): ClientRequest {
  if (tls === undefined) return httpRequest(options, onResponse);
  return httpsRequest({ ...options, ca: tls.ca, ...(tls.key !== undefined ? { key: tls.key, cert: tls.cert } : {}) }, onResponse);
}

export interface RawResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** Sends one request on its own connection and reads the whole answer. */
export function rawRequest(endpoint: string, req: RawRequest): Promise<RawResponse> {
  const [host, port] = splitEndpoint(endpoint);
  const body = typeof req.body === 'string' ? Buffer.from(req.body) : req.body;
  // Node sends a GET/DELETE body without framing unless told its length.
  const headers = body === undefined ? { ...req.headers } : { 'Content-Length': String(body.byteLength), ...req.headers };
  return new Promise((resolve, reject) => {
    const r = request(
      { host, port, method: req.method ?? 'POST', path: req.path ?? '/api/v1/executor', headers, agent: false },
      req.tls,
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    r.on('error', reject);
    r.end(body);
  });
}

export function codecOf(contentType: ContentType): Codec {
  return contentType === 'application/json' ? jsonCodec : protobufCodec;
}

/** Posts a Call encoded with `contentType` (default JSON). */
export function postCall(
  target: Target,
  call: Call,
  options: { contentType?: ContentType; headers?: Record<string, string>; path?: string; tls?: ClientTls } = {},
): Promise<RawResponse> {
  const contentType = options.contentType ?? 'application/json';
  return rawRequest(target.endpoint, {
    ...(options.tls !== undefined ? { tls: options.tls } : {}),
    path: options.path ?? '/api/v1/executor',
    headers: { 'Content-Type': contentType, ...(options.headers ?? {}) },
    body: codecOf(contentType).encodeCall(call),
  });
}

/** 16 random bytes with the version-4 nibble: a uuid the agent accepts. */
export function uuidBytes(): Buffer {
  return Buffer.from(randomUUID().replaceAll('-', ''), 'hex');
}

export function ids(target: Target): Pick<Call, 'framework_id' | 'executor_id'> {
  return { framework_id: { value: target.frameworkId }, executor_id: { value: target.executorId } };
}

export function subscribeCall(target: Target, subscribe: Call['subscribe'] = {}): Call {
  return { ...ids(target), type: 'SUBSCRIBE', subscribe };
}

export function taskStatus(target: Target, taskId: string, state: TaskState, extra: Partial<TaskStatus> = {}): TaskStatus {
  return {
    task_id: { value: taskId },
    state,
    source: 'SOURCE_EXECUTOR',
    executor_id: { value: target.executorId },
    uuid: uuidBytes(),
    timestamp: Date.now() / 1000,
    ...extra,
  };
}

export function updateCall(target: Target, status: TaskStatus): Call {
  return { ...ids(target), type: 'UPDATE', update: { status } };
}

/** An open SUBSCRIBE stream, decoding events as they arrive. */
export class Subscription {
  readonly response: IncomingMessage;
  readonly contentType: string;
  readonly events: Event[] = [];
  /** Raw HTTP chunks as received (for framing checks). */
  readonly chunks: Buffer[] = [];
  /** Set when the stream could not be decoded. */
  error: Error | undefined;
  /** Resolves when the body ended (cleanly or not): `true` if it ended cleanly. */
  readonly ended: Promise<boolean>;
  #ended = false;
  readonly #decoder = new RecordIODecoder();

  constructor(response: IncomingMessage) {
    this.response = response;
    this.contentType = String(response.headers['content-type']);
    const codec = codecOf(this.contentType as ContentType);
    this.ended = new Promise((resolve) => {
      response.on('data', (chunk: Buffer) => {
        this.chunks.push(chunk);
        try {
          for (const record of this.#decoder.push(chunk)) this.events.push(codec.decodeEvent(record));
        } catch (error) {
          this.error = error as Error;
        }
      });
      response.on('end', () => {
        this.#ended = true;
        resolve(true);
      });
      response.on('close', () => {
        this.#ended = true;
        resolve(false);
      });
      response.on('error', () => undefined);
    });
  }

  get isEnded(): boolean {
    return this.#ended;
  }

  types(): Array<EventType | number | undefined> {
    return this.events.map((e) => e.type);
  }

  /** Waits until an event of `type` (the n-th, 1-based; default the first) has arrived. */
  async next(type: EventType, options: { count?: number; timeoutMs?: number } = {}): Promise<Event> {
    const count = options.count ?? 1;
    return waitFor(
      () => {
        const found = this.events.filter((e) => e.type === type);
        return found.length >= count ? found[count - 1] : undefined;
      },
      { timeoutMs: options.timeoutMs ?? 5000, what: `${count} ${type} event(s); got ${this.types().join(',')}` },
    );
  }

  /** Launched task ids in order (LAUNCH and LAUNCH_GROUP). */
  launched(): TaskInfo[] {
    const out: TaskInfo[] = [];
    for (const e of this.events) {
      if (e.type === 'LAUNCH' && e.launch) out.push(e.launch.task);
      if (e.type === 'LAUNCH_GROUP' && e.launch_group) out.push(...(e.launch_group.task_group.tasks ?? []));
    }
    return out;
  }

  close(): void {
    this.response.destroy();
  }
}

/** Opens a SUBSCRIBE stream; rejects with the response when it is not 200. */
export function subscribe(
  target: Target,
  options: { call?: Call; contentType?: ContentType; accept?: string | null; headers?: Record<string, string>; path?: string; tls?: ClientTls } = {},
): Promise<Subscription> {
  const contentType = options.contentType ?? 'application/json';
  const call = options.call ?? subscribeCall(target);
  const headers: Record<string, string> = { 'Content-Type': contentType, ...(options.headers ?? {}) };
  // Like the reference library, Accept equals Content-Type unless told otherwise (null: no header).
  if (options.accept !== null) headers['Accept'] = options.accept ?? contentType;
  const [host, port] = splitEndpoint(target.endpoint);
  return new Promise((resolve, reject) => {
    const r = request({ host, port, method: 'POST', path: options.path ?? '/api/v1/executor', headers, agent: false }, options.tls, (res) => {
      if (res.statusCode !== 200) {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          reject(Object.assign(new Error(`SUBSCRIBE answered ${res.statusCode}`), { status: res.statusCode, body: Buffer.concat(chunks).toString() })),
        );
        return;
      }
      resolve(new Subscription(res));
    });
    r.on('error', reject);
    r.end(codecOf(contentType).encodeCall(call));
  });
}

function splitEndpoint(endpoint: string): [string, number] {
  const at = endpoint.lastIndexOf(':');
  return [endpoint.slice(0, at), Number(endpoint.slice(at + 1))];
}

/**
 * Agents and subscriptions for one test file, all closed after each test: call once at the top
 * level of the file (it registers the afterEach hook).
 */
export function agentRig(): {
  startAgent(options?: LocalAgentOptions): Promise<LocalAgent>;
  open(agent: LocalAgent, options?: Parameters<typeof subscribe>[1]): Promise<Subscription>;
} {
  const agents: LocalAgent[] = [];
  const streams: Subscription[] = [];
  afterEach(async () => {
    for (const s of streams.splice(0)) s.close();
    await Promise.all(agents.splice(0).map((a) => a.stop()));
  });
  return {
    async startAgent(options = {}) {
      const agent = new LocalAgent(options);
      agents.push(agent);
      await agent.start();
      return agent;
    },
    async open(agent, options = {}) {
      const s = await subscribe(agent, options);
      streams.push(s);
      return s;
    },
  };
}
