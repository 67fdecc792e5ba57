// Reads raw protobuf bytes by field number, without a schema and without decoding text, so a
// test can look at the exact bytes of a field (a decoder would replace invalid UTF-8).
import protobuf from 'protobufjs';

/** The bytes of every length-delimited field at `path` (field numbers, outermost first). */
export function fieldBytes(message: Uint8Array, path: readonly number[]): Buffer[] {
  const [head, ...rest] = path;
  if (head === undefined) return [Buffer.from(message)];
  const out: Buffer[] = [];
  const reader = protobuf.Reader.create(message);
  while (reader.pos < reader.len) {
    const tag = reader.uint32();
    const field = tag >>> 3;
    const wireType = tag & 7;
    if (field === head && wireType === 2) {
      out.push(...fieldBytes(reader.bytes(), rest));
    } else {
      reader.skipType(wireType);
    }
  }
  return out;
}

/** Field numbers of the paths the tests read (upstream's executor.proto and mesos.proto). */
export const FIELD = Object.freeze({
  CALL_SUBSCRIBE: 4,
  CALL_UPDATE: 5,
  SUBSCRIBE_UNACKNOWLEDGED_TASKS: 1,
  SUBSCRIBE_UNACKNOWLEDGED_UPDATES: 2,
  UPDATE_STATUS: 1,
  STATUS_TASK_ID: 1,
  STATUS_MESSAGE: 4,
  TASK_INFO_TASK_ID: 2,
  ID_VALUE: 1,
});
