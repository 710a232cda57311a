// KwikPaisa v3 request and webhook signing (shared/provider-wire-formats.md §4.2, §4.6, §7):
//   X-SIGNATURE = lowercase hex HMAC-SHA256(canonicalJson(body) + X-TIMESTAMP, secret key)
// where canonicalJson is compact JSON (no whitespace, slashes unescaped) with the keys sorted, and
// X-TIMESTAMP is UNIX seconds, concatenated with no separator.
//
// UNCERTAIN (§4.2, §8): the docs' text says "recursively sort all payload keys" while their Node
// sample sorts the top-level keys only. Both are implemented here. We SIGN with the recursive
// sort (the text; the §7 vector is a flat body, for which both agree) and build every outgoing
// body with its nested objects already in key order, so the two variants give the same bytes
// and whichever the server uses accepts us (asserted in the tests). When VERIFYING we accept
// either variant (see webhook.ts).
import { createHmac } from 'node:crypto';
import { secretKeyObjectFromText } from '../../crypto/key-object.ts';

export type SortVariant = 'recursive' | 'top-level';

/** The variant outgoing requests are signed with. */
export const REQUEST_SORT: SortVariant = 'recursive';

/** Our window for X-TIMESTAMP, in both directions. KwikPaisa documents none (§4.2): ours. */
export const TIMESTAMP_TOLERANCE_SECONDS = 300;

const byCodeUnit = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Compact JSON with object keys sorted by UTF-16 code unit (as JS `Array#sort` does), at the top
 * level only or at every depth. Written out by hand rather than by rebuilding objects: JS objects
 * put integer-like keys ("10", "9") first in numeric order, which would undo the sort.
 * Arrays keep their order; properties whose value is undefined are left out, as JSON.stringify does.
 * PHP's ksort orders numeric-string keys differently; no KwikPaisa field we know has such keys.
 */
export function canonicalJson(value: unknown, variant: SortVariant = REQUEST_SORT): string {
  return serialise(value, variant === 'recursive' ? Number.POSITIVE_INFINITY : 1);
}

function serialise(value: unknown, sortDepth: number): string {
  if (sortDepth <= 0 || value === null || typeof value !== 'object') {
    const text = JSON.stringify(value);
    return text === undefined ? 'null' : text;
  }
  if (Array.isArray(value)) return `[${value.map((item) => serialise(item, sortDepth)).join(',')}]`;
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return JSON.stringify(value);
  const record = value as Record<string, unknown>;
  const parts: string[] = [];
  for (const key of Object.keys(record).sort(byCodeUnit)) {
    const item = record[key];
    if (item === undefined || typeof item === 'function' || typeof item === 'symbol') continue;
    parts.push(`${JSON.stringify(key)}:${serialise(item, sortDepth - 1)}`);
  }
  return `{${parts.join(',')}}`;
}

/** PHP json_encode without JSON_UNESCAPED_UNICODE writes non-ASCII as \uXXXX (§4.2); JS does not. */
export function escapeNonAscii(json: string): string {
  return json.replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Lowercase hex HMAC-SHA256 of `payload + timestamp`, keyed with the secret key. */
export function kwikPaisaSignature(payload: string | Buffer, timestamp: string, secretKey: string): string {
  return createHmac('sha256', secretKeyObjectFromText(secretKey))
    .update(payload)
    .update(timestamp, 'utf8')
    .digest('hex');
}

export function unixSeconds(nowMs: number): string {
  return String(Math.floor(nowMs / 1000));
}

/**
 * The bytes to send and the headers to send them with. The body sent is exactly the canonical JSON
 * that was signed, so no re-serialisation can come between the two.
 */
export function signRequest(
  body: unknown,
  credentials: { apiKey: string; secretKey: string },
  nowMs: number,
): { body: string; headers: Record<string, string> } {
  const payload = canonicalJson(body, REQUEST_SORT);
  const timestamp = unixSeconds(nowMs);
  return {
    body: payload,
    headers: {
      'content-type': 'application/json',
      accept: 'application/json',
      'x-api-key': credentials.apiKey,
      'x-timestamp': timestamp,
      'x-signature': kwikPaisaSignature(payload, timestamp, credentials.secretKey),
    },
  };
}
