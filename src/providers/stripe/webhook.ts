// Stripe webhook authentication and parsing (shared/provider-wire-formats.md §3.1, §3.3):
//   Stripe-Signature: t=<unix seconds>,v1=<hex>[,v1=<hex>…]
//   v1 = lowercase hex HMAC-SHA256(key = the WHOLE `whsec_…` string, message = `${t}.${rawBody}`)
// Unlike Standard Webhooks, the `whsec_` prefix is part of the key and nothing is base64-decoded.
// Several v1 entries appear while a secret is rolled; any one matching is enough. Other schemes
// (v0) are ignored. The timestamp rule is stripe-node's (DEFAULT_TOLERANCE 300 s, only timestamps
// older than that are refused): a gateway whose clock runs behind must not refuse Stripe's webhooks.
import { timestampProblem } from '../timestamp-window.ts';
import { isRecord, parseJson } from '../webhook-fields.ts';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { secretKeyObjectFromText } from '../../crypto/key-object.ts';
import type { Secret } from '../../crypto/secret.ts';
import type { Mode } from '../../db/schema.ts';
import { stripeTransferHint } from './payout-webhook.ts';
import type { ProviderWebhookEvent, ProviderWebhookHandler, WebhookCheck } from '../types.ts';
import { paymentIdOf, SESSION_ID } from './transformers.ts';

export const STRIPE_TOLERANCE_SECONDS = 300;

type Headers = Readonly<Record<string, string | string[] | undefined>>;

export function stripeSignature(signedPayload: Buffer | string, timestamp: string, endpointSecret: string): string {
  return createHmac('sha256', secretKeyObjectFromText(endpointSecret))
    .update(`${timestamp}.`)
    .update(signedPayload)
    .digest('hex');
}

/** `t=…,v1=…,v1=…`: the first t, every well-formed v1. */
export function parseSignatureHeader(value: string): { timestamp: string | undefined; v1: string[] } {
  let timestamp: string | undefined;
  const v1: string[] = [];
  for (const item of value.split(',')) {
    const at = item.indexOf('=');
    if (at < 0) continue;
    const key = item.slice(0, at).trim();
    const val = item.slice(at + 1).trim();
    if (key === 't' && timestamp === undefined) timestamp = val;
    else if (key === 'v1' && /^[0-9a-fA-F]{64}$/.test(val)) v1.push(val.toLowerCase());
  }
  return { timestamp, v1 };
}

export function verifyStripeSignature(
  rawBody: Buffer,
  headers: Headers,
  secrets: ReadonlyArray<{ mode: Mode; secret: Secret }>,
  nowSeconds: number,
  toleranceSeconds: number = STRIPE_TOLERANCE_SECONDS,
): WebhookCheck {
  const raw = headers['stripe-signature'];
  const value = Array.isArray(raw) ? raw[0] : raw;
  if (value === undefined || value === '') return { ok: false, reason: 'no Stripe-Signature header' };
  const { timestamp, v1 } = parseSignatureHeader(value);
  const problem = timestampProblem(timestamp, nowSeconds, toleranceSeconds, 'past');
  if (timestamp === undefined || problem === 'not_unix_seconds')
    return { ok: false, reason: 'Stripe-Signature has no t=<unix seconds> timestamp' };
  if (v1.length === 0) return { ok: false, reason: 'Stripe-Signature has no v1 signature' };
  if (problem === 'outside_window')
    return {
      ok: false,
      reason: `Stripe-Signature timestamp is more than ${toleranceSeconds} s old (a replay, or this server's clock runs ahead)`,
    };
  const presented = v1.map((hex) => Buffer.from(hex, 'hex'));
  for (const { mode, secret } of secrets) {
    const expected = Buffer.from(stripeSignature(rawBody, timestamp, secret.reveal()), 'hex');
    // Every entry is compared (constant time each, equal 32-byte lengths).
    let matched = false;
    for (const candidate of presented)
      if (candidate.length === expected.length && timingSafeEqual(candidate, expected)) matched = true;
    if (matched) return { ok: true, mode, scheme: 'stripe-signature-v1' };
  }
  return {
    ok: false,
    reason:
      'no v1 signature matches the raw body (check the whole whsec_ secret, without whitespace, and that the body is not re-serialised)',
  };
}

/** The event types that say something about a payment of ours; other well-formed events are
 * accepted (Stripe would retry a refusal for days) and end up ignored. */
export const PAYMENT_EVENT_TYPES = [
  'checkout.session.completed',
  'checkout.session.expired',
  'checkout.session.async_payment_succeeded',
  'checkout.session.async_payment_failed',
  'payment_intent.succeeded',
  'payment_intent.payment_failed',
] as const;

const EVENT_ID = /^evt_[A-Za-z0-9_]{1,250}$/;
const EVENT_TYPE = /^[a-z0-9_.]{1,100}$/;

export function parseStripeWebhook(
  rawBody: Buffer,
): { ok: true; event: ProviderWebhookEvent } | { ok: false; reason: string } {
  const body = parseJson(rawBody.toString('utf8'));
  if (body === undefined) return { ok: false, reason: 'body is not JSON' };
  if (!isRecord(body) || body.object !== 'event') return { ok: false, reason: 'body is not a Stripe event object' };
  if (typeof body.id !== 'string' || !EVENT_ID.test(body.id))
    return { ok: false, reason: 'event id is missing or malformed' };
  if (typeof body.type !== 'string' || !EVENT_TYPE.test(body.type))
    return { ok: false, reason: 'event type is missing or malformed' };
  if (!isRecord(body.data) || !isRecord(body.data.object)) return { ok: false, reason: 'data.object is missing' };
  const object = body.data.object;
  const dedupeKey = `stripe:${body.id}`;
  if (!(PAYMENT_EVENT_TYPES as readonly string[]).includes(body.type)) {
    const transfer = stripeTransferHint(body.type, object);
    return {
      ok: true,
      event: {
        dedupeKey,
        eventType: body.type,
        paymentId: undefined,
        providerTxId: undefined,
        ...(transfer === undefined ? {} : { transfer }),
      },
    };
  }
  const isSession = body.type.startsWith('checkout.session.');
  if (
    isSession &&
    (object.object !== 'checkout.session' || typeof object.id !== 'string' || !SESSION_ID.test(object.id))
  ) {
    return { ok: false, reason: `${body.type} does not carry a checkout.session` };
  }
  if (
    !isSession &&
    (object.object !== 'payment_intent' || typeof object.id !== 'string' || !/^pi_[A-Za-z0-9_]{1,250}$/.test(object.id))
  ) {
    return { ok: false, reason: `${body.type} does not carry a payment_intent` };
  }
  // A pi_ id is a hint too: verifyPayment maps it to its session with the documented filter.
  return {
    ok: true,
    event: { dedupeKey, eventType: body.type, paymentId: paymentIdOf(object), providerTxId: object.id as string },
  };
}

export function createStripeWebhookHandler(
  secrets: ReadonlyArray<{ mode: Mode; secret: Secret }>,
  clock: { nowMs(): number },
): ProviderWebhookHandler {
  return {
    name: 'stripe',
    verifySignature: (rawBody, headers) =>
      verifyStripeSignature(rawBody, headers, secrets, Math.floor(clock.nowMs() / 1000)),
    parse: parseStripeWebhook,
  };
}
