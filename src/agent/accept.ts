// `Accept` header matching as libprocess does it (`Request::_acceptsMediaType` in
// 3rdparty/libprocess/src/http.cpp; PROTOCOL.md §2.1). Deliberately not RFC 7231: q-values
// only matter when they are 0, and the first header entry matching the most specific
// candidate decides.
import type { ContentType } from '../protocol/codec.js';

/**
 * Tells whether a request with this `Accept` header (undefined: header absent) accepts
 * `mediaType`. Candidates are tried from the most specific (`type/subtype`, then `type/*`,
 * then `*\/*`); for each, the header's entries are scanned in order and the first whose range
 * equals the candidate (case-insensitively) decides: accepted unless it carries exactly one
 * `q` parameter whose value is not a number above 0.
 */
export function acceptsMediaType(accept: string | undefined, mediaType: string): boolean {
  const parts = mediaType.split('/').filter((p) => p !== '');
  if (parts.length !== 2) return false;
  // No header: every media type is acceptable.
  if (accept === undefined) return true;
  const header = accept.replace(/[ \t\n]/g, '');
  const entries = header.split(',').filter((e) => e !== '');
  const candidates = [mediaType, `${parts[0]}/*`, '*/*'];
  for (const candidate of candidates) {
    const wanted = candidate.toLowerCase();
    for (const entry of entries) {
      const tokens = entry.split(';').filter((t) => t !== '');
      if (tokens.length === 0) continue;
      if (tokens[0]!.toLowerCase() !== wanted) continue;
      const q: string[] = [];
      for (const token of tokens) {
        // strings::pairs tokenizes (empty parts vanish) and keeps only tokens of exactly two parts.
        const pair = token.split('=').filter((p) => p !== '');
        if (pair.length === 2 && pair[0] === 'q') q.push(pair[1]!);
      }
      if (q.length !== 1) return true;
      return isPositiveNumber(q[0]!);
    }
  }
  return false;
}

// numify<double> (boost::lexical_cast): the whole string must be a number.
function isPositiveNumber(text: string): boolean {
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text)) return false;
  return Number(text) > 0;
}

/**
 * The event stream's content type for a SUBSCRIBE (`Http::executor`): JSON whenever acceptable,
 * else protobuf, else undefined (406). `offered` limits the choice to what this agent serves.
 */
export function negotiateStreamType(accept: string | undefined, offered: readonly ContentType[]): ContentType | undefined {
  if (offered.includes('application/json') && acceptsMediaType(accept, 'application/json')) return 'application/json';
  if (offered.includes('application/x-protobuf') && acceptsMediaType(accept, 'application/x-protobuf')) {
    return 'application/x-protobuf';
  }
  return undefined;
}
