// The `uuid` of a status update, the same on both sides of the wire: 16 random bytes (RFC 4122
// version 4, as upstream's `id::UUID::random()`), and the Map key that names them (the agent
// deduplicates by it, the executor's outbox matches ACKNOWLEDGED events by it).
import { randomUUID } from 'node:crypto';

/** 16 fresh bytes of a random (version 4) uuid. */
export function randomUuidBytes(): Buffer {
  return Buffer.from(randomUUID().replaceAll('-', ''), 'hex');
}

/** The key of a uuid's bytes: their hex form (any length; a uuid is 16 bytes). */
export function uuidKey(uuid: Uint8Array): string {
  return Buffer.from(uuid.buffer, uuid.byteOffset, uuid.byteLength).toString('hex');
}
