// The `uuid` of a status update, the same on both sides of the wire: 16 random bytes (RFC 4122
// version 4, as upstream's `id::UUID::random()`), and the Map key that names them (the agent
// deduplicates by it, the executor's outbox matches ACKNOWLEDGED events by it).
import { randomFillSync } from 'node:crypto';

/** Random bytes drawn at once, for 256 uuids (one call into the CSPRNG, not one per update). */
const POOL_BYTES = 16 * 256;
const pool = Buffer.allocUnsafeSlow(POOL_BYTES);
let used = POOL_BYTES;

/**
 * 16 fresh bytes of a random (version 4) uuid. From a pool of random bytes rather than
 * `randomUUID()`: its string, the dashes removed and the hex parsed back cost ~5× the bytes.
 */
export function randomUuidBytes(): Buffer {
  if (used === POOL_BYTES) {
    randomFillSync(pool);
    used = 0;
  }
  const uuid = Buffer.allocUnsafe(16);
  pool.copy(uuid, 0, used, used + 16);
  used += 16;
  uuid[6] = (uuid[6]! & 0x0f) | 0x40; // version 4
  uuid[8] = (uuid[8]! & 0x3f) | 0x80; // the RFC 4122 variant
  return uuid;
}

/** The key of a uuid's bytes: their hex form (any length; a uuid is 16 bytes). */
export function uuidKey(uuid: Uint8Array): string {
  return Buffer.from(uuid.buffer, uuid.byteOffset, uuid.byteLength).toString('hex');
}
