// Accept negotiation as libprocess does it (PROTOCOL.md §2.1).
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { acceptsMediaType, negotiateStreamType } from '../../src/agent/accept.js';

const BOTH = ['application/json', 'application/x-protobuf'] as const;
const JSON_T = 'application/json';
const PB = 'application/x-protobuf';

describe('acceptsMediaType', () => {
  it('accepts everything when the header is absent', () => {
    assert.equal(acceptsMediaType(undefined, JSON_T), true);
    assert.equal(acceptsMediaType(undefined, PB), true);
  });

  it('matches exact types, type/* and */*, case-insensitively', () => {
    assert.equal(acceptsMediaType('application/json', JSON_T), true);
    assert.equal(acceptsMediaType('Application/JSON', JSON_T), true);
    assert.equal(acceptsMediaType('application/json', PB), false);
    assert.equal(acceptsMediaType('application/*', PB), true);
    assert.equal(acceptsMediaType('*/*', PB), true);
    assert.equal(acceptsMediaType('text/plain', JSON_T), false);
    assert.equal(acceptsMediaType('', JSON_T), false);
  });

  it('ignores q-values except that q=0 refuses, and the most specific match decides', () => {
    assert.equal(acceptsMediaType('application/json;q=0.1', JSON_T), true);
    assert.equal(acceptsMediaType('application/json;q=0', JSON_T), false);
    assert.equal(acceptsMediaType('application/json; q=0.0', JSON_T), false);
    // The exact entry with q=0 wins over a later */*.
    assert.equal(acceptsMediaType('application/json;q=0, */*', JSON_T), false);
    // A malformed q is "no q value".
    assert.equal(acceptsMediaType('application/json;q=', JSON_T), true);
    // A q that is not a number refuses.
    assert.equal(acceptsMediaType('application/json;q=abc', JSON_T), false);
  });
});

describe('negotiateStreamType', () => {
  it('prefers JSON whenever JSON is acceptable', () => {
    assert.equal(negotiateStreamType(undefined, BOTH), JSON_T);
    assert.equal(negotiateStreamType('*/*', BOTH), JSON_T);
    assert.equal(negotiateStreamType('application/*', BOTH), JSON_T);
    assert.equal(negotiateStreamType('application/x-protobuf, application/json', BOTH), JSON_T);
    assert.equal(negotiateStreamType('application/x-protobuf;q=1, application/json;q=0.1', BOTH), JSON_T);
  });

  it('falls back to protobuf, then to nothing (406)', () => {
    assert.equal(negotiateStreamType('application/x-protobuf', BOTH), PB);
    assert.equal(negotiateStreamType('application/json;q=0, application/x-protobuf', BOTH), PB);
    assert.equal(negotiateStreamType('application/recordio', BOTH), undefined);
    assert.equal(negotiateStreamType('text/html', BOTH), undefined);
  });

  it('offers only the configured types', () => {
    assert.equal(negotiateStreamType('*/*', ['application/x-protobuf']), PB);
    assert.equal(negotiateStreamType('application/json', ['application/x-protobuf']), undefined);
  });
});
