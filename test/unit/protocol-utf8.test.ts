import { strict as assert } from 'node:assert';
import { isUtf8 } from 'node:buffer';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { boundMessage, decodeOpaqueUtf8, ELLIPSIS, encodeOpaqueUtf8, MAX_MESSAGE_BYTES, truncateUtf8, wellFormed } from '../../src/protocol/utf8.js';

/** Fixed, so that every run checks the same cases (a failure is reproducible as it stands). */
const PROPERTY_SEED = 20261202;

const utf8Length = (s: string): number => Buffer.byteLength(s, 'utf8');

/** The code points of `s` (a lone surrogate is one of its own). */
const codePoints = (s: string): string[] => [...s];

/** Any code points, lone surrogates among them. */
const anyText = fc
  .array(fc.oneof(fc.string({ unit: 'binary', maxLength: 4 }), fc.constantFrom('\ud83d', '\ude00', '😀', 'é', '€')), { maxLength: 20 })
  .map((parts) => parts.join(''));

/** Checks everything truncateUtf8 promises for one input and limit. */
function checkTruncation(text: string, maxBytes: number): void {
  const out = truncateUtf8(text, maxBytes);
  const whole = text.toWellFormed();
  assert.ok(out.isWellFormed(), `well-formed for ${JSON.stringify(text)} at ${maxBytes}`);
  assert.ok(utf8Length(out) <= maxBytes, `${utf8Length(out)} bytes > ${maxBytes}`);
  if (utf8Length(whole) <= maxBytes) {
    assert.equal(out, whole, `not cut when it fits (${maxBytes})`);
    return;
  }
  assert.ok(out.endsWith(ELLIPSIS), 'a cut ends with the ellipsis');
  const kept = out.slice(0, -ELLIPSIS.length);
  assert.ok(whole.startsWith(kept), 'what is kept is a prefix');
  // A code-point prefix: the cut never falls inside a pair.
  const points = codePoints(whole);
  const keptPoints = codePoints(kept);
  assert.deepEqual(keptPoints, points.slice(0, keptPoints.length));
  // The longest one: one more code point would not leave room for the ellipsis.
  const next = points[keptPoints.length];
  assert.ok(next !== undefined);
  assert.ok(utf8Length(kept + next) + utf8Length(ELLIPSIS) > maxBytes, `could have kept ${JSON.stringify(next)} at ${maxBytes}`);
}

describe('wellFormed', () => {
  it('replaces lone high and low surrogates (and a reversed pair) with U+FFFD, keeps pairs', () => {
    assert.equal(wellFormed('a\ud83d'), 'a\ufffd');
    assert.equal(wellFormed('\ude00b'), '\ufffdb');
    assert.equal(wellFormed('\ude00\ud83d'), '\ufffd\ufffd');
    assert.equal(wellFormed('😀 ü €'), '😀 ü €');
  });
});

describe('truncateUtf8', () => {
  it('never splits a surrogate pair, at every cut point', () => {
    for (let lead = 0; lead < 4; lead++) {
      const text = `${'a'.repeat(lead)}😀😀😀b`;
      for (let max = 3; max <= utf8Length(text) + 1; max++) checkTruncation(text, max);
    }
  });

  it('cuts 2-, 3- and 4-byte characters and lone surrogates only on code-point boundaries', () => {
    const text = 'aü€😀\ud83dx\ude00ü😀€';
    for (let max = 3; max <= utf8Length(text.toWellFormed()) + 1; max++) checkTruncation(text, max);
  });

  it('holds for any string and limit (property)', () => {
    fc.assert(
      fc.property(anyText, fc.integer({ min: 3, max: 200 }), (text, max) => {
        checkTruncation(text, max);
      }),
      { numRuns: 500, seed: PROPERTY_SEED },
    );
  });

  it('keeps a cut exact: 😀 at the edge is dropped whole, with the ellipsis after the last full character', () => {
    assert.equal(truncateUtf8('ab😀cd', 6), 'ab…');
    assert.equal(truncateUtf8('ab😀cdef', 9), 'ab😀…');
    assert.equal(truncateUtf8('ab😀cdef', 8), 'ab…');
    assert.equal(truncateUtf8('ab😀c', 7), 'ab😀c');
    assert.equal(truncateUtf8('abcdef', 5, '...'), 'ab...');
  });

  it('refuses a limit that cannot hold the ellipsis', () => {
    assert.throws(() => truncateUtf8('x'.repeat(10), 2), RangeError);
  });

  it('makes a short string well-formed without cutting it', () => {
    assert.equal(truncateUtf8('\ud83d', 3), '\ufffd');
  });
});

describe('boundMessage', () => {
  it(`bounds a message to ${MAX_MESSAGE_BYTES} bytes of well-formed UTF-8`, () => {
    const huge = `${'é'.repeat(3_000_000)}\ud83d`;
    const out = boundMessage(huge);
    assert.ok(utf8Length(out) <= MAX_MESSAGE_BYTES);
    assert.ok(utf8Length(out) > MAX_MESSAGE_BYTES - 4);
    assert.ok(out.endsWith(ELLIPSIS));
    assert.ok(isUtf8(Buffer.from(out)));
    assert.equal(boundMessage('job threw a non-error value: \ud83d'), 'job threw a non-error value: \ufffd');
  });
});

describe('opaque ids: bytes that are not UTF-8 survive', () => {
  const roundTrip = (bytes: Uint8Array): void => {
    const text = decodeOpaqueUtf8(bytes);
    assert.deepEqual(Buffer.from(encodeOpaqueUtf8(text)), Buffer.from(bytes), `round trip of ${Buffer.from(bytes).toString('hex')}`);
  };

  it('valid UTF-8 decodes as usual (a BOM and U+FFFD included) and encodes back to itself', () => {
    for (const text of ['task-1', 'ü€😀', '\ufeffbom', 'real \ufffd', '']) {
      const bytes = Buffer.from(text, 'utf8');
      assert.equal(decodeOpaqueUtf8(bytes), text);
      assert.deepEqual(Buffer.from(encodeOpaqueUtf8(text)), bytes);
    }
  });

  it('each byte outside a well-formed sequence becomes U+DC80..U+DCFF', () => {
    assert.equal(decodeOpaqueUtf8(Buffer.from('ff', 'hex')), '\udcff');
    assert.equal(decodeOpaqueUtf8(Buffer.from('61ff62', 'hex')), 'a\udcffb');
    // Overlong, CESU-8 surrogate, past U+10FFFF, truncated: byte by byte.
    assert.equal(decodeOpaqueUtf8(Buffer.from('c080', 'hex')), '\udcc0\udc80');
    assert.equal(decodeOpaqueUtf8(Buffer.from('eda0bd', 'hex')), '\udced\udca0\udcbd');
    assert.equal(decodeOpaqueUtf8(Buffer.from('f4908080', 'hex')), '\udcf4\udc90\udc80\udc80');
    assert.equal(decodeOpaqueUtf8(Buffer.from('f09f98', 'hex')), '\udcf0\udc9f\udc98');
    // A valid sequence right after a bad byte is kept.
    assert.equal(decodeOpaqueUtf8(Buffer.from('fff09f9880', 'hex')), '\udcff😀');
  });

  it('every single byte and every pair of bytes round-trips, and distinct bytes give distinct strings', () => {
    const seen = new Set<string>();
    for (let a = 0; a < 256; a++) {
      roundTrip(Uint8Array.of(a));
      for (let b = 0; b < 256; b++) {
        const bytes = Uint8Array.of(a, b);
        roundTrip(bytes);
        seen.add(decodeOpaqueUtf8(bytes));
      }
    }
    assert.equal(seen.size, 65_536);
  });

  it('any bytes round-trip (property)', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 24 }), (bytes) => roundTrip(bytes)), { numRuns: 2_000, seed: PROPERTY_SEED });
  });

  it('a lone surrogate that stands for no byte is U+FFFD, as in every string we send', () => {
    assert.deepEqual(Buffer.from(encodeOpaqueUtf8('a\ud83d')), Buffer.from('a\ufffd'));
    assert.deepEqual(Buffer.from(encodeOpaqueUtf8('\udc7f')), Buffer.from('\ufffd'));
    assert.deepEqual(Buffer.from(encodeOpaqueUtf8('\udcff😀')), Buffer.from('fff09f9880', 'hex'));
  });
});
