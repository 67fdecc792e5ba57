// HEARTBEAT calls to the agent while subscribed (every 30 minutes upstream), with the dummy ids
// upstream's library sends: the agent answers 202 before it looks anything up.
import type { Clock } from '../clock.js';
import type { Logger } from '../log.js';
import type { Codec } from '../protocol/codec.js';
import { quoteAnswer } from './quote.js';
import type { AgentTransport } from './transport.js';

export interface HeartbeatCallsOptions {
  readonly transport: AgentTransport;
  readonly codec: Codec;
  readonly clock: Clock;
  readonly logger: Logger;
  /** 0 disables them. */
  readonly intervalMs: number;
  /** Reports a refusal other than an old agent's 400. */
  readonly refused: (status: number, body: string) => void;
}

export class HeartbeatCalls {
  readonly #options: HeartbeatCallsOptions;
  #timer: unknown;
  /** False once an agent before 1.8 answered 400: it does not know the call. */
  #accepted = true;

  constructor(options: HeartbeatCallsOptions) {
    this.#options = options;
  }

  /** Subscribed: one call every interval until {@link stop}. */
  start(): void {
    this.stop();
    if (this.#options.intervalMs === 0 || !this.#accepted) return;
    this.#timer = this.#options.clock.setTimeout(() => {
      this.#timer = undefined;
      this.#send();
      this.start();
    }, this.#options.intervalMs);
  }

  stop(): void {
    if (this.#timer !== undefined) this.#options.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #send(): void {
    const { codec, transport, logger } = this.#options;
    const body = codec.encodeCall({ executor_id: { value: 'unused' }, framework_id: { value: 'unused' }, type: 'HEARTBEAT' });
    transport.call(body, codec.contentType).then(
      (result) => {
        if (result.status === 202) return;
        if (result.status === 400) {
          this.#accepted = false;
          this.stop();
          logger.info({ body: quoteAnswer(result.body) }, 'agent does not accept HEARTBEAT calls; not sending more');
          return;
        }
        this.#options.refused(result.status, result.body);
      },
      (error: unknown) => logger.debug({ err: error }, 'HEARTBEAT call failed'),
    );
  }
}
