// A transport that answers as a test scripts it (AgentTransport): SUBSCRIBEs that stream, hang
// or never connect, and calls answered by a function. For what a real agent cannot be made to do
// on demand.
import { MesosExecutorDriver, type MesosExecutorDriverOptions } from '../../src/driver/driver.js';
import type { Executor } from '../../src/executor.js';
import { buildExecutorEnvironment } from '../../src/protocol/environment-variables.js';
import type { AgentTransport, CallResult, EventStream, StreamHandlers, SubscribeResult } from '../../src/driver/transport.js';
import { protobufCodec } from '../../src/protocol/codec.js';
import { encodeRecord } from '../../src/protocol/recordio.js';

const SUBSCRIBED = encodeRecord(
  protobufCodec.encodeEvent({
    type: 'SUBSCRIBED',
    subscribed: {
      executor_info: { executor_id: { value: 'e' } },
      framework_info: { user: 'u', name: 'f' },
      agent_info: { hostname: 'h' },
    },
  }),
);

/** A stream that says SUBSCRIBED when started (unless `silent`); the test can end it. */
export class ScriptedStream implements EventStream {
  readonly contentType = 'application/x-protobuf';
  handlers: StreamHandlers | undefined;
  closed = false;
  constructor(private readonly silent = false) {}
  start(handlers: StreamHandlers): void {
    this.handlers = handlers;
    if (!this.silent) handlers.onData(SUBSCRIBED);
  }
  close(): void {
    this.closed = true;
  }
}

/**
 * One SUBSCRIBE's fate: `stream` (200 and SUBSCRIBED), `silent` (200, then nothing), `hang`
 * (connected, never answered), `pending` (the connection never comes up), `refused` (the
 * connection is refused), or an HTTP status answered without a stream.
 */
export type SubscribeStep = 'stream' | 'silent' | 'hang' | 'pending' | 'refused' | number;

/** Answers each SUBSCRIBE as scripted (then `stream` once the script is used up). */
export class ScriptedTransport implements AgentTransport {
  readonly subscribes: Array<{ signal: AbortSignal | undefined }> = [];
  readonly streams: ScriptedStream[] = [];
  constructor(private readonly script: SubscribeStep[]) {}

  subscribe(_body: Uint8Array, _contentType: string, signal?: AbortSignal, onConnect?: () => void): Promise<SubscribeResult> {
    this.subscribes.push({ signal });
    const step = this.script.shift() ?? 'stream';
    if (step === 'hang' || step === 'pending') {
      if (step === 'hang') onConnect?.();
      return new Promise((_resolve, reject) => signal?.addEventListener('abort', () => reject(new Error('aborted'))));
    }
    if (step === 'refused') return Promise.reject(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5051'), { code: 'ECONNREFUSED' }));
    onConnect?.();
    if (typeof step === 'number') return Promise.resolve({ ok: false, status: step, body: `scripted ${step}` });
    const stream = new ScriptedStream(step === 'silent');
    this.streams.push(stream);
    return Promise.resolve({ ok: true, stream });
  }
  /** Every non-SUBSCRIBE call, in order. */
  readonly calls: Uint8Array[] = [];
  /** Answers calls (default: 202). */
  answer: (body: Uint8Array, index: number) => Promise<CallResult> = () => Promise.resolve({ status: 202, body: '' });

  call(body: Uint8Array): Promise<CallResult> {
    this.calls.push(body);
    return this.answer(body, this.calls.length - 1);
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

/**
 * A driver on `transport` with the environment of an agent at 127.0.0.1:5051; with
 * `checkpoint`, a 60 s recovery timeout and a 100 ms backoff maximum.
 */
export function scriptedDriver(
  executor: Executor,
  transport: AgentTransport,
  checkpoint: boolean,
  options: MesosExecutorDriverOptions = {},
  shutdownGracePeriodMs?: number,
): MesosExecutorDriver {
  const env = buildExecutorEnvironment({
    frameworkId: 'f',
    executorId: 'e',
    agentId: 'a',
    agentAddress: '127.0.0.1:5051',
    directory: '/tmp',
    checkpoint,
    ...(checkpoint ? { recoveryTimeoutMs: 60_000, subscriptionBackoffMaxMs: 100 } : {}),
    ...(shutdownGracePeriodMs !== undefined ? { shutdownGracePeriodMs } : {}),
  });
  return new MesosExecutorDriver(executor, { env, transport, ...options });
}
