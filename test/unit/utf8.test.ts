import { strict as assert } from 'node:assert';
import { isUtf8 } from 'node:buffer';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { boundMessage, ELLIPSIS, MAX_MESSAGE_BYTES, truncateUtf8, wellFormed } from '../../src/protocol/utf8.js';

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
      { numRuns: 500 },
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
