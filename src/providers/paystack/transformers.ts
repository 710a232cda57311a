// Pure mappings between our types and Paystack's wire format (shared/provider-wire-formats.md §2).
// No I/O here, so every quirk is unit-testable. Paystack speaks integer minor units (kobo,
// pesewas, cents) for every currency it takes, so amounts cross the wire unchanged.
import { isRecord, parseJson } from '../webhook-fields.ts';
import { isValidAmountMinor } from '../../money/amount.ts';
import { readBanks } from '../bank-list.ts';
import type { ParsedResolve, ParsedVerify } from '../read-answers.ts';
import { answeredCurrency, withFee } from '../verified-amount.ts';
import type { Bank, CheckoutRequest, RequestProblem, VerifiedTransaction } from '../types.ts';

// ---- References ----------------------------------------------------------------------------------
// Paystack allows only `-`, `.`, `=` and alphanumerics in a transaction reference (§2.2). Our ids
// are `<prefix>_<base62>` (src/ids.ts), so the underscore becomes a hyphen on the way out and back
// on the way in. Base62 has no hyphen, so the mapping is one-to-one for every id we create.
const PAYSTACK_REFERENCE = /^[A-Za-z0-9.=-]{1,100}$/;
const OUR_REFERENCE_ON_THE_WIRE = /^([a-z]{2,5})-([0-9A-Za-z]{1,64})$/;

/** Our payment id as a Paystack reference: `pay_abc` -> `pay-abc`. */
export function toPaystackReference(paymentId: string): string {
  const reference = paymentId.replaceAll('_', '-');
  if (!PAYSTACK_REFERENCE.test(reference)) throw new Error('payment id cannot be expressed as a Paystack reference');
  return reference;
}

/** A Paystack reference back to our payment id: `pay-abc` -> `pay_abc`. References that are not
 * in our form (another integration on the same account, Paystack's own) are returned unchanged:
 * they name no payment of ours, and the core simply finds none. */
export function fromPaystackReference(reference: string): string {
  const match = OUR_REFERENCE_ON_THE_WIRE.exec(reference);
  return match === null ? reference : `${match[1]}_${match[2]}`;
}

// ---- Initialize ----------------------------------------------------------------------------------

/** POST /transaction/initialize body (§2.2): `amount` is an integer in minor units. */
export function toInitializeBody(request: CheckoutRequest): Record<string, unknown> {
  if (!isValidAmountMinor(request.amountMinor)) throw new Error(`not an amount in minor units: ${request.amountMinor}`);
  return {
    email: request.customer.email,
    amount: request.amountMinor,
    currency: request.currency,
    reference: toPaystackReference(request.paymentId),
    callback_url: request.redirectUrl,
    // Echoed back in verify answers and webhooks; the id is kept in our own form here.
    metadata: {
      paywarden_payment_id: request.paymentId,
      merchant_reference: request.merchantReference,
      ...(request.description === null ? {} : { description: request.description }),
    },
  };
}

export type ParsedInitialize =
  | { kind: 'ok'; authorizationUrl: string; accessCode: string | undefined; reference: string | undefined }
  | { kind: 'rejected'; reason: string }
  | { kind: 'malformed'; reason: string };

/** Reads an initialize answer. A readable Paystack error envelope is a definite refusal; anything
 * else we cannot read is not (the transaction may exist), so the flow reports it as indefinite. */
export function parseInitializeResponse(httpStatus: number, body: string): ParsedInitialize {
  const parsed = parseJson(body);
  if (!isRecord(parsed))
    return { kind: 'malformed', reason: `initialize answer is not a JSON object (HTTP ${httpStatus})` };
  if (
    httpStatus >= 200 &&
    httpStatus < 300 &&
    parsed.status === true &&
    isRecord(parsed.data) &&
    typeof parsed.data.authorization_url === 'string' &&
    /^https?:\/\//.test(parsed.data.authorization_url)
  ) {
    return {
      kind: 'ok',
      authorizationUrl: parsed.data.authorization_url,
      accessCode: typeof parsed.data.access_code === 'string' ? parsed.data.access_code : undefined,
      reference: typeof parsed.data.reference === 'string' ? parsed.data.reference : undefined,
    };
  }
  if (parsed.status === false && httpStatus >= 400 && httpStatus < 500)
    return { kind: 'rejected', reason: errorReason(parsed, httpStatus) };
  return { kind: 'malformed', reason: `unexpected initialize answer (HTTP ${httpStatus})` };
}

/** §2.1: Paystack refuses a repeated reference on initialize (400, `duplicate_reference`,
 * "Duplicate Transaction Reference"); the first transaction under it stands. */
export function isDuplicateReference(httpStatus: number, body: string): boolean {
  const parsed = parseJson(body);
  return (
    httpStatus === 400 &&
    isRecord(parsed) &&
    parsed.status === false &&
    (parsed.code === 'duplicate_reference' ||
      (typeof parsed.message === 'string' && /duplicate transaction reference/i.test(parsed.message)))
  );
}

// ---- Status table --------------------------------------------------------------------------------
// §2.3: success | failed | abandoned | reversed, plus in-flight ongoing | pending | processing |
// queued. Anything not listed stays pending: only an explicit success or failure changes a payment.
const TRANSACTION_STATUS: Readonly<Record<string, VerifiedTransaction['status']>> = {
  success: 'succeeded',
  failed: 'failed',
  // `abandoned` is what Paystack answers for a checkout the customer has not finished yet, and the
  // customer can still pay on the same link: not a definite failure (COL-5). Reconciliation keeps
  // asking and the payment expires if nothing happens.
  abandoned: 'pending',
  reversed: 'failed',
  ongoing: 'pending',
  pending: 'pending',
  processing: 'pending',
  queued: 'pending',
};

export function normaliseTransactionStatus(providerStatus: unknown): VerifiedTransaction['status'] {
  return typeof providerStatus === 'string'
    ? (TRANSACTION_STATUS[providerStatus.toLowerCase()] ?? 'pending')
    : 'pending';
}

// ---- Verify --------------------------------------------------------------------------------------

// "Transaction reference not found" (the verify answer), "Entity not found" (generic 404, §2.1).
const NOT_FOUND_MESSAGE = /(transaction|reference|entity)[\w ]* not found/i;

/** GET /transaction/verify/:reference (§2.3). The top-level `status: true` only says the call
 * worked: an unpaid or failed transaction verifies with `status: true` too. The outcome is
 * `data.status`, and only `"success"` is a payment. */
export function parseVerifyResponse(httpStatus: number, body: string): ParsedVerify {
  const parsed = parseJson(body);
  if (!isRecord(parsed))
    return { kind: 'malformed', reason: `verify answer is not a JSON object (HTTP ${httpStatus})` };
  if (parsed.status === false) {
    // Documented: 404 for an unknown entity; a 400 "Transaction reference not found" is also
    // seen. Both variants (and the `transaction_not_found` code) are read as not found.
    const message = typeof parsed.message === 'string' ? parsed.message : '';
    if (
      (httpStatus === 404 || httpStatus === 400) &&
      (NOT_FOUND_MESSAGE.test(message) || parsed.code === 'transaction_not_found')
    )
      return { kind: 'not_found' };
    return { kind: 'malformed', reason: `verify refused: ${errorReason(parsed, httpStatus)}` };
  }
  if (httpStatus !== 200 || parsed.status !== true || !isRecord(parsed.data))
    return { kind: 'malformed', reason: `unexpected verify answer (HTTP ${httpStatus})` };
  const data = parsed.data;
  if (typeof data.reference !== 'string' || data.reference === '')
    return { kind: 'malformed', reason: 'verify answer lacks data.reference' };
  const id = transactionId(data.id);
  if (id === undefined) return { kind: 'malformed', reason: 'verify answer lacks data.id' };
  if (typeof data.status !== 'string') return { kind: 'malformed', reason: 'verify answer lacks data.status' };
  return {
    kind: 'found',
    transaction: {
      status: normaliseTransactionStatus(data.status),
      providerStatus: data.status.slice(0, 50),
      // With "customer pays the fees", data.amount includes them and requested_amount is the order
      // (the official verify sample: amount 40333 = requested_amount 30050 + fees 10283).
      amountMinor:
        data.requested_amount === undefined ? integerMinor(data.amount) : integerMinor(data.requested_amount),
      ...(data.requested_amount === undefined ? {} : { charged: { amountMinor: integerMinor(data.amount) } }),
      // `fees` is Paystack's fee in subunits, reported whoever bears it (null while unpaid).
      ...withFee(integerMinor(data.fees)),
      currency: answeredCurrency(data.currency),
      reference: fromPaystackReference(data.reference),
      providerTxId: id,
    },
  };
}

/** Paystack amounts are integers in minor units. Anything else (a fraction, a negative, a float
 * beyond 2^53) cannot be compared exactly with the order: undefined, never a guess. Some refund
 * events send the amount as a string of digits, so that form is read too. */
export function integerMinor(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value >= 0 ? value : undefined;
  if (typeof value === 'string' && /^\d{1,16}$/.test(value)) {
    const n = Number(value);
    return Number.isSafeInteger(n) ? n : undefined;
  }
  return undefined;
}

/** A Paystack transaction id: a positive integer, sent as a number (or a digit string). */
export function transactionId(value: unknown): string | undefined {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value > 0) return String(value);
  if (typeof value === 'string' && /^\d{1,20}$/.test(value)) return value;
  return undefined;
}

/** A short reason from an error envelope `{status:false, message, type?, code?}` (§2.1), without
 * echoing anything else of the body. */
// What a refused initialize names, as our API's field and why, for the merchant to fix. Paystack's
// documented refusals: "Email Address is required" (missing_params) and "Currency not supported by
// merchant" (doc-code-snippets api/introduction); amount and callback_url texts are unpublished, so
// the field is read from the message's words. The reference is ours, never the merchant's to fix.
const REFUSED_FIELDS: ReadonlyArray<readonly [RegExp, string, string]> = [
  [/currency not supported by merchant/i, 'currency', 'is not enabled on your Paystack account'],
  [/currenc/i, 'currency', 'is not accepted by Paystack'],
  [/e-?mail/i, 'customer.email', 'is not an address Paystack accepts'],
  [/amount/i, 'amount', 'is not an amount Paystack accepts in this currency'],
  [/callback[_ ]?url/i, 'redirect_url', 'is not a URL Paystack accepts'],
];

/** A refusal the merchant can fix: the field (ours) and why, never Paystack's own words. */
export function paystackRequestProblem(httpStatus: number, body: string): RequestProblem | undefined {
  if (httpStatus !== 400 && httpStatus !== 422) return undefined;
  const parsed = parseJson(body);
  if (!isRecord(parsed) || parsed.status !== false || typeof parsed.message !== 'string') return undefined;
  if (parsed.code === 'duplicate_reference' || /reference/i.test(parsed.message)) return undefined;
  const found = REFUSED_FIELDS.find(([pattern]) => pattern.test(parsed.message as string));
  if (found === undefined) return undefined;
  const [, param, why] = found;
  return { code: 'provider_refused_field', param, message: `${param} ${why}.` };
}

export function errorReason(envelope: Record<string, unknown>, httpStatus: number): string {
  const message = typeof envelope.message === 'string' ? envelope.message.slice(0, 200) : `HTTP ${httpStatus}`;
  const code = typeof envelope.code === 'string' && /^[a-z_]{1,50}$/.test(envelope.code) ? ` (${envelope.code})` : '';
  return `${message}${code}`;
}

// ---- Banks and account resolution (§2.6) ----------------------------------------------------------
/** Paystack names countries in words on GET /bank. */
export const PAYSTACK_BANK_COUNTRIES: Readonly<Record<string, string>> = {
  NG: 'nigeria',
  GH: 'ghana',
  KE: 'kenya',
  ZA: 'south africa',
};

export type ParsedBanks = { ok: true; banks: Bank[]; next: string | null } | { ok: false; reason: string };

export function parseBanksResponse(httpStatus: number, body: string): ParsedBanks {
  const parsed = parseJson(body);
  if (parsed === undefined) return { ok: false, reason: 'banks answer is not JSON' };
  if (httpStatus !== 200 || !isRecord(parsed) || parsed.status !== true || !Array.isArray(parsed.data))
    return { ok: false, reason: `unexpected banks answer (HTTP ${httpStatus})` };
  const banks = readBanks(parsed.data, (b) => b.active !== false && b.is_deleted !== true);
  const next =
    isRecord(parsed.meta) && typeof parsed.meta.next === 'string' && parsed.meta.next !== '' ? parsed.meta.next : null;
  return { ok: true, banks, next };
}

export function parseResolveResponse(httpStatus: number, body: string): ParsedResolve {
  const parsed = parseJson(body);
  if (parsed === undefined) return { kind: 'malformed', reason: 'resolve answer is not JSON' };
  if (!isRecord(parsed)) return { kind: 'malformed', reason: 'resolve answer is not an object' };
  if (
    httpStatus === 200 &&
    parsed.status === true &&
    isRecord(parsed.data) &&
    typeof parsed.data.account_name === 'string'
  ) {
    return {
      kind: 'ok',
      accountNumber: String(parsed.data.account_number ?? ''),
      accountName: parsed.data.account_name,
    };
  }
  // 422 (or 400) with status false: Paystack could not resolve the account.
  if ((httpStatus === 422 || httpStatus === 400) && parsed.status === false)
    return { kind: 'not_found', reason: 'the account could not be resolved' };
  return { kind: 'malformed', reason: `unexpected resolve answer (HTTP ${httpStatus})` };
}
