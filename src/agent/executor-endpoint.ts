// The executor endpoint's dispatch: a request with its whole body goes through the injected
// faults, then the checks of `Http::executor` (http-handler.ts), and what passes is handed to the
// executor session. Every answer is recorded as a CallRecord.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { EventEmitter } from 'eventemitter3';
import type { Codec, ContentType } from '../protocol/codec.js';
import type { Call } from '../proto/types.js';
import type { AgentPhase, CallRecord, LocalAgentEvents } from './events.js';
import type { ExecutorSession, MutableCounters } from './executor-session.js';
import type { StatusFaults } from './faults.js';
import { decideExecutorRequest, type EndpointContext } from './http-handler.js';
import { writeReply } from './http-server.js';
import type { AgentConfig, ExecutorClaims } from './options.js';

/** One context object for every request: getters read the live state, nothing is allocated per call. */
export function endpointContext(
  config: AgentConfig,
  session: ExecutorSession,
  phase: () => AgentPhase,
  codecs: Readonly<Record<ContentType, Codec>>,
): EndpointContext {
  const tokens = new Map<string, () => ExecutorClaims>();
  for (const [token, claims] of Object.entries(config.extraAuthTokens)) tokens.set(token, () => claims);
  if (config.authToken !== undefined) {
    // The agent's own token always stands for the current executor run.
    tokens.set(config.authToken, () => ({ fid: config.frameworkId, eid: config.executorId, cid: session.containerId }));
  }
  return {
    get containerizerRecovering() {
      return phase() === 'containerizer-recovery';
    },
    get recovering() {
      return phase() === 'recovering';
    },
    lookupToken: tokens.size > 0 ? (token) => tokens.get(token)?.() : undefined,
    get frameworkKnown() {
      return session.known;
    },
    frameworkId: config.frameworkId,
    executorId: config.executorId,
    get containerId() {
      return session.containerId;
    },
    get executorRegistering() {
      return session.state === 'REGISTERING';
    },
    contentTypes: config.contentTypes,
    codecs,
  };
}

export interface ExecutorEndpointDeps {
  readonly context: EndpointContext;
  readonly codecs: Readonly<Record<ContentType, Codec>>;
  readonly faults: StatusFaults;
  readonly session: ExecutorSession;
  readonly counters: MutableCounters;
  readonly events: EventEmitter<LocalAgentEvents>;
  /** Keep every CallRecord in `calls`. */
  readonly recordCalls: boolean;
}

export class ExecutorEndpoint {
  /** Every request answered (empty unless `recordCalls`). */
  readonly calls: CallRecord[] = [];
  readonly #deps: ExecutorEndpointDeps;
  /** Delays for the next SUBSCRIBE calls, in order (see LocalAgent.delaySubscribe). */
  readonly #subscribeDelays: number[] = [];
  readonly #delayed = new Set<NodeJS.Timeout>();

  constructor(deps: ExecutorEndpointDeps) {
    this.#deps = deps;
  }

  handle(req: IncomingMessage, res: ServerResponse, path: string, body: Buffer): void {
    const { faults, session, counters, events } = this.#deps;
    const contentType = req.headers['content-type'];
    if (faults.active) {
      const type = faults.needsCallType ? peekCallType(this.#deps.codecs, contentType, body) : undefined;
      const forced = faults.take(type);
      if (forced !== undefined) {
        writeReply(res, forced.status, forced.body, forced.headers);
        this.#record(req, path, contentType, undefined, forced.status, forced.body, true, type);
        return;
      }
    }
    const decision = decideExecutorRequest(
      { method: req.method ?? 'GET', contentType, accept: req.headers.accept, authorization: req.headers.authorization, body },
      this.#deps.context,
    );
    switch (decision.kind) {
      case 'reply':
        writeReply(res, decision.status, decision.body, decision.headers);
        this.#record(req, path, contentType, decision.call, decision.status, decision.body, false);
        return;
      case 'subscribe': {
        const { call, streamCodec } = decision;
        const delayMs = this.#subscribeDelays.shift();
        if (delayMs === undefined) {
          this.#record(req, path, contentType, call, 200, '', false);
          session.subscribe(call, streamCodec, res);
          return;
        }
        // A busy agent: nothing is answered and nothing changes until the call is processed.
        // If the executor gave up meanwhile, the agent still subscribes it, onto a dead stream.
        const timer = setTimeout(() => {
          this.#delayed.delete(timer);
          this.#record(req, path, contentType, call, 200, '', false);
          session.subscribe(call, streamCodec, res);
        }, delayMs);
        this.#delayed.add(timer);
        return;
      }
      case 'update':
        counters.updatesReceived++;
        writeReply(res, 202, '');
        this.#record(req, path, contentType, decision.call, 202, '', false);
        session.receiveUpdate(decision.call.update!.status);
        return;
      case 'message':
        counters.messagesReceived++;
        writeReply(res, 202, '');
        this.#record(req, path, contentType, decision.call, 202, '', false);
        events.emit('frameworkMessage', decision.call.message!.data);
        return;
    }
  }

  /** The next `count` SUBSCRIBE calls that pass every check are processed `ms` late. */
  delaySubscribe(ms: number, count: number): void {
    for (let i = 0; i < count; i++) this.#subscribeDelays.push(ms);
  }

  /** The agent went away: delayed SUBSCRIBE calls are never processed, pending delays are forgotten. */
  abandonDelayed(): void {
    for (const timer of this.#delayed) clearTimeout(timer);
    this.#delayed.clear();
    this.#subscribeDelays.length = 0;
  }

  #record(
    req: IncomingMessage,
    path: string,
    contentType: string | undefined,
    call: Call | undefined,
    status: number,
    body: string,
    forced: boolean,
    type: Call['type'] = call?.type,
  ): void {
    const { events, recordCalls } = this.#deps;
    const wanted = events.listenerCount('call') > 0;
    if (!recordCalls && !wanted) return;
    const record: CallRecord = {
      at: Date.now(),
      method: req.method ?? '',
      path,
      // A Unix-socket connection has no remote address; a TLS socket says it is encrypted.
      transport: req.socket.remoteAddress === undefined ? 'unix' : (req.socket as { encrypted?: boolean }).encrypted === true ? 'tls' : 'tcp',
      contentType,
      type,
      call,
      status,
      body,
      forced,
    };
    if (recordCalls) this.calls.push(record);
    if (wanted) events.emit('call', record);
  }
}

function peekCallType(codecs: Readonly<Record<ContentType, Codec>>, contentType: string | undefined, body: Uint8Array): Call['type'] {
  const codec = contentType === 'application/json' || contentType === 'application/x-protobuf' ? codecs[contentType] : undefined;
  if (codec === undefined) return undefined;
  try {
    return codec.decodeCall(body).type;
  } catch {
    return undefined;
  }
}
