// Pure mappings between our types and Stripe's wire format (shared/provider-wire-formats.md §3).
// Requests are form-encoded with bracket nesting; answers are bare JSON objects or an
// `{error:{type,code,message,param}}` envelope. No I/O here, so every quirk is unit-testable.
import { isRecord, parseJson } from '../webhook-fields.ts';
import type { CheckoutRequest, VerifiedTransaction } from '../types.ts';
import type { ParsedVerify } from '../read-answers.ts';
import { answeredCurrency } from '../verified-amount.ts';
import { checkCharge, fromWireAmount, wireAmount } from '../../money/provider-amounts.ts';
import { minorToMajorString } from '../../money/amount.ts';
import type { RequestProblem } from '../types.ts';

/** Pinned so a dashboard upgrade of the account's default version cannot change the shapes we
 * read (the version stripe@23.1.0 defaults to, §3.3). */
export const STRIPE_API_VERSION = '2026-10-28.endive';

export type FormValue =
  | string
  | number
  | boolean
  | null
  | undefined
  | readonly FormValue[]
  | { readonly [key: string]: FormValue };

/**
 * `application/x-www-form-urlencoded` with Stripe's bracket nesting:
 * `{line_items:[{price_data:{currency:'usd'}}]}` -> `line_items[0][price_data][currency]=usd`.
 * Brackets stay literal, as stripe-node sends them; null and undefined are left out.
 */
export function encodeForm(params: { readonly [key: string]: FormValue }): string {
  const pairs: string[] = [];
  const walk = (prefix: string, value: FormValue): void => {
    if (value === null || value === undefined) return;
    if (Array.isArray(value)) {
      value.forEach((item: FormValue, index: number) => walk(`${prefix}[${index}]`, item));
      return;
    }
    if (typeof value === 'object') {
      for (const [key, item] of Object.entries(value as { readonly [key: string]: FormValue }))
        walk(`${prefix}[${encodeURIComponent(key)}]`, item);
      return;
    }
    pairs.push(`${prefix}=${encodeURIComponent(String(value))}`);
  };
  for (const [key, value] of Object.entries(params)) walk(encodeURIComponent(key), value);
  return pairs.join('&');
}

/**
 * POST /v1/checkout/sessions parameters. Our payment id goes three ways: `client_reference_id`
 * (on the session), `metadata` (on the session) and `payment_intent_data[metadata]`, because
 * the PaymentIntent Checkout creates does not inherit the session's metadata and its own
 * `payment_intent.*` events would otherwise name no payment of ours.
 */
export function toCheckoutSessionParams(
  request: CheckoutRequest,
  nowMs: number = Date.now(),
): { [key: string]: FormValue } {
  if (!Number.isSafeInteger(request.amountMinor) || request.amountMinor <= 0)
    throw new Error(`not an amount in minor units: ${request.amountMinor}`);
  const metadata = { paywarden_payment_id: request.paymentId, merchant_reference: request.merchantReference };
  const description =
    request.description === null || request.description.trim() === '' ? undefined : request.description;
  return {
    mode: 'payment',
    client_reference_id: request.paymentId,
    // Both URLs are the merchant's redirect: the customer lands back either way, and the merchant
    // reads the outcome from our API, never from the URL.
    success_url: request.redirectUrl,
    cancel_url: request.redirectUrl,
    customer_email: request.customer.email,
    line_items: [
      {
        quantity: 1,
        price_data: {
          // Stripe spells currencies in lowercase; unit_amount is an integer in Stripe's minor units,
          // which are ISO's except for its zero-decimal and special-case currencies (ISK, MGA...).
          currency: request.currency.toLowerCase(),
          unit_amount: wireAmount('stripe', request.currency, request.amountMinor),
          product_data: { name: description ?? 'Payment' },
        },
      },
    ],
    metadata,
    payment_intent_data: { metadata },
    // Our expiry as the session's (Stripe allows 30 minutes to 24 hours from now), so the session
    // cannot be paid after we have expired the payment; outside that range, the nearest bound.
    expires_at: sessionExpiresAt(request.expiresAt, nowMs),
  };
}

export const MIN_SESSION_SECONDS = 30 * 60;
export const MAX_SESSION_SECONDS = 24 * 60 * 60;

/** Our expiry in Stripe's bounds, in UNIX seconds (a minute inside each, for clock skew). */
export function sessionExpiresAt(expiresAtMs: number, nowMs: number): number {
  const now = Math.floor(nowMs / 1000);
  const wanted = Math.floor(expiresAtMs / 1000);
  return Math.min(Math.max(wanted, now + MIN_SESSION_SECONDS + 60), now + MAX_SESSION_SECONDS - 60);
}

const SAFE_TOKEN = /^[A-Za-z0-9_.-]{1,60}$/;
const token = (value: unknown): string | undefined =>
  typeof value === 'string' && SAFE_TOKEN.test(value) ? value : undefined;

/** Stripe object ids: `cs_test_…`, `pi_…`, `evt_…`. */
export const SESSION_ID = /^cs_[A-Za-z0-9_]{1,250}$/;
export const PAYMENT_INTENT_ID = /^pi_[A-Za-z0-9_]{1,250}$/;

/**
 * A short, safe reason from an error envelope: its type and code (identifiers Stripe documents),
 * never its message, which may quote request values back.
 */
export function errorReason(httpStatus: number, body: string): string {
  const parsed = parseJson(body);
  if (parsed === undefined) return `stripe answered HTTP ${httpStatus} without a JSON body`;
  const error = isRecord(parsed) && isRecord(parsed.error) ? parsed.error : undefined;
  if (error === undefined) return `stripe answered HTTP ${httpStatus} without an error envelope`;
  const parts = [token(error.type), token(error.code)].filter((p): p is string => p !== undefined);
  const param =
    typeof error.param === 'string' && /^[a-z0-9_[\]]{1,80}$/.test(error.param) ? ` (param ${error.param})` : '';
  return `stripe refused the request: ${parts.length > 0 ? parts.join('/') : 'unknown error'}${param}, HTTP ${httpStatus}`;
}

/** Stripe asks for a retry of what may not have been applied: 409 (a concurrent request with the
 * same idempotency key) or `Stripe-Should-Retry: true`. */
export function shouldRetry(
  httpStatus: number,
  headers: Readonly<Record<string, string | string[] | undefined>>,
): boolean {
  const hint = headers['stripe-should-retry'];
  return httpStatus === 409 || (Array.isArray(hint) ? hint[0] : hint) === 'true';
}

export type ParsedCheckout = { ok: true; sessionId: string; url: string } | { ok: false; reason: string };

export function parseCheckoutSessionResponse(httpStatus: number, body: string): ParsedCheckout {
  if (httpStatus !== 200) return { ok: false, reason: errorReason(httpStatus, body) };
  const parsed = parseJson(body);
  if (parsed === undefined) return { ok: false, reason: 'checkout session answer is not JSON' };
  if (
    !isRecord(parsed) ||
    parsed.object !== 'checkout.session' ||
    typeof parsed.id !== 'string' ||
    !SESSION_ID.test(parsed.id)
  ) {
    return { ok: false, reason: 'checkout session answer is not a checkout.session' };
  }
  if (typeof parsed.url !== 'string' || !/^https?:\/\//.test(parsed.url))
    return { ok: false, reason: 'checkout session answer has no hosted url' };
  return { ok: true, sessionId: parsed.id, url: parsed.url };
}

/**
 * Session state to our status (docs.stripe.com/checkout/fulfillment). Only `payment_status: paid`
 * is success. Failure: an unpaid session that expired (it can no longer be paid), or a complete
 * but unpaid one whose PaymentIntent (read with `expand[]=payment_intent`) went back to
 * `requires_payment_method` or `canceled`: a delayed method (bank debit) that failed, which
 * `checkout.session.async_payment_failed` announces. A complete, unpaid session otherwise is a
 * delayed method still settling: pending and in flight (never expired while so). Everything else,
 * including an open session after a declined card, stays pending (COL-5).
 */
export function normaliseSessionStatus(session: {
  readonly status?: unknown;
  readonly payment_status?: unknown;
  readonly payment_intent?: unknown;
}): { status: VerifiedTransaction['status']; inFlight: boolean } {
  if (session.payment_status === 'paid') return { status: 'succeeded', inFlight: false };
  if (session.payment_status === 'unpaid' && session.status === 'expired') return { status: 'failed', inFlight: false };
  if (session.payment_status === 'unpaid' && session.status === 'complete') {
    const intent = isRecord(session.payment_intent) ? session.payment_intent.status : undefined;
    if (intent === 'requires_payment_method' || intent === 'canceled') return { status: 'failed', inFlight: false };
    return { status: 'pending', inFlight: true };
  }
  return { status: 'pending', inFlight: false };
}

/** The reference we gave: `client_reference_id`, else our metadata key. */
export function paymentIdOf(object: Record<string, unknown>): string | undefined {
  const fromClient = object.client_reference_id;
  if (typeof fromClient === 'string' && fromClient.length > 0 && fromClient.length <= 200) return fromClient;
  const metadata = isRecord(object.metadata) ? object.metadata.paywarden_payment_id : undefined;
  return typeof metadata === 'string' && metadata.length > 0 && metadata.length <= 200 ? metadata : undefined;
}

export type ParsedSession = { kind: 'found'; transaction: VerifiedTransaction } | { kind: 'malformed'; reason: string };

export function sessionToTransaction(session: unknown): ParsedSession {
  if (
    !isRecord(session) ||
    session.object !== 'checkout.session' ||
    typeof session.id !== 'string' ||
    !SESSION_ID.test(session.id)
  ) {
    return { kind: 'malformed', reason: 'answer is not a checkout.session' };
  }
  const reference = paymentIdOf(session);
  if (reference === undefined) return { kind: 'malformed', reason: 'checkout.session has no client_reference_id' };
  const amount = session.amount_total;
  const { status, inFlight } = normaliseSessionStatus(session);
  const intentStatus = isRecord(session.payment_intent) ? token(session.payment_intent.status) : undefined;
  return {
    kind: 'found',
    transaction: {
      status,
      ...(inFlight ? { inFlight: true as const } : {}),
      providerStatus: `${String(session.status).slice(0, 30)}/${String(session.payment_status).slice(0, 30)}${intentStatus === undefined ? '' : `/${intentStatus}`}`,
      // Stripe's minor units back to ISO's; anything but a non-negative safe integer (or, for ISK,
      // a whole number of krónur) compares equal to nothing. With no currency we can read, the
      // amount is kept as sent: the currency mismatch already refuses the payment.
      amountMinor: stripeAmountInMinor(amount, answeredCurrency(session.currency)),
      currency: answeredCurrency(session.currency),
      reference,
      providerTxId: session.id,
    },
  };
}

function errorOf(body: string): Record<string, unknown> | undefined {
  const parsed = parseJson(body);
  return isRecord(parsed) && isRecord(parsed.error) ? parsed.error : undefined;
}

/** GET /v1/checkout/sessions/:id. */
export function parseRetrieveSessionResponse(httpStatus: number, body: string): ParsedVerify {
  if (httpStatus === 404 && errorOf(body)?.code === 'resource_missing') return { kind: 'not_found' };
  if (httpStatus !== 200)
    return errorOf(body) === undefined
      ? { kind: 'malformed', reason: `unexpected session answer (HTTP ${httpStatus})` }
      : { kind: 'rejected', reason: errorReason(httpStatus, body) };
  const parsed = parseJson(body);
  if (parsed === undefined) return { kind: 'malformed', reason: 'session answer is not JSON' };
  return sessionToTransaction(parsed);
}

/** GET /v1/checkout/sessions?payment_intent=pi_…: a list with at most one session. */
export function parseListSessionsResponse(httpStatus: number, body: string): ParsedVerify {
  if (httpStatus !== 200)
    return errorOf(body) === undefined
      ? { kind: 'malformed', reason: `unexpected list answer (HTTP ${httpStatus})` }
      : { kind: 'rejected', reason: errorReason(httpStatus, body) };
  const parsed = parseJson(body);
  if (parsed === undefined) return { kind: 'malformed', reason: 'list answer is not JSON' };
  if (!isRecord(parsed) || parsed.object !== 'list' || !Array.isArray(parsed.data))
    return { kind: 'malformed', reason: 'answer is not a list' };
  const [first] = parsed.data as unknown[];
  return first === undefined ? { kind: 'not_found' } : sessionToTransaction(first);
}

function stripeAmountInMinor(amount: unknown, currency: string): number | undefined {
  if (typeof amount !== 'number' || !Number.isSafeInteger(amount) || amount < 0) return undefined;
  return currency === '' ? amount : fromWireAmount('stripe', currency, amount);
}

/** Stripe's published amount rules (minimum charge, whole units), before Stripe is called. */
export function checkStripeAmount(amountMinor: number, currency: string): RequestProblem | undefined {
  const check = checkCharge('stripe', currency, amountMinor);
  if (check.ok) return undefined;
  if (check.problem === 'below_minimum')
    return {
      code: 'amount_below_minimum',
      param: 'amount',
      message: `Stripe's minimum charge in ${currency} is ${minorToMajorString(check.minimumMinor, currency)} (amount ${check.minimumMinor}).`,
    };
  return {
    code: 'amount_not_accepted',
    param: 'amount',
    message: `Stripe charges ${currency} only in multiples of ${check.multipleOfMinor} minor units (${minorToMajorString(check.multipleOfMinor, currency)} ${currency}).`,
  };
}

// Stripe's `param` (and error code) for the request fields we send, as our API names them.
const PARAM_FIELDS: ReadonlyArray<readonly [RegExp, string]> = [
  [/^line_items\[\d+\]\[price_data\]\[unit_amount\]$/, 'amount'],
  [/^line_items\[\d+\]\[price_data\]\[currency\]$/, 'currency'],
  [/^customer_email$/, 'customer.email'],
  [/^(success|cancel)_url$/, 'redirect_url'],
  [/^line_items\[\d+\]\[price_data\]\[product_data\]\[name\]$/, 'description'],
];
const CODE_REASONS: Readonly<Record<string, string>> = {
  amount_too_small: "is below Stripe's minimum charge",
  amount_too_large: "is above Stripe's maximum charge",
  invalid_charge_amount_no_decimal_compatible: 'is not a whole number of units in this currency',
  email_invalid: 'is not an address Stripe accepts',
  url_invalid: 'is not a URL Stripe accepts',
};

/** A refusal the merchant can fix: Stripe's `param` as our field, and a reason of ours. */
export function stripeRequestProblem(httpStatus: number, body: string): RequestProblem | undefined {
  if (httpStatus !== 400) return undefined;
  const error = errorOf(body);
  if (error === undefined || typeof error.param !== 'string') return undefined;
  const param = error.param;
  const field = PARAM_FIELDS.find(([pattern]) => pattern.test(param))?.[1];
  if (field === undefined) return undefined;
  const reason = (typeof error.code === 'string' ? CODE_REASONS[error.code] : undefined) ?? 'is not accepted by Stripe';
  return { code: 'provider_refused_field', param: field, message: `${field} ${reason}.` };
}
