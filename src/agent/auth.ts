// Executor authentication as upstream's JWT authenticator answers it (PROTOCOL.md §1.3;
// 3rdparty/libprocess/src/jwt_authenticator.cpp) and the claim check of `verifyExecutorClaims`
// (src/slave/http.cpp). Our tokens are opaque strings mapped to claims: an executor never looks
// inside its token, so a real JWT would add nothing the wire can show.
import type { ExecutorClaims } from './options.js';

export const EXECUTOR_REALM = 'mesos-agent-executor';

export type AuthResult =
  | { readonly ok: true; readonly claims: ExecutorClaims }
  | { readonly ok: false; readonly challenge: string };

/** Checks an `Authorization` header against the known tokens. */
export function authenticate(header: string | undefined, lookup: (token: string) => ExecutorClaims | undefined): AuthResult {
  const realm = `Bearer realm="${EXECUTOR_REALM}"`;
  // RFC 6750 §3.1: a request without credentials gets no error details.
  if (header === undefined) return { ok: false, challenge: realm };
  const invalid = (description: string): AuthResult => ({
    ok: false,
    challenge: `${realm}, error="invalid_token", error_description="${description}"`,
  });
  const parts = header.split(' ');
  if (parts.length !== 2) return invalid("Malformed 'Authorization' header");
  const [scheme, token] = parts as [string, string];
  if (scheme !== 'Bearer') return invalid(`Scheme '${scheme}' unsupported`);
  const claims = lookup(token);
  // Upstream's text here is the JWT parser's error; ours has no JWT to parse.
  if (claims === undefined) return invalid('Invalid JWT: token not recognised');
  return { ok: true, claims };
}

/** `verifyExecutorClaims`: the 403 body, or undefined when the claims match. */
export function verifyExecutorClaims(
  claims: ExecutorClaims,
  frameworkId: string,
  executorId: string,
  containerId: string,
): string | undefined {
  const principal = `Authenticated principal '${formatPrincipal(claims)}' does not contain`;
  if (claims.fid !== frameworkId) {
    return `${principal} an 'fid' claim with the framework ID ${frameworkId}, which is set in the call`;
  }
  if (claims.eid !== executorId) {
    return `${principal} an 'eid' claim with the executor ID ${executorId}, which is set in the call`;
  }
  if (claims.cid !== containerId) {
    return `${principal} a 'cid' claim with the correct active ContainerID`;
  }
  return undefined;
}

// A principal without a value prints as JSON with its claims (libprocess `operator<<(Principal)`).
function formatPrincipal(claims: ExecutorClaims): string {
  const out: Record<string, string> = {};
  for (const key of ['fid', 'eid', 'cid'] as const) {
    const value = claims[key];
    if (value !== undefined) out[key] = value;
  }
  return JSON.stringify({ claims: out });
}
