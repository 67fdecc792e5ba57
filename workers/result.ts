// JSON encoding of job results and progress data, done in the worker so that a big or
// slow-to-serialise result costs the worker's time, not the main thread's.

export type EncodedJson =
  | { readonly ok: true; readonly json: Uint8Array }
  | { readonly ok: false; readonly failure: 'result-not-json' | 'result-too-large'; readonly message: string };

const encoder = new TextEncoder();

/**
 * The UTF-8 JSON of `value` (`undefined` → `null`), or why it has none or is too large.
 * `what` names the value in messages ("result", "progress data").
 */
export function encodeJson(value: unknown, maxBytes: number, what = 'result'): EncodedJson {
  if (value === undefined) return { ok: true, json: encoder.encode('null') };
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return { ok: false, failure: 'result-not-json', message: `${what} is not JSON-serialisable: ${reason}` };
  }
  // JSON.stringify gives undefined (no error) for a function or a symbol at the top.
  if (text === undefined) {
    return { ok: false, failure: 'result-not-json', message: `${what} is not JSON-serialisable: a ${typeof value} has no JSON form` };
  }
  // TextEncoder gives a fresh buffer (Buffer.from may slice a shared pool, which is then copied whole).
  const json = encoder.encode(text);
  if (json.byteLength > maxBytes) {
    return {
      ok: false,
      failure: 'result-too-large',
      message: `${what} is ${json.byteLength} bytes of JSON, over the limit of ${maxBytes} bytes`,
    };
  }
  return { ok: true, json };
}
