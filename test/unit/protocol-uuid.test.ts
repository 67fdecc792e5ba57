// The status update uuid both sides use (src/protocol/uuid.ts).
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { randomUuidBytes, uuidKey } from '../../src/protocol/uuid.js';

describe('status update uuids', () => {
  it('are 16 random bytes of an RFC 4122 version 4 uuid, each new', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 1000; i++) {
      const uuid = randomUuidBytes();
      assert.equal(uuid.length, 16);
      assert.equal(uuid[6]! >> 4, 4, 'version 4');
      assert.equal(uuid[8]! >> 6, 0b10, 'the RFC 4122 variant');
      seen.add(uuidKey(uuid));
    }
    assert.equal(seen.size, 1000);
  });

  it('are keyed by the hex of exactly their bytes, wherever they sit in a buffer', () => {
    const frame = Buffer.from('00112233445566778899aabbccddeeff0011223344556677', 'hex');
    assert.equal(uuidKey(frame.subarray(4, 20)), '445566778899aabbccddeeff00112233');
    assert.equal(uuidKey(new Uint8Array([0, 255])), '00ff');
  });
});
