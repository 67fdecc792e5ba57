// The agent's JSON text rules: `JSON::parse` of stout (3rdparty/stout/include/stout/json.hpp),
// which runs picojson 1.3.0 (with Mesos' depth-limit patch) over the raw body bytes. Written from
// their observable behaviour, not from their code. Where this differs from JSON.parse:
//
// - a `\uD800`-`\uDBFF` escape must be followed at once by a `\uDC00`-`\uDFFF` escape, and a
//   low-surrogate escape alone is refused: JSON.parse accepts both as lone surrogates;
// - bytes are not decoded: any byte from 0x20 up is taken as it is inside a string (invalid
//   UTF-8 included); bytes below 0x20 are refused, as JSON.parse refuses raw control characters;
// - a number is any run of `0-9 + - e E .` that starts with a digit or `-` and that strtoimax or
//   strtod reads whole: `01`, `-00`, `1.`, `-.5`, `1.e3` are numbers; a value beyond the double
//   range (`1e400`) is the error `Value out of range` (JSON.parse gives Infinity);
// - arrays and objects nest at most 200 deep (stout's limit);
// - the text after the value may only be whitespace (space, tab, LF, CR), else
//   `Parsed JSON included non-whitespace trailing characters: …`. The check compares positions
//   after picojson's one-character look-ahead, so a top-level number followed by one other
//   character passes (`1x`), and one followed by whitespace does not (`1 `);
// - duplicate keys: the last one wins (as JSON.parse);
// - errors read `syntax error at line N near: <the rest of that line>`.
//
// This module only checks the text and says what JSON.parse must be given instead of it to
// get the same values: the body itself, or a copy with picojson-only number forms rewritten.

/** The kind of the top-level value. */
export type JsonKind = 'object' | 'array' | 'string' | 'number' | 'boolean' | 'null';

export type PicojsonResult =
  | { readonly ok: true; readonly kind: JsonKind; readonly text: Uint8Array }
  | { readonly ok: false; readonly error: string };

/** stout's nesting limit (`STOUT_JSON_MAX_DEPTH`). */
export const MAX_DEPTH = 200;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const NEWLINE = 0x0a;

/** Thrown inside the parser for stout's `Value out of range` (picojson throws for a non-finite double). */
class OutOfRange extends Error {}

/**
 * The reader: one byte of look-ahead that can be pushed back once, a line counter that moves
 * when the byte after a newline is read, and a position that does not move back on a push-back
 * (what stout compares with the end of the text).
 */
class Input {
  pos = 0;
  line = 1;
  #last = -1;
  #pushed = false;
  readonly bytes: Uint8Array;

  constructor(bytes: Uint8Array) {
    this.bytes = bytes;
  }

  next(): number {
    if (this.#pushed) {
      this.#pushed = false;
      return this.#last;
    }
    if (this.pos === this.bytes.length) {
      this.#last = -1;
      return -1;
    }
    if (this.#last === NEWLINE) this.line++;
    this.#last = this.bytes[this.pos++]!;
    return this.#last;
  }

  /** Pushes the last byte back; nothing to push back at the end of the text. */
  back(): void {
    if (this.#last !== -1) this.#pushed = true;
  }

  skipSpace(): void {
    for (;;) {
      const ch = this.next();
      if (ch !== 0x20 && ch !== 0x09 && ch !== NEWLINE && ch !== 0x0d) {
        this.back();
        return;
      }
    }
  }

  expect(ch: number): boolean {
    this.skipSpace();
    if (this.next() !== ch) {
      this.back();
      return false;
    }
    return true;
  }

  match(rest: string): boolean {
    for (let i = 0; i < rest.length; i++) {
      if (this.next() !== rest.charCodeAt(i)) {
        this.back();
        return false;
      }
    }
    return true;
  }
}

/** A number literal picojson accepts and JSON.parse does not, with the text JSON.parse reads the same way. */
interface Rewrite {
  readonly start: number;
  readonly end: number;
  readonly text: string;
}

class Parser {
  readonly input: Input;
  depth = MAX_DEPTH;
  readonly rewrites: Rewrite[] = [];

  constructor(bytes: Uint8Array) {
    this.input = new Input(bytes);
  }

  value(): JsonKind | undefined {
    const input = this.input;
    input.skipSpace();
    const ch = input.next();
    switch (ch) {
      case 0x6e: // n
        return input.match('ull') ? 'null' : undefined;
      case 0x66: // f
        return input.match('alse') ? 'boolean' : undefined;
      case 0x74: // t
        return input.match('rue') ? 'boolean' : undefined;
      case QUOTE:
        return this.string() ? 'string' : undefined;
      case 0x5b: // [
        return this.array() ? 'array' : undefined;
      case 0x7b: // {
        return this.object() ? 'object' : undefined;
      default:
        if ((ch >= 0x30 && ch <= 0x39) || ch === 0x2d) {
          input.back();
          return this.number() ? 'number' : undefined;
        }
        input.back();
        return undefined;
    }
  }

  array(): boolean {
    if (this.depth <= 0) return false;
    this.depth--;
    const input = this.input;
    if (!input.expect(0x5d)) {
      do {
        if (this.value() === undefined) return false;
      } while (input.expect(0x2c));
      if (!input.expect(0x5d)) return false;
    }
    this.depth++;
    return true;
  }

  object(): boolean {
    if (this.depth <= 0) return false;
    this.depth--;
    const input = this.input;
    if (!input.expect(0x7d)) {
      do {
        if (!input.expect(QUOTE) || !this.string() || !input.expect(0x3a)) return false;
        if (this.value() === undefined) return false;
      } while (input.expect(0x2c));
      if (!input.expect(0x7d)) return false;
    }
    this.depth++;
    return true;
  }

  /** After the opening quote. */
  string(): boolean {
    const input = this.input;
    for (;;) {
      const ch = input.next();
      if (ch < 0x20) {
        input.back();
        return false;
      }
      if (ch === QUOTE) return true;
      if (ch !== BACKSLASH) continue;
      switch (input.next()) {
        case QUOTE:
        case BACKSLASH:
        case 0x2f: // /
        case 0x62: // b
        case 0x66: // f
        case 0x6e: // n
        case 0x72: // r
        case 0x74: // t
          break;
        case 0x75: // u
          if (!this.codepoint()) return false;
          break;
        default:
          // Also the end of the text; the byte after the backslash is not pushed back.
          return false;
      }
    }
  }

  /** After `\u`. */
  codepoint(): boolean {
    const input = this.input;
    const first = this.hex4();
    if (first === -1) return false;
    if (first < 0xd800 || first > 0xdfff) return true;
    // A low surrogate first, or a high one not followed by `\u` and a low one: refused.
    if (first >= 0xdc00) return false;
    if (input.next() !== BACKSLASH || input.next() !== 0x75) {
      input.back();
      return false;
    }
    const second = this.hex4();
    return second >= 0xdc00 && second <= 0xdfff;
  }

  hex4(): number {
    const input = this.input;
    let code = 0;
    for (let i = 0; i < 4; i++) {
      const ch = input.next();
      if (ch === -1) return -1;
      let digit: number;
      if (ch >= 0x30 && ch <= 0x39) digit = ch - 0x30;
      else if (ch >= 0x41 && ch <= 0x46) digit = ch - 0x41 + 10;
      else if (ch >= 0x61 && ch <= 0x66) digit = ch - 0x61 + 10;
      else {
        input.back();
        return -1;
      }
      code = code * 16 + digit;
    }
    return code;
  }

  number(): boolean {
    const input = this.input;
    // After the push-back in value(), the first next() returns the byte at pos - 1.
    const start = input.pos - 1;
    let text = '';
    for (;;) {
      const ch = input.next();
      // 0-9 + - . e E
      if ((ch >= 0x30 && ch <= 0x39) || ch === 0x2b || ch === 0x2d || ch === 0x2e || ch === 0x65 || ch === 0x45) {
        text += String.fromCharCode(ch);
      } else {
        input.back();
        break;
      }
    }
    if (text === '') return false;
    const read = readNumber(text);
    if (read === undefined) return false;
    if (!Number.isFinite(read.value)) throw new OutOfRange();
    if (read.rewrite !== undefined) this.rewrites.push({ start, end: start + text.length, text: read.rewrite });
    return true;
  }
}

const JSON_NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;
const INTEGER = /^-?\d+$/;
// What strtod reads whole from these characters (the first is a digit or '-'): digits with at most
// one point and at least one digit, then an optional exponent with at least one digit.
const STRTOD = /^(-?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;

/** The value strtoimax/strtod give for `text` when they read all of it, with the JSON.parse form when that differs. */
function readNumber(text: string): { value: number; rewrite?: string } | undefined {
  // strtoimax first: a sign and digits. An int64 has no negative zero, so "-0" is 0. Out of
  // int64 range it falls through to strtod, which reads the same digits as a double; Number()
  // does both.
  if (INTEGER.test(text)) {
    const digits = text.replace(/^(-?)0+(?=\d)/, '$1');
    const canonical = /^-0$/.test(digits) ? '0' : digits;
    return canonical === text ? { value: Number(text) } : { value: Number(canonical), rewrite: canonical };
  }
  if (JSON_NUMBER.test(text)) return { value: Number(text) };
  const m = STRTOD.exec(text);
  if (m === null) return undefined;
  const [, sign = '', int = '', frac, exp] = m;
  // strtod wants at least one digit before the exponent.
  if (int === '' && (frac === undefined || frac === '')) return undefined;
  const canonical = `${sign}${int.replace(/^0+(?=\d)/, '') || '0'}${frac ? `.${frac}` : ''}${exp !== undefined ? `e${exp}` : ''}`;
  return { value: Number(canonical), rewrite: canonical };
}

/** Checks `bytes` as the agent's JSON parser does. */
export function parsePicojson(bytes: Uint8Array): PicojsonResult {
  const parser = new Parser(bytes);
  const input = parser.input;
  let kind: JsonKind | undefined;
  try {
    kind = parser.value();
  } catch (error) {
    if (error instanceof OutOfRange) return { ok: false, error: 'Value out of range' };
    throw error;
  }
  if (kind === undefined) return { ok: false, error: syntaxError(input) };
  // stout: the position reached must be just after the last byte that is not whitespace.
  let end = bytes.length;
  while (end > 0 && isSpace(bytes[end - 1]!)) end--;
  if (input.pos !== end) {
    const rest = input.pos < end ? bytes.subarray(input.pos, end) : bytes.subarray(input.pos);
    return { ok: false, error: `Parsed JSON included non-whitespace trailing characters: ${decode(rest)}` };
  }
  return { ok: true, kind, text: parser.rewrites.length === 0 ? bytes : rewrite(bytes, parser.rewrites) };
}

function isSpace(byte: number): boolean {
  return byte === 0x20 || byte === 0x09 || byte === NEWLINE || byte === 0x0d;
}

/** `syntax error at line N near: ` and the rest of the line from where parsing stopped, without control characters. */
function syntaxError(input: Input): string {
  const line = input.line;
  const near: number[] = [];
  for (;;) {
    const ch = input.next();
    if (ch === -1 || ch === NEWLINE) break;
    if (ch >= 0x20) near.push(ch);
  }
  return `syntax error at line ${line} near: ${decode(Uint8Array.from(near))}`;
}

function decode(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
}

function rewrite(bytes: Uint8Array, rewrites: readonly Rewrite[]): Uint8Array {
  const parts: Buffer[] = [];
  let at = 0;
  for (const r of rewrites) {
    parts.push(Buffer.from(bytes.subarray(at, r.start)), Buffer.from(r.text, 'latin1'));
    at = r.end;
  }
  parts.push(Buffer.from(bytes.subarray(at)));
  return Buffer.concat(parts);
}
