// A transport that answers as a test scripts it (AgentTransport): SUBSCRIBEs that stream, hang
// or never connect, and calls answered by a function. For what a real agent cannot be made to do
// on demand.
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

/** A stream that says SUBSCRIBED when started; the test can end it. */
export class ScriptedStream implements EventStream {
  readonly contentType = 'application/x-protobuf';
  handlers: StreamHandlers | undefined;
  start(handlers: StreamHandlers): void {
    this.handlers = handlers;
    handlers.onData(SUBSCRIBED);
  }
  close(): void {}
}

/**
 * Answers each SUBSCRIBE as scripted: a stream; `hang`: connected, never answered; `pending`:
 * the connection itself never comes up (both until the signal aborts them).
 */
export class ScriptedTransport implements AgentTransport {
  readonly subscribes: Array<{ signal: AbortSignal | undefined }> = [];
  readonly streams: ScriptedStream[] = [];
  constructor(private readonly script: Array<'stream' | 'hang' | 'pending'>) {}

  subscribe(_body: Uint8Array, _contentType: string, signal?: AbortSignal, onConnect?: () => void): Promise<SubscribeResult> {
    this.subscribes.push({ signal });
    const step = this.script.shift() ?? 'stream';
    if (step === 'hang' || step === 'pending') {
      if (step === 'hang') onConnect?.();
      return new Promise((_resolve, reject) => signal?.addEventListener('abort', () => reject(new Error('aborted'))));
    }
    const stream = new ScriptedStream();
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

