// Text for what a job threw or returned, made without trusting it: a job's value may be a
// revoked Proxy, an Error whose `message` getter throws or is an object whose `toString` throws,
// or a million-item array whose String() would be a huge allocation of ours. Nothing here throws.

/** `String(value)` for what has a cheap, safe string form; undefined when it has none. */
export function safeText(value: unknown): string | undefined {
  switch (typeof value) {
    case 'string':
      return value;
    case 'number':
    case 'boolean':
    case 'bigint':
    case 'symbol':
      return String(value);
    case 'undefined':
      return undefined;
    default:
      break;
  }
  if (value === null) return 'null';
  try {
    // An array's String() joins every item: named by its size instead.
    if (Array.isArray(value)) return `[an array of ${value.length} items]`;
    const text: unknown = String(value);
    return typeof text === 'string' ? text : undefined;
  } catch {
    return undefined;
  }
}

/** Reads a property that may be a throwing getter (or of a revoked Proxy). */
function read(target: object, key: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: (target as Record<string, unknown>)[key] };
  } catch {
    return { ok: false };
  }
}

function isError(value: unknown): value is Error {
  try {
    return value instanceof Error;
  } catch {
    // A revoked Proxy throws from instanceof.
    return false;
  }
}

/** The text of a TASK_FAILED for what a job threw (not yet bounded), and the Error's name. */
export function describeThrown(error: unknown): { message: string; errorName?: string } {
  if (typeof error !== 'object' || error === null) {
    return { message: `job threw a non-error value: ${safeText(error) ?? typeof error}` };
  }
  const message = read(error, 'message');
  if (isError(error)) {
    const name = read(error, 'name');
    const errorName = name.ok ? (safeText(name.value) ?? 'Error') : 'Error';
    if (!message.ok) return { message: `job threw ${article(errorName)} whose message cannot be read`, errorName };
    if (message.value === undefined || message.value === '') return { message: `${errorName} (no message)`, errorName };
    const text = safeText(message.value);
    return { message: text ?? `job threw ${article(errorName)} whose message cannot be converted to a string`, errorName };
  }
  if (message.ok && message.value !== undefined) {
    const text = safeText(message.value);
    if (text !== undefined) return { message: text };
  }
  if (!message.ok) return { message: 'job threw an object that cannot be read (a revoked Proxy?)' };
  return { message: `job threw a non-error value: ${safeText(error) ?? 'an object that cannot be converted to a string'}` };
}

function article(name: string): string {
  return /^[aeiou]/i.test(name) ? `an ${name}` : `a ${name}`;
}
