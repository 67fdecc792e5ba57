// A port of upstream's `validateExecutorCall` (src/common/validation.cpp, PROTOCOL.md §8.1):
// the same checks in the same order with the same messages. The HTTP handler prefixes a failure
// with "Failed to validate Executor::Call: ".
import type { Call, CheckStatusInfo } from '../proto/types.js';

const CALL_TYPES: ReadonlySet<unknown> = new Set(['UNKNOWN', 'SUBSCRIBE', 'UPDATE', 'MESSAGE', 'HEARTBEAT']);
const CHECK_TYPES: ReadonlySet<unknown> = new Set(['UNKNOWN', 'COMMAND', 'HTTP', 'TCP']);

/** Returns the reason the agent would refuse `call`, or undefined when it passes. */
export function validateExecutorCall(call: Call): string | undefined {
  // 1. IsInitialized: the codec's decodeCall already refuses missing required fields, as the
  //    agent's parser does (§2.2 row 4), so only the ids' own `value` can still be missing here.
  const missing: string[] = [];
  if (call.executor_id !== undefined && typeof call.executor_id.value !== 'string') missing.push('executor_id.value');
  if (call.framework_id !== undefined && typeof call.framework_id.value !== 'string') missing.push('framework_id.value');
  if (missing.length > 0) return `Not initialized: ${missing.join(', ')}`;

  // 2. An enum value this agent does not know is not "present" (proto2 keeps it as an unknown field).
  if (call.type === undefined || !CALL_TYPES.has(call.type)) return "Expecting 'type' to be present";
  if (call.executor_id === undefined) return "Expecting 'executor_id' to be present";
  if (call.framework_id === undefined) return "Expecting 'framework_id' to be present";

  switch (call.type) {
    case 'SUBSCRIBE':
      return call.subscribe === undefined ? "Expecting 'subscribe' to be present" : undefined;
    case 'UPDATE':
      return validateUpdate(call);
    case 'MESSAGE':
      return call.message === undefined ? "Expecting 'message' to be present" : undefined;
    default:
      // HEARTBEAT and UNKNOWN: no further checks (UNKNOWN is answered 501 later).
      return undefined;
  }
}

function validateUpdate(call: Call): string | undefined {
  const update = call.update;
  if (update === undefined) return "Expecting 'update' to be present";
  const status = update.status;
  if (status.uuid === undefined) return "Expecting 'uuid' to be present";
  if (!isValidUuid(status.uuid)) return 'Not a valid UUID';
  const executorId = call.executor_id.value;
  const frameworkId = call.framework_id.value;
  if (status.executor_id !== undefined && status.executor_id.value !== executorId) {
    return `ExecutorID in Call: ${executorId} does not match ExecutorID in TaskStatus: ${status.executor_id.value}`;
  }
  // Unset means the proto2 default SOURCE_MASTER, which is refused too.
  if (status.source !== 'SOURCE_EXECUTOR') {
    return `Received Call from executor ${executorId} of framework ${frameworkId} with invalid source, expecting 'SOURCE_EXECUTOR'`;
  }
  if (status.state === 'TASK_STAGING') {
    return `Received TASK_STAGING from executor ${executorId} of framework ${frameworkId} which is not allowed`;
  }
  if (status.check_status !== undefined) return validateCheckStatusInfo(status.check_status);
  return undefined;
}

/** upstream `validateCheckStatusInfo`. */
export function validateCheckStatusInfo(check: CheckStatusInfo): string | undefined {
  if (check.type === undefined || !CHECK_TYPES.has(check.type)) return "CheckStatusInfo must specify 'type'";
  switch (check.type) {
    case 'COMMAND':
      return check.command === undefined ? "Expecting 'command' to be set for COMMAND check's status" : undefined;
    case 'HTTP':
      return check.http === undefined ? "Expecting 'http' to be set for HTTP check's status" : undefined;
    case 'TCP':
      return check.tcp === undefined ? "Expecting 'tcp' to be set for TCP check's status" : undefined;
    default:
      return "'UNKNOWN' is not a valid check's status type";
  }
}

/**
 * stout `UUID::fromBytes`: exactly 16 bytes whose version nibble boost knows. The bundled boost
 * (1.65) knows versions 1 to 5 only; the variant bits are not checked.
 */
export function isValidUuid(bytes: Uint8Array): boolean {
  if (bytes.byteLength !== 16) return false;
  const version = bytes[6]! >> 4;
  return version >= 1 && version <= 5;
}
