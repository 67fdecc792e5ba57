/**
 * Text as it goes on the wire. Three rules, each kept in one place:
 *
 * 1. Every string we encode is well-formed Unicode. A JS string may hold a lone surrogate (a job
 *    may throw `'\ud83d'`, a cut may split a pair); in protobuf it would become invalid UTF-8,
 *    and in JSON the escape `\ud83d`, which the agent's JSON parser (picojson) refuses with
 *    400. {@link wellFormed} replaces each lone surrogate with U+FFFD.
 * 2. Text is only ever cut on a code-point boundary ({@link truncateUtf8}), bounded in UTF-8
 *    bytes, which is what the wire and the agent's storage count.
 * 3. Mesos ids are opaque bytes to the agent (a C++ `std::string`, never checked for UTF-8): an
 *    id that is not valid UTF-8 must come back byte for byte, or an UPDATE names a task the
 *    agent does not know. {@link decodeOpaqueUtf8} keeps each byte that is not part of a valid
 *    UTF-8 sequence as the lone surrogate U+DC80 + (byte - 0x80): valid UTF-8 never decodes to
 *    a lone surrogate, so the string is a lossless, distinct key, and
 *    {@link encodeOpaqueUtf8} gives the same bytes back.
 */
import { isUtf8 } from 'node:buffer';

/** Most UTF-8 bytes of a status message made by this package (a job's error, progress, ...). */
export const MAX_MESSAGE_BYTES = 4096;

/** Appended where {@link truncateUtf8} cut text (3 bytes of UTF-8). */
export const ELLIPSIS = '…';

/** `text` with every lone surrogate replaced by U+FFFD (the same string when already well-formed). */
export function wellFormed(text: string): string {
  return text.toWellFormed();
}

/** UTF-8 bytes of the code point starting at a code unit (a lone surrogate counts as U+FFFD: 3). */
function utf8Bytes(cp: number): number {
  return cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
}

/**
 * `text` made well-formed and, when its UTF-8 is longer than `maxBytes`, cut to the longest
 * code-point prefix that leaves room for `ellipsis`, with `ellipsis` appended: the result's
 * UTF-8 is never over `maxBytes`, and no surrogate pair is ever split. Throws RangeError when
 * `maxBytes` cannot hold `ellipsis`.
 */
export function truncateUtf8(text: string, maxBytes: number, ellipsis: string = ELLIPSIS): string {
  // At most 3 bytes per code unit (a pair is 2 units, 4 bytes): short text is never cut.
  if (text.length * 3 <= maxBytes) return wellFormed(text);
  const reserve = Buffer.byteLength(ellipsis, 'utf8');
  if (!Number.isInteger(maxBytes) || maxBytes < reserve) {
    throw new RangeError(`truncateUtf8: maxBytes must be an integer of at least ${reserve}, got ${maxBytes}`);
  }
  const budget = maxBytes - reserve;
  let bytes = 0;
  // The end (in code units) of the longest prefix that fits in `budget`.
  let cut = 0;
  for (let i = 0; i < text.length; ) {
    const cp = text.codePointAt(i)!;
    bytes += utf8Bytes(cp);
    // Every code unit is at least one byte: past maxBytes, the text is cut for sure.
    if (bytes > maxBytes) return wellFormed(text.slice(0, cut)) + ellipsis;
    i += cp > 0xffff ? 2 : 1;
    if (bytes <= budget) cut = i;
  }
  return wellFormed(text);
}

/** A status message as this package sends it: well-formed, at most {@link MAX_MESSAGE_BYTES}. */
export function boundMessage(text: string): string {
  return truncateUtf8(text, MAX_MESSAGE_BYTES);
}

// ---- opaque ids ----

/** Start of the lone low surrogates that stand for undecodable bytes 0x80..0xFF. */
const ESCAPE_BASE = 0xdc00;

/**
 * The UTF-8 sequence starting at `i` when it is well-formed (Unicode Table 3-7: no overlong
 * forms, no surrogates, nothing past U+10FFFF): its code point and length; else undefined.
 */
function sequenceAt(bytes: Uint8Array, i: number): { cp: number; length: number } | undefined {
  const b0 = bytes[i]!;
  if (b0 < 0x80) return { cp: b0, length: 1 };
  const cont = (at: number, lo = 0x80, hi = 0xbf): number | undefined => {
    const b = bytes[at];
    return b !== undefined && b >= lo && b <= hi ? b & 0x3f : undefined;
  };
  if (b0 >= 0xc2 && b0 <= 0xdf) {
    const c1 = cont(i + 1);
    return c1 === undefined ? undefined : { cp: ((b0 & 0x1f) << 6) | c1, length: 2 };
  }
  if (b0 >= 0xe0 && b0 <= 0xef) {
    const c1 = cont(i + 1, b0 === 0xe0 ? 0xa0 : 0x80, b0 === 0xed ? 0x9f : 0xbf);
    const c2 = c1 === undefined ? undefined : cont(i + 2);
    return c2 === undefined ? undefined : { cp: ((b0 & 0x0f) << 12) | (c1! << 6) | c2, length: 3 };
  }
  if (b0 >= 0xf0 && b0 <= 0xf4) {
    const c1 = cont(i + 1, b0 === 0xf0 ? 0x90 : 0x80, b0 === 0xf4 ? 0x8f : 0xbf);
    const c2 = c1 === undefined ? undefined : cont(i + 2);
    const c3 = c2 === undefined ? undefined : cont(i + 3);
    return c3 === undefined ? undefined : { cp: ((b0 & 0x07) << 18) | (c1! << 12) | (c2! << 6) | c3, length: 4 };
  }
  return undefined;
}

/**
 * The string of an opaque id's bytes: valid UTF-8 decodes as usual; each byte that does not
 * start a well-formed sequence becomes U+DC80..U+DCFF (see the module comment).
 */
export function decodeOpaqueUtf8(bytes: Uint8Array): string {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (isUtf8(buffer)) return buffer.toString('utf8');
  let out = '';
  for (let i = 0; i < bytes.length; ) {
    const seq = sequenceAt(bytes, i);
    if (seq === undefined) {
      out += String.fromCharCode(ESCAPE_BASE + bytes[i]!);
      i += 1;
    } else {
      out += String.fromCodePoint(seq.cp);
      i += seq.length;
    }
  }
  return out;
}

/**
 * The bytes of an opaque id string: the inverse of {@link decodeOpaqueUtf8}. A lone surrogate
 * U+DC80..U+DCFF is the byte it stands for; any other lone surrogate is U+FFFD, as in every
 * string we send.
 */
export function encodeOpaqueUtf8(text: string): Uint8Array {
  if (text.isWellFormed()) return Buffer.from(text, 'utf8');
  const out: number[] = [];
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    // for…of yields a lone surrogate as a string of its own, and a pair as one code point.
    if (cp >= 0xdc80 && cp <= 0xdcff) out.push(cp - ESCAPE_BASE);
    else for (const b of Buffer.from(ch.toWellFormed(), 'utf8')) out.push(b);
  }
  return Uint8Array.from(out);
}
