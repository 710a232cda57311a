// Paystack webhook authentication and parsing (§2.4).
//   x-paystack-signature: lowercase hex(HMAC-SHA512(secret key `sk_…`, raw body))
// Paystack's own sample hashes JSON.stringify(req.body), which only works while re-serialisation
// is byte-identical; we always hash the raw bytes. There is no timestamp to bound replays: the
// core's dedupe key and verify-before-value carry that. The secret key differs per mode, which
// is also how a delivery is assigned to test or live.
import { normaliseIp } from '../../net/addresses.ts';
import { acknowledgedEvent, header, isRecord, parseJsonObject, type Headers } from '../webhook-fields.ts';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { secretKeyObjectFromText } from '../../crypto/key-object.ts';
import type { Secret } from '../../crypto/secret.ts';
import type { Mode } from '../../db/schema.ts';
import type { ProviderWebhookEvent, ProviderWebhookHandler, WebhookCheck } from '../types.ts';
import { fromPaystackReference, transactionId } from './transformers.ts';

export const PAYSTACK_SIGNATURE_HEADER = 'x-paystack-signature';

export function paystackSignature(rawBody: Buffer | string, secretKey: string): string {
  return createHmac('sha512', secretKeyObjectFromText(secretKey)).update(rawBody).digest('hex');
}

export function verifyPaystackSignature(
  rawBody: Buffer,
  headers: Headers,
  secretKeys: ReadonlyArray<{ mode: Mode; secretKey: Secret }>,
): WebhookCheck {
  const presented = header(headers, PAYSTACK_SIGNATURE_HEADER)?.trim();
  if (presented === undefined || presented === '')
    return { ok: false, reason: 'x-paystack-signature header is missing' };
  // 64 bytes as hex. Decoded, so the comparison runs in constant time over equal-length buffers;
  // a malformed header is simply a mismatch.
  const presentedBytes = /^[0-9a-fA-F]{128}$/.test(presented) ? Buffer.from(presented, 'hex') : undefined;
  if (presentedBytes !== undefined) {
    for (const { mode, secretKey } of secretKeys) {
      const expected = createHmac('sha512', secretKeyObjectFromText(secretKey.reveal())).update(rawBody).digest();
      if (timingSafeEqual(presentedBytes, expected)) return { ok: true, mode, scheme: PAYSTACK_SIGNATURE_HEADER };
    }
  }
  return {
    ok: false,
    reason:
      'x-paystack-signature does not match the raw body (check the secret key for this mode, and that the body is not re-serialised before verification)',
  };
}

// ---- Events --------------------------------------------------------------------------------------
// Events about a payment we created. `charge.failed` is not in Paystack's published list (a failed
// card sends nothing); it is accepted because the simulator's out_of_order fault delivers a stale
// failed attempt under that name, and it is harmless: a webhook is only a hint to verify.
const PAYMENT_EVENTS = new Set(['charge.success', 'charge.failed']);
const TRANSFER_EVENTS = new Set(['transfer.success', 'transfer.failed', 'transfer.reversed']);
const REFUND_EVENTS = new Set(['refund.pending', 'refund.processing', 'refund.processed', 'refund.failed']);
type Parsed = { ok: true; event: ProviderWebhookEvent } | { ok: false; reason: string };

/**
 * The envelope is `{event, data}` with no event id (§2.4), so the dedupe key is built from the
 * event name and the object's own id: `paystack:<data.id>:<event>`. Only payment, transfer and
 * refund events are read; every other signed event (the rest of the documented list, types not
 * yet documented, `subscription.expiring_cards` whose `data` is an array) is acknowledged and
 * ignored (acknowledgedEvent), because a refusal makes Paystack retry it for 72 hours.
 */
export function parsePaystackWebhook(rawBody: Buffer): Parsed {
  const json = parseJsonObject(rawBody);
  if (!json.ok) return json;
  const body = json.body;
  const eventType = body.event;
  const acted = typeof eventType === 'string' && (PAYMENT_EVENTS.has(eventType) || TRANSFER_EVENTS.has(eventType));
  if (!isRecord(body.data) || typeof eventType !== 'string') {
    // An event we act on must be readable: refused, so Paystack retries and it stays visible.
    if (acted) return { ok: false, reason: 'body is not a Paystack {event, data} envelope' };
    return { ok: true, event: acknowledgedEvent('paystack', eventType, rawBody) };
  }
  const data = body.data;

  if (PAYMENT_EVENTS.has(eventType)) {
    const id = transactionId(data.id);
    if (id === undefined) return { ok: false, reason: 'data.id is missing or not a transaction id' };
    const reference = text(data.reference);
    if (reference === undefined) return { ok: false, reason: 'data.reference is missing' };
    return {
      ok: true,
      event: {
        dedupeKey: `paystack:${id}:${eventType}`,
        eventType,
        paymentId: fromPaystackReference(reference),
        providerTxId: id,
      },
    };
  }
  if (TRANSFER_EVENTS.has(eventType)) {
    const id = transactionId(data.id);
    if (id === undefined) return { ok: false, reason: 'data.id is missing or not a transfer id' };
    return {
      ok: true,
      event: {
        dedupeKey: `paystack:${id}:${eventType}`,
        eventType,
        paymentId: undefined,
        providerTxId: id,
        // A hint for the payout core, which asks GET /transfer/verify/:reference itself.
        ...(token(data.reference) === undefined
          ? {}
          : {
              transfer: {
                reference: token(data.reference) as string,
                providerTransferId: token(data.transfer_code),
                providerStatus: eventType,
              },
            }),
      },
    };
  }
  if (REFUND_EVENTS.has(eventType)) {
    // refund.pending and refund.processing carry neither an id nor a refund_reference yet (the
    // official samples: `refund_reference: null`); the body hash keys them then.
    const id = transactionId(data.id) ?? token(data.refund_reference);
    return { ok: true, event: acknowledgedEvent('paystack', eventType, rawBody, id) };
  }
  return { ok: true, event: acknowledgedEvent('paystack', eventType, rawBody, transactionId(data.id)) };
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 && value.length <= 200 ? value : undefined;
}

function token(value: unknown): string | undefined {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value > 0) return String(value);
  return typeof value === 'string' && /^[A-Za-z0-9_.=-]{1,100}$/.test(value) ? value : undefined;
}

export function createPaystackWebhookHandler(
  secretKeys: ReadonlyArray<{ mode: Mode; secretKey: Secret }>,
): ProviderWebhookHandler {
  return {
    name: 'paystack',
    verifySignature: (rawBody, headers) => verifyPaystackSignature(rawBody, headers, secretKeys),
    parse: parsePaystackWebhook,
  };
}

// ---- Source IPs ----------------------------------------------------------------------------------
// Paystack's published webhook source addresses, the same for test and live (§2.4). A soft check:
// behind a proxy the source address is only as good as the proxy configuration, and the signature
// remains the authentication. Not exercised in test mode, where deliveries come from our simulator.
export const PAYSTACK_WEBHOOK_IPS: readonly string[] = ['52.31.139.75', '52.49.173.169', '52.214.14.220'];

/** Whether `ip` is one of `allowlist` (an IPv4-mapped IPv6 address counts as its IPv4 form). */
export function isPaystackSourceIp(
  ip: string | undefined,
  allowlist: readonly string[] = PAYSTACK_WEBHOOK_IPS,
): boolean {
  const address = normaliseIp(ip?.trim());
  return address !== undefined && allowlist.some((allowed) => normaliseIp(allowed.trim()) === address);
}

/** The check as the ingest path would apply it: off in test mode, the allowlist in live mode. */
export function paystackSourceIpAllowed(
  ip: string | undefined,
  mode: Mode,
  allowlist: readonly string[] = PAYSTACK_WEBHOOK_IPS,
): boolean {
  return mode === 'test' || isPaystackSourceIp(ip, allowlist);
}
