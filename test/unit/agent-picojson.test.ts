// The agent's JSON text rules (stout JSON::parse over picojson 1.3.0 with Mesos' depth patch),
// without HTTP. The expected texts were checked against that parser built from upstream's
// 3rdparty sources; they are facts about it, written here by hand.
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { MAX_DEPTH, parsePicojson } from '../../src/agent/picojson.js';

function error(text: string | Uint8Array): string {
  const result = parsePicojson(typeof text === 'string' ? Buffer.from(text, 'utf8') : text);
  assert.equal(result.ok, false, `expected ${JSON.stringify(String(text))} to be refused`);
  return result.ok ? '' : result.error;
}

/** What JSON.parse reads from the text the parser hands on. */
function value(text: string | Uint8Array): unknown {
  const result = parsePicojson(typeof text === 'string' ? Buffer.from(text, 'utf8') : text);
  assert.ok(result.ok, `expected ${JSON.stringify(String(text))} to be accepted: ${result.ok ? '' : result.error}`);
  return JSON.parse(Buffer.from(result.text).toString('utf8'));
}

describe('picojson rules: surrogate escapes', () => {
  it('refuses a high-surrogate escape not followed by a low one, at the byte where it stopped', () => {
    assert.equal(error('{"message":"\\ud83d"}'), 'syntax error at line 1 near: "}');
    // The backslash is consumed, the byte after it is not.
    assert.equal(error('{"message":"\\ud83d\\n"}'), 'syntax error at line 1 near: n"}');
    // A second escape that is not a low surrogate: its four digits are consumed.
    assert.equal(error('{"message":"\\ud83d\\u0041"}'), 'syntax error at line 1 near: "}');
  });

  it('refuses a lone low-surrogate escape', () => {
    assert.equal(error('{"message":"\\udc00 x"}'), 'syntax error at line 1 near:  x"}');
    assert.equal(error('{"\\udfff":1}'), 'syntax error at line 1 near: ":1}');
  });

  it('accepts a pair, in either case, in values and keys', () => {
    assert.deepEqual(value('{"a":"\\ud83d\\ude00"}'), { a: '😀' });
    assert.deepEqual(value('{"\\uD83D\\uDE00":"\\uDBFF\\uDFFF"}'), { '😀': '\u{10FFFF}' });
  });

  it('refuses a short or non-hex \\u escape', () => {
    assert.equal(error('{"a":"\\u00"}'), 'syntax error at line 1 near: "}');
    assert.equal(error('{"a":"\\u12g4"}'), 'syntax error at line 1 near: g4"}');
  });
});

describe('picojson rules: bytes in strings', () => {
  it('refuses raw control characters (and leaves them out of the error text), counting lines', () => {
    assert.equal(error('{"a":\n"b\tc"}'), 'syntax error at line 2 near: c"}');
    assert.equal(error(Buffer.from('{"a":"\u0000"}')), 'syntax error at line 1 near: "}');
  });

  it('takes any byte from 0x20 up as it is: DEL, raw UTF-8, invalid UTF-8, a raw encoded surrogate', () => {
    assert.deepEqual(value('{"a":"\u007f"}'), { a: '\u007f' });
    assert.deepEqual(value('{"a":"é😀"}'), { a: 'é😀' });
    const invalid = Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]);
    assert.equal(parsePicojson(invalid).ok, true);
    const rawSurrogate = Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xed, 0xa0, 0xbd, 0x22, 0x7d]);
    assert.equal(parsePicojson(rawSurrogate).ok, true);
  });

  it('knows only the JSON escapes', () => {
    assert.equal(error('{"a":"\\x41"}'), 'syntax error at line 1 near: 41"}');
    assert.deepEqual(value('{"a":"\\"\\\\\\/\\b\\f\\n\\r\\t\\u0000"}'), { a: '"\\/\b\f\n\r\t\u0000' });
  });
});

describe('picojson rules: numbers', () => {
  it('reads forms JSON.parse refuses, handing on the same values', () => {
    assert.deepEqual(value('{"a":01,"b":1.,"c":-.5,"d":1.e3,"e":-00,"f":007.50}'), { a: 1, b: 1, c: -0.5, d: 1000, e: 0, f: 7.5 });
    // An int64 has no negative zero.
    assert.ok(Object.is((value('{"z":-0}') as { z: number }).z, 0));
  });

  it('leaves standard numbers and big integers to the codec unchanged', () => {
    const body = Buffer.from('{"a":12345678901234567890,"b":-1.5e-7,"c":0}');
    const result = parsePicojson(body);
    assert.ok(result.ok);
    assert.equal(result.text, body);
  });

  it('refuses what strtod does not read whole', () => {
    assert.equal(error('{"a":1e}'), 'syntax error at line 1 near: }');
    assert.equal(error('{"a":1-2}'), 'syntax error at line 1 near: }');
    assert.equal(error('{"a":-}'), 'syntax error at line 1 near: }');
    assert.equal(error('{"a":0.5.3}'), 'syntax error at line 1 near: }');
    assert.equal(error('{"a":.5}'), 'syntax error at line 1 near: .5}');
  });

  it('refuses a value beyond the double range', () => {
    assert.equal(error('{"a":1e400}'), 'Value out of range');
    assert.equal(error(`{"a":-${'9'.repeat(400)}}`), 'Value out of range');
    assert.deepEqual(value('{"a":1e-400}'), { a: 0 });
  });
});

describe('picojson rules: structure', () => {
  it('nests 200 deep, not 201', () => {
    assert.equal(MAX_DEPTH, 200);
    assert.deepEqual(parsePicojson(Buffer.from(`${'['.repeat(200)}${']'.repeat(200)}`)).ok, true);
    assert.equal(error(`${'['.repeat(201)}${']'.repeat(201)}`), `syntax error at line 1 near: ${']'.repeat(201)}`);
    assert.equal(parsePicojson(Buffer.from(`${'{"a":'.repeat(200)}1${'}'.repeat(200)}`)).ok, true);
    assert.match(error(`${'{"a":'.repeat(201)}1${'}'.repeat(201)}`), /^syntax error at line 1 near: "a":1}/);
  });

  it('wants only whitespace after the value, as stout compares positions', () => {
    assert.equal(error('{} x'), 'Parsed JSON included non-whitespace trailing characters:  x');
    assert.equal(error('{}\f'), 'Parsed JSON included non-whitespace trailing characters: \f');
    assert.equal(parsePicojson(Buffer.from(' \r\n\t{"a":1} \t\r\n')).ok, true);
    // picojson's look-ahead byte after a top-level number counts as consumed.
    assert.equal(error('1 '), 'Parsed JSON included non-whitespace trailing characters: ');
    const oneX = parsePicojson(Buffer.from('1x'));
    assert.deepEqual(oneX.ok && oneX.kind, 'number');
  });

  it('says which kind of value the text holds', () => {
    const kinds = ['{}', '[]', '"s"', '-1', 'true', 'null'].map((t) => {
      const r = parsePicojson(Buffer.from(t));
      return r.ok ? r.kind : r.error;
    });
    assert.deepEqual(kinds, ['object', 'array', 'string', 'number', 'boolean', 'null']);
  });

  it('keeps the last of duplicate keys', () => {
    assert.deepEqual(value('{"a":1,"a":{"b":2}}'), { a: { b: 2 } });
  });

  it('refuses an empty body, a BOM, trailing commas, and bad literals', () => {
    assert.equal(error(''), 'syntax error at line 1 near: ');
    assert.equal(error('\ufeff{}'), 'syntax error at line 1 near: \ufeff{}');
    assert.equal(error('{"a":[1,2,]}'), 'syntax error at line 1 near: ]}');
    assert.equal(error('{"a":1,}'), 'syntax error at line 1 near: }');
    assert.equal(error('{"a":tru}'), 'syntax error at line 1 near: }');
    assert.equal(error('{"a" 1}'), 'syntax error at line 1 near: 1}');
  });
});
