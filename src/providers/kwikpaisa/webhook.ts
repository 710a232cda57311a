// KwikPaisa webhook authentication and parsing (shared/provider-wire-formats.md §4.6):
//   X-SIGNATURE = lowercase hex HMAC-SHA256(payload + X-TIMESTAMP, secret key)
//
// UNCERTAIN, so every documented reading is accepted (any one matching is enough):
//   - "use the raw request payload exactly as received" (docs text)  -> the raw bytes;
//   - their Node sample re-serialises the parsed body with sorted keys, and the docs contradict
//     themselves on the sort (recursive in the text, top level in the sample) -> both sorts;
//   - a PHP sender may escape non-ASCII as \uXXXX (§4.2) -> both sorts with that escaping too.
// The freshness window (300 s, both directions) is ours: KwikPaisa's webhook pages
// (developers.kwikpaisa.com/v3-guide/webhooks/webhook-setup and .../signature-verification)
// document neither a window nor a retry schedule. A delivery that is correctly signed but outside
// the window (KwikPaisa retrying with its original X-TIMESTAMP, say) is refused as `late`, which
// the ingest path does not count against the source address. The secret that matches decides the
// mode (test or live keys differ).
import { timestampProblem } from '../timestamp-window.ts';
import {
  acknowledgedEvent,
  identifier,
  isRecord,
  parseJson,
  parseJsonObject,
  type Headers,
} from '../webhook-fields.ts';
import type { Clock } from '../../clock.ts';
import { constantTimeEqual } from '../../crypto/compare.ts';
import type { Secret } from '../../crypto/secret.ts';
import type { Mode } from '../../db/schema.ts';
import type { ProviderWebhookEvent, ProviderWebhookHandler, WebhookCheck } from '../types.ts';
import { canonicalJson, escapeNonAscii, kwikPaisaSignature, TIMESTAMP_TOLERANCE_SECONDS } from './signing.ts';

function header(headers: Headers, name: string): string | undefined {
  const value = headers[name] ?? headers[name.toUpperCase()];
  return Array.isArray(value) ? value[0] : value;
}

/** The payloads a genuine sender may have signed, each named for the check's `scheme`. */
export function signedPayloadCandidates(rawBody: Buffer): Array<{ variant: string; payload: Buffer | string }> {
  const candidates: Array<{ variant: string; payload: Buffer | string }> = [{ variant: 'raw', payload: rawBody }];
  const parsed = parseJson(rawBody.toString('utf8'));
  if (parsed === undefined) return candidates;
  const seen = new Set([rawBody.toString('utf8')]);
  for (const variant of ['recursive', 'top-level'] as const) {
    const json = canonicalJson(parsed, variant);
    for (const [name, payload] of [
      [variant, json],
      [`${variant}-ascii`, escapeNonAscii(json)],
    ] as const) {
      if (seen.has(payload)) continue;
      seen.add(payload);
      candidates.push({ variant: name, payload });
    }
  }
  return candidates;
}

export function verifyKwikPaisaSignature(
  rawBody: Buffer,
  headers: Headers,
  secrets: ReadonlyArray<{ mode: Mode; secretKey: Secret }>,
  nowSeconds: number,
  toleranceSeconds: number = TIMESTAMP_TOLERANCE_SECONDS,
): WebhookCheck {
  const signature = header(headers, 'x-signature');
  const timestamp = header(headers, 'x-timestamp');
  if (signature === undefined || timestamp === undefined)
    return { ok: false, reason: 'X-SIGNATURE or X-TIMESTAMP header is missing' };
  const problem = timestampProblem(timestamp, nowSeconds, toleranceSeconds);
  if (problem === 'not_unix_seconds') return { ok: false, reason: 'X-TIMESTAMP is not UNIX seconds' };
  if (!/^[0-9a-fA-F]{64}$/.test(signature)) return { ok: false, reason: 'X-SIGNATURE is not a hex HMAC-SHA256' };
  const presented = signature.toLowerCase();
  const candidates = signedPayloadCandidates(rawBody);
  for (const { mode, secretKey } of secrets) {
    let matched: string | undefined;
    // Every candidate is compared (constant time each), so timing does not reveal which variant matched.
    for (const { variant, payload } of candidates) {
      if (
        constantTimeEqual(presented, kwikPaisaSignature(payload, timestamp, secretKey.reveal())) &&
        matched === undefined
      )
        matched = variant;
    }
    // The window is checked after the signature, so a late but genuine delivery is told apart
    // from a forgery.
    if (matched !== undefined && problem === 'outside_window')
      return {
        ok: false,
        late: true,
        reason: `X-TIMESTAMP is outside the ${toleranceSeconds} s window, though correctly signed (a late retry or a replay; check this server's clock)`,
      };
    if (matched !== undefined) return { ok: true, mode, scheme: `x-signature/${matched}` };
  }
  return { ok: false, reason: 'X-SIGNATURE does not match the body and timestamp (check the secret key)' };
}

// The documented payment events (§4.6); other payment.* names are acknowledged, not read.
const PAYMENT_EVENT = /^payment\.(success|failed|processing|expired)$/;
const PAYOUT_EVENT = /^payout\.[a-z_]{1,40}$/;

/**
 * `{"event":"payment.success","data":{"order_id","amount","currency","status"}}` (§4.6). Events:
 * payment.success|failed|processing|expired (about our payment: `data.order_id` is our payment id)
 * and payout.success|failed|processing|reversed (recognised, not about a payment; their payload is
 * undocumented, so the id is read from `payout_order_id`, the payout API's name, or `order_id`).
 * The payload carries no event id, so the dedupe key uses X-TIMESTAMP: a replay of the same
 * delivery inside the window repeats the key and is caught by the dedupe store, while a later
 * genuine event for the same order (new timestamp) is not. A delivery KwikPaisa retries with a new
 * timestamp is stored twice; processing it is idempotent (it only triggers a verify call).
 */
export function parseKwikPaisaWebhook(
  rawBody: Buffer,
  timestamp: string | undefined,
): { ok: true; event: ProviderWebhookEvent } | { ok: false; reason: string } {
  const json = parseJsonObject(rawBody);
  if (!json.ok) return json;
  const body = json.body;
  const name = typeof body.event === 'string' ? body.event.trim().toLowerCase() : undefined;
  const acted = name !== undefined && (PAYMENT_EVENT.test(name) || PAYOUT_EVENT.test(name));
  if (name === undefined || !isRecord(body.data)) {
    // An event we act on must be readable; anything else signed is acknowledged.
    if (acted) return { ok: false, reason: 'body lacks event or data' };
    return { ok: true, event: acknowledgedEvent('kwikpaisa', body.event, rawBody) };
  }
  const event = name;
  const data = body.data;
  // Without the header (a stored body parsed again later) the key cannot be rebuilt; say so in it.
  const stamp = timestamp !== undefined && /^\d{1,12}$/.test(timestamp) ? timestamp : 'no-timestamp';
  if (PAYMENT_EVENT.test(event)) {
    const orderId = identifier(data.order_id);
    if (orderId === undefined) return { ok: false, reason: 'data.order_id is missing or malformed' };
    return {
      ok: true,
      event: {
        dedupeKey: `kwikpaisa:${orderId}:${event}:${stamp}`,
        eventType: event,
        paymentId: orderId,
        providerTxId: undefined,
      },
    };
  }
  if (PAYOUT_EVENT.test(event)) {
    const payoutId = identifier(data.payout_order_id) ?? identifier(data.order_id);
    if (payoutId === undefined) return { ok: false, reason: 'payout event lacks payout_order_id' };
    return {
      ok: true,
      event: {
        dedupeKey: `kwikpaisa:${payoutId}:${event}:${stamp}`,
        eventType: event,
        paymentId: undefined,
        providerTxId: undefined,
        // A hint to query the payout now (its status word kept for the record, never acted on).
        transfer: {
          reference: payoutId,
          providerTransferId: identifier(data.unique_system_order_id),
          providerStatus: typeof data.status === 'string' ? data.status.slice(0, 40) : event,
        },
      },
    };
  }
  // Signed, but not an event we act on (one not documented yet): acknowledged, stored, ignored.
  return { ok: true, event: acknowledgedEvent('kwikpaisa', event, rawBody) };
}

/** The event identity includes X-TIMESTAMP, which `parse` reads from the headers given at ingest.
 * A stored body parsed again later (the processing job) has none and gets `no-timestamp`; that
 * job does not use the key. */
export function createKwikPaisaWebhookHandler(
  secrets: ReadonlyArray<{ mode: Mode; secretKey: Secret }>,
  clock: Clock,
  toleranceSeconds: number = TIMESTAMP_TOLERANCE_SECONDS,
): ProviderWebhookHandler {
  return {
    name: 'kwikpaisa',
    verifySignature: (rawBody, headers) =>
      verifyKwikPaisaSignature(rawBody, headers, secrets, Math.floor(clock.nowMs() / 1000), toleranceSeconds),
    parse: (rawBody, headers) =>
      parseKwikPaisaWebhook(rawBody, headers === undefined ? undefined : header(headers, 'x-timestamp')),
  };
}
