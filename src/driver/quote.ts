import { truncateUtf8, wellFormed } from '../protocol/utf8.js';

/** Bytes of an agent's answer quoted in a log line, an event or a replacement update's message. */
export const MAX_QUOTED_ANSWER_BYTES = 200;

/** An agent's answer as the driver quotes it: bounded, and well-formed for the wire. */
export function quoteAnswer(body: string): string {
  return truncateUtf8(wellFormed(body), MAX_QUOTED_ANSWER_BYTES);
}
