// The executor endpoint's checks, in upstream's order (PROTOCOL.md §2.2; `Http::executor` in
// src/slave/http.cpp, with libprocess authentication in front). Pure: it decides, the caller
// does the I/O. Rows of the §2.2 table are noted as "row N".
import type { Codec, ContentType } from '../protocol/codec.js';
import type { Call } from '../proto/types.js';
import { negotiateStreamType } from './accept.js';
import { authenticate, verifyExecutorClaims } from './auth.js';
import type { ExecutorClaims } from './options.js';
import { parsePicojson } from './picojson.js';
import { validateExecutorCall } from './validation.js';

/** The agent as the endpoint sees it, phase by phase (see {@link AgentPhase}). */
export interface EndpointContext {
  /** `recoveryInfo.reconnect` is false: containerizer recovery not done (503 to everything). */
  readonly containerizerRecovering: boolean;
  /** Agent state RECOVERING: SUBSCRIBE and HEARTBEAT pass, other calls get 503. */
  readonly recovering: boolean;
  /** Undefined when authentication is off; otherwise the claims a token stands for. */
  readonly lookupToken: ((token: string) => ExecutorClaims | undefined) | undefined;
  /** The agent knows the framework (false once a restart without checkpointing forgot it). */
  readonly frameworkKnown: boolean;
  readonly frameworkId: string;
  readonly executorId: string;
  readonly containerId: string;
  /** The executor is REGISTERING: never subscribed, or recovered and not yet re-subscribed. */
  readonly executorRegistering: boolean;
  /** Accepted call encodings (also the stream types on offer). */
  readonly contentTypes: readonly ContentType[];
  readonly codecs: Readonly<Record<ContentType, Codec>>;
}

export interface EndpointRequest {
  readonly method: string;
  readonly contentType: string | undefined;
  readonly accept: string | undefined;
  readonly authorization: string | undefined;
  readonly body: Uint8Array;
}

/** A final answer; `call` is set when the body had been decoded. */
export interface Reply {
  readonly kind: 'reply';
  readonly status: number;
  readonly body: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly call?: Call;
}

export type EndpointDecision =
  | Reply
  | { readonly kind: 'subscribe'; readonly call: Call; readonly streamCodec: Codec }
  | { readonly kind: 'update'; readonly call: Call }
  | { readonly kind: 'message'; readonly call: Call };

/** Libprocess' default body for a status without one (`Response(std::string, code)` texts). */
export const STATUS_TEXT: Readonly<Record<number, string>> = {
  400: '400 Bad Request.',
  401: '401 Unauthorized.',
  403: '403 Forbidden.',
  404: '404 Not Found.',
  405: '405 Method Not Allowed.',
  406: '406 Not Acceptable.',
  415: '415 Unsupported Media Type.',
  500: '500 Internal Server Error.',
  501: '501 Not Implemented.',
  503: '503 Service Unavailable.',
};

export const RECOVERY_BODY = 'Agent has not finished recovery';

function reply(status: number, body: string, call?: Call, headers?: Record<string, string>): Reply {
  return { kind: 'reply', status, body, ...(headers ? { headers } : {}), ...(call ? { call } : {}) };
}

/** Runs the checks of §2.2 in order and returns the first answer, or what to do with the call. */
export function decideExecutorRequest(req: EndpointRequest, ctx: EndpointContext): EndpointDecision {
  // Row 0: libprocess authenticates before any handler runs, so 401 beats even 503.
  let claims: ExecutorClaims | undefined;
  if (ctx.lookupToken !== undefined) {
    const auth = authenticate(req.authorization, ctx.lookupToken);
    if (!auth.ok) return reply(401, STATUS_TEXT[401]!, undefined, { 'WWW-Authenticate': auth.challenge });
    claims = auth.claims;
  }
  // Row 1: every request, even a GET.
  if (ctx.containerizerRecovering) return reply(503, RECOVERY_BODY);
  // Row 2.
  if (req.method !== 'POST') {
    return reply(405, `405 Method Not Allowed. Expecting one of { 'POST' }, but received '${req.method}'.`, undefined, {
      Allow: 'POST',
    });
  }
  // Row 3.
  if (req.contentType === undefined) return reply(400, "Expecting 'Content-Type' to be present");
  // Row 4: plain string equality, so parameters such as `; charset=utf-8` give 415.
  const contentType = req.contentType as ContentType;
  if (!ctx.contentTypes.includes(contentType)) {
    return reply(415, "Expecting 'Content-Type' of application/json or application/x-protobuf");
  }
  const decoded = decodeCall(ctx.codecs[contentType], req.body);
  if (typeof decoded === 'string') return reply(400, decoded);
  const call = decoded;
  // Row 5.
  const invalid = validateExecutorCall(call);
  if (invalid !== undefined) return reply(400, `Failed to validate Executor::Call: ${invalid}`, call);
  // Row 6.
  let streamCodec: Codec | undefined;
  if (call.type === 'SUBSCRIBE') {
    const chosen = negotiateStreamType(req.accept, ctx.contentTypes);
    if (chosen === undefined) {
      return reply(406, "Expecting 'Accept' to allow 'application/x-protobuf' or 'application/json'", call);
    }
    streamCodec = ctx.codecs[chosen];
  } else if (call.type === 'HEARTBEAT') {
    // Answered before any lookup: the reference library sends dummy ids here.
    return reply(202, '', call);
  } else if (ctx.recovering) {
    return reply(503, RECOVERY_BODY, call);
  }
  // Rows 7 and 8.
  if (!ctx.frameworkKnown || call.framework_id.value !== ctx.frameworkId) return reply(400, 'Framework cannot be found', call);
  if (call.executor_id.value !== ctx.executorId) return reply(400, 'Executor cannot be found', call);
  // Row 9.
  if (claims !== undefined) {
    const mismatch = verifyExecutorClaims(claims, call.framework_id.value, call.executor_id.value, ctx.containerId);
    if (mismatch !== undefined) return reply(403, mismatch, call);
  }
  // Row 10.
  if (ctx.executorRegistering && call.type !== 'SUBSCRIBE') return reply(403, 'Executor is not subscribed', call);
  // Row 11.
  switch (call.type) {
    case 'SUBSCRIBE':
      return { kind: 'subscribe', call, streamCodec: streamCodec! };
    case 'UPDATE':
      return { kind: 'update', call };
    case 'MESSAGE':
      return { kind: 'message', call };
    default:
      return reply(501, STATUS_TEXT[501]!, call);
  }
}

/**
 * Decodes the body, or returns the 400 text upstream would give. JSON is first read with the
 * agent's own rules (picojson.ts), which refuse some texts JSON.parse accepts and word their
 * errors as stout does; only a text that passes reaches the codec (rewritten where picojson
 * reads a number JSON.parse would not).
 */
function decodeCall(codec: Codec, body: Uint8Array): Call | string {
  let bytes = body;
  if (codec.contentType === 'application/json') {
    const json = parsePicojson(body);
    if (!json.ok) return `Failed to parse body into JSON: ${json.error}`;
    // protobuf::parse<Call>(JSON::Value) wants an object.
    if (json.kind !== 'object') return 'Failed to convert JSON into Call protobuf: Expecting a JSON object';
    bytes = json.text;
  }
  try {
    // proto2 strings are not checked for UTF-8 by the agent's parser (a debug build only logs):
    // the codec's lossy decoding accepts them too.
    return codec.decodeCall(bytes);
  } catch (error) {
    if (codec.contentType === 'application/x-protobuf') return 'Failed to parse body into Call protobuf';
    const message = messageOf(error);
    // Only a text picojson accepts gets here, so a codec parse error would be ours; say it as the codec does.
    if (message.startsWith('Failed to parse body into JSON: ')) return message;
    return `Failed to convert JSON into Call protobuf: ${message}`;
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
