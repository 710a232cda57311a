// Stripe shapes as the real API sends them (shared/provider-wire-formats.md §3): form bodies with
// bracket nesting in, bare objects or an error envelope out, events signed with Stripe-Signature.
import { createHash, createHmac } from 'node:crypto';
import type { Session } from './state.ts';

export const SIM_API_VERSION = '2026-10-28.endive';

export type FormTree = { [key: string]: FormNode };
export type FormNode = string | FormNode[] | FormTree;

const MAX_PAIRS = 1000;
const MAX_DEPTH = 6;
const FORBIDDEN = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * `a[b][0][c]=x&a[b][0][d]=y` -> `{a:{b:[{c:'x',d:'y'}]}}`. Objects whose keys are exactly
 * 0..n-1 become arrays (Stripe's `line_items[0]`); `a[]=x` appends. Throws on malformed input.
 */
export function decodeForm(body: string): FormTree {
  const root: FormTree = Object.create(null) as FormTree;
  if (body === '') return root;
  const pairs = body.split('&');
  if (pairs.length > MAX_PAIRS) throw new Error('too many parameters');
  for (const pair of pairs) {
    if (pair === '') continue;
    const at = pair.indexOf('=');
    const rawKey = at < 0 ? pair : pair.slice(0, at);
    const rawValue = at < 0 ? '' : pair.slice(at + 1);
    const key = decodeURIComponent(rawKey.replace(/\+/g, ' '));
    const value = decodeURIComponent(rawValue.replace(/\+/g, ' '));
    const match = /^([^[\]]+)((?:\[[^[\]]*\])*)$/.exec(key);
    if (match === null) throw new Error(`malformed parameter name ${JSON.stringify(key.slice(0, 80))}`);
    const path = [match[1]!, ...[...(match[2] ?? '').matchAll(/\[([^[\]]*)\]/g)].map((m) => m[1]!)];
    if (path.length > MAX_DEPTH) throw new Error('parameters nested too deeply');
    if (path.some((segment) => FORBIDDEN.has(segment))) throw new Error('forbidden parameter name');
    let node: FormTree = root;
    for (let i = 0; i < path.length; i++) {
      const segment = path[i] === '' ? String(Object.keys(node).length) : path[i]!;
      if (i === path.length - 1) {
        if (typeof node[segment] === 'object') throw new Error(`parameter ${path[0]} is both a value and an object`);
        node[segment] = value;
      } else {
        const next = node[segment];
        if (typeof next === 'string') throw new Error(`parameter ${path[0]} is both a value and an object`);
        if (next === undefined) node[segment] = Object.create(null) as FormTree;
        node = node[segment] as FormTree;
      }
    }
  }
  return arrayify(root) as FormTree;
}

function arrayify(node: FormNode): FormNode {
  if (typeof node === 'string' || Array.isArray(node)) return node;
  const keys = Object.keys(node);
  const converted: FormTree = Object.create(null) as FormTree;
  for (const key of keys) converted[key] = arrayify(node[key]!);
  if (keys.length > 0 && keys.every((k, i) => k === String(i))) return keys.map((k) => converted[k]!);
  return converted;
}

/** Canonical form of a request's parameters: "the same parameters" for idempotency. */
export function fingerprint(params: FormNode): string {
  const canonical = (node: FormNode): unknown =>
    typeof node === 'string'
      ? node
      : Array.isArray(node)
        ? node.map(canonical)
        : Object.fromEntries(
            Object.keys(node)
              .sort()
              .map((k) => [k, canonical(node[k]!)]),
          );
  return createHash('sha256')
    .update(JSON.stringify(canonical(params)))
    .digest('hex');
}

export function errorEnvelope(
  type: string,
  message: string,
  extra: { code?: string; param?: string } = {},
): { error: Record<string, string> } {
  return {
    error: {
      type,
      ...(extra.code === undefined
        ? {}
        : { code: extra.code, doc_url: `https://stripe.com/docs/error-codes/${extra.code.replace(/_/g, '-')}` }),
      message,
      ...(extra.param === undefined ? {} : { param: extra.param }),
    },
  };
}

/** The delayed method a session offers beside card, by currency (Stripe's; checkout-flow.ts has
 * the behaviour): ACH debit, SEPA Direct Debit, Bacs. */
export const DELAYED_METHOD: Readonly<Record<string, string>> = {
  usd: 'us_bank_account',
  eur: 'sepa_debit',
  gbp: 'bacs_debit',
};

export function sessionObject(
  session: Session,
  overrides: { amountTotal?: number; currency?: string; expandPaymentIntent?: boolean } = {},
): Record<string, unknown> {
  const amountTotal = overrides.amountTotal ?? session.amountTotal;
  const delayed = DELAYED_METHOD[session.currency];
  return {
    id: session.id,
    object: 'checkout.session',
    amount_subtotal: amountTotal,
    amount_total: amountTotal,
    cancel_url: session.cancelUrl,
    client_reference_id: session.clientReferenceId,
    created: session.created,
    currency: overrides.currency ?? session.currency,
    customer: null,
    customer_details: session.status === 'complete' ? { email: session.customerEmail, name: null, phone: null } : null,
    customer_email: session.customerEmail,
    expires_at: session.expiresAt,
    livemode: false,
    metadata: session.metadata,
    mode: session.mode,
    // `expand[]=payment_intent` puts the object in place of its id.
    payment_intent:
      overrides.expandPaymentIntent === true && session.payment_intent !== null && session.piStatus !== null
        ? paymentIntentObject(session, session.piStatus, session.created)
        : session.payment_intent,
    payment_method_types: delayed === undefined ? ['card'] : ['card', delayed],
    payment_status: session.payment_status,
    status: session.status,
    success_url: session.successUrl,
    // Stripe clears the hosted URL once the session is no longer open.
    url: session.status === 'open' ? session.hostedUrl : null,
  };
}

/** The PaymentIntent behind a session, as sent with payment_intent.* events. */
export function paymentIntentObject(
  session: Session,
  status: 'succeeded' | 'requires_payment_method' | 'processing',
  created: number,
): Record<string, unknown> {
  return {
    id: session.paymentIntentId,
    object: 'payment_intent',
    amount: session.amountTotal,
    amount_received: status === 'succeeded' ? session.amountTotal : 0,
    created,
    currency: session.currency,
    last_payment_error:
      status !== 'requires_payment_method'
        ? null
        : {
            type: 'card_error',
            code: 'card_declined',
            decline_code: 'generic_decline',
            message: 'Your card was declined.',
          },
    livemode: false,
    metadata: session.paymentIntentMetadata,
    payment_method_types: session.paymentMethod === null ? ['card'] : [session.paymentMethod],
    status,
  };
}

export function eventBody(id: string, type: string, object: Record<string, unknown>, created: number): string {
  return JSON.stringify({
    id,
    object: 'event',
    api_version: SIM_API_VERSION,
    created,
    data: { object },
    livemode: false,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
    type,
  });
}

/** hex HMAC-SHA256 of `${t}.${body}`, keyed with the whole `whsec_…` string (§3.1). */
export function stripeSignature(body: string, timestamp: number, secret: string): string {
  return createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
}

export function signatureHeader(body: string, timestamp: number, secrets: readonly string[]): string {
  return [`t=${timestamp}`, ...secrets.map((secret) => `v1=${stripeSignature(body, timestamp, secret)}`)].join(',');
}
