// The call connection's HTTP/1.1 response parser: the same answers whatever the chunking (every
// single split point, every two-way split, byte by byte), every framing an agent or a proxy may
// use, and bounded against hostile answers.
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { ResponseParser, type HttpAnswer } from '../../src/driver/http-response-parser.js';

const ERROR_TEXT = 'Failed to validate: \u00e9t\u00e9 \ud83d\ude00!';

const STREAM = Buffer.from(
  [
    'HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n',
    `HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(ERROR_TEXT)}\r\n\r\n${ERROR_TEXT}`,
    'HTTP/1.1 100 Continue\r\n\r\n',
    'HTTP/1.1 503 Service Unavailable\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\n\r\n',
    'HTTP/1.1 202 Accepted\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX-Trailer: 1\r\n\r\n',
    'HTTP/1.1 204 No Content\r\n\r\n',
    'HTTP/1.0 202 Accepted\r\nConnection: close\r\nContent-Length: 0\r\n\r\n',
  ].join(''),
);

const EXPECTED: HttpAnswer[] = [
  { status: 202, body: '', close: false },
  { status: 400, body: ERROR_TEXT, close: false },
  { status: 503, body: 'hello world', close: false },
  { status: 202, body: '', close: false },
  { status: 204, body: '', close: false },
  { status: 202, body: '', close: true },
];

function parseInPieces(pieces: Buffer[]): HttpAnswer[] {
  const parser = new ResponseParser();
  const out: HttpAnswer[] = [];
  for (const piece of pieces) out.push(...parser.push(piece));
  assert.ok(parser.idle, 'nothing partial left');
  return out;
}

describe('ResponseParser', () => {
  it('parses Content-Length, chunked (extensions, trailers), 1xx, 204 and Connection: close answers in one chunk', () => {
    assert.deepEqual(parseInPieces([STREAM]), EXPECTED);
  });

  it('a head repeated byte for byte, then a different one, then the first again (heads are parsed once, by their text)', () => {
    const accepted = 'HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n';
    const refused = 'HTTP/1.1 202 Accepted\r\nContent-Length: 2\r\nConnection: close\r\n\r\nno';
    const parser = new ResponseParser();
    assert.deepStrictEqual(parser.push(Buffer.from(accepted + accepted + refused + accepted)), [
      { status: 202, body: '', close: false },
      { status: 202, body: '', close: false },
      { status: 202, body: 'no', close: true },
      { status: 202, body: '', close: false },
    ]);
  });

  it('gives the same answers split at every byte', () => {
    for (let cut = 0; cut <= STREAM.length; cut++) {
      assert.deepEqual(parseInPieces([STREAM.subarray(0, cut), STREAM.subarray(cut)]), EXPECTED, `split at ${cut}`);
    }
  });

  it('gives the same answers split at every pair of points', () => {
    for (let a = 0; a <= STREAM.length; a += 3) {
      for (let b = a; b <= STREAM.length; b += 7) {
        assert.deepEqual(parseInPieces([STREAM.subarray(0, a), STREAM.subarray(a, b), STREAM.subarray(b)]), EXPECTED, `split at ${a}, ${b}`);
      }
    }
  });

  it('gives the same answers byte by byte', () => {
    const bytes = Array.from(STREAM, (_, i) => STREAM.subarray(i, i + 1));
    assert.deepEqual(parseInPieces(bytes), EXPECTED);
  });

  it('does not retain the chunks it was given', () => {
    const parser = new ResponseParser();
    const chunk = Buffer.from('HTTP/1.1 400 Bad Request\r\nContent-Length: 4\r\n\r\nab');
    assert.deepEqual(parser.push(chunk), []);
    chunk.fill(0x58);
    assert.deepEqual(parser.push(Buffer.from('cd')), [{ status: 400, body: 'abcd', close: false }]);
  });

  it('an answer without framing is taken as empty and closes the connection', () => {
    assert.deepEqual(parseInPieces([Buffer.from('HTTP/1.1 202 Accepted\r\n\r\n')]), [{ status: 202, body: '', close: true }]);
  });

  it('throws on malformed answers (the connection is then dropped)', () => {
    const bad: Array<[string, RegExp]> = [
      ['SMTP ready\r\n\r\n', /status line/],
      ['HTTP/1.1 202 Accepted\r\nContent-Length: x\r\n\r\n', /Content-Length/],
      ['HTTP/1.1 202 Accepted\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n', /conflicting/],
      ['HTTP/1.1 202 Accepted\r\nno colon\r\n\r\n', /header/],
      ['HTTP/1.1 202 Accepted\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n', /chunk size/],
      ['HTTP/1.1 202 Accepted\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabXY', /CRLF/],
      ['HTTP/1.1 202 Accepted\r\nTransfer-Encoding: chunked\r\n\r\n2\nab', /LF without CR/],
    ];
    for (const [text, error] of bad) assert.throws(() => new ResponseParser().push(Buffer.from(text)), error, text);
  });

  it('bounds the head, a chunk-size line and the body, whatever the chunking', () => {
    const limits = { maxHeadBytes: 1024, maxBodyBytes: 4096 };
    // A head that never ends, dripped.
    const dripping = new ResponseParser(limits);
    assert.throws(() => {
      dripping.push(Buffer.from('HTTP/1.1 202 Accepted\r\n'));
      for (let i = 0; i < 2000; i++) dripping.push(Buffer.from('a'));
    }, /head over 1024/);
    // A chunk-size line that never ends (the hostile 202 of the reliability review).
    const endless = new ResponseParser(limits);
    assert.throws(() => {
      endless.push(Buffer.from('HTTP/1.1 202 Accepted\r\nTransfer-Encoding: chunked\r\n\r\n'));
      for (let i = 0; i < 10_000; i++) endless.push(Buffer.from('0'));
    }, /line over/);
    // Bodies over the limit, declared or chunked.
    assert.throws(() => new ResponseParser(limits).push(Buffer.from('HTTP/1.1 400 Bad\r\nContent-Length: 4097\r\n\r\n')), /over 4096/);
    const chunks = new ResponseParser(limits);
    assert.throws(() => {
      chunks.push(Buffer.from('HTTP/1.1 400 Bad\r\nTransfer-Encoding: chunked\r\n\r\n'));
      for (let i = 0; i < 5000; i++) chunks.push(Buffer.from('1\r\nx\r\n'));
    }, /over 4096/);
  });

  it('takes a large body dripped in tiny chunks (32 768 pushes; a re-scanning parser would copy ~8 GB)', () => {
    const parser = new ResponseParser();
    const size = 512 * 1024;
    parser.push(Buffer.from(`HTTP/1.1 400 Bad Request\r\nContent-Length: ${size}\r\n\r\n`));
    const piece = Buffer.alloc(16, 0x61);
    let answers: HttpAnswer[] = [];
    for (let i = 0; i < size / 16; i++) answers = parser.push(piece);
    assert.equal(answers.length, 1);
    assert.equal(answers[0]!.body, 'a'.repeat(size));
  });
});
