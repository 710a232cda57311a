// Pure mappings between our types and Flutterwave v3's wire format (see
// shared/provider-wire-formats.md §1). No I/O here, so every quirk is unit-testable.
import { isRecord, parseJson } from '../webhook-fields.ts';
import { minorToMajorString } from '../../money/amount.ts';
import { readBanks } from '../bank-list.ts';
import type { ParsedResolve, ParsedVerify } from '../read-answers.ts';
import { answeredCurrency, majorAmountInMinor, withFee } from '../verified-amount.ts';
import type { Bank, CheckoutRequest, RequestProblem, VerifiedTransaction } from '../types.ts';

/** POST /v3/payments body. tx_ref is our payment id: unique per attempt, as Flutterwave requires,
 * even when the merchant retries a failed order with the same reference. */
/** Flutterwave Standard's `session_duration` bounds: minutes, at most 1440 (developer.flutterwave.com
 * collecting-payments/standard). */
export const MAX_SESSION_MINUTES = 1440;

export function toStandardPaymentBody(request: CheckoutRequest, nowMs: number = Date.now()): Record<string, unknown> {
  return {
    tx_ref: request.paymentId,
    amount: minorToMajorString(request.amountMinor, request.currency),
    currency: request.currency,
    redirect_url: request.redirectUrl,
    customer: {
      email: request.customer.email,
      ...(request.customer.name === null ? {} : { name: request.customer.name }),
      // Flutterwave Standard spells it `phonenumber`, without an underscore.
      ...(request.customer.phone === null ? {} : { phonenumber: request.customer.phone }),
    },
    meta: { paywarden_payment_id: request.paymentId, merchant_reference: request.merchantReference },
    customizations: { title: 'Payment', ...(request.description === null ? {} : { description: request.description }) },
    // Our expiry as the checkout's lifetime, so nobody can pay a payment we have already expired
    // (longer than a day is capped: the payment then expires later than its checkout).
    session_duration: Math.min(Math.max(Math.ceil((request.expiresAt - nowMs) / 60_000), 1), MAX_SESSION_MINUTES),
  };
}

// Charge statuses are lowercase in v3. Anything not listed stays pending: only an explicit
// success or failure may change a payment (COL-5).
const CHARGE_STATUS: Readonly<Record<string, VerifiedTransaction['status']>> = {
  successful: 'succeeded',
  failed: 'failed',
  cancelled: 'failed',
  pending: 'pending',
};

export function normaliseChargeStatus(providerStatus: unknown): VerifiedTransaction['status'] {
  return typeof providerStatus === 'string' ? (CHARGE_STATUS[providerStatus.toLowerCase()] ?? 'pending') : 'pending';
}

/** Reads a verify answer (by id or by reference; both share one shape). */
export function parseVerifyResponse(httpStatus: number, body: string): ParsedVerify {
  const parsed = parseJson(body);
  if (parsed === undefined) return { kind: 'malformed', reason: 'verify answer is not JSON' };
  if (!isRecord(parsed)) return { kind: 'malformed', reason: 'verify answer is not an object' };
  // "No transaction was found" comes with 400 or 200 depending on the account (§8 of the notes).
  if (
    parsed.status === 'error' &&
    typeof parsed.message === 'string' &&
    /no transaction was found/i.test(parsed.message)
  )
    return { kind: 'not_found' };
  if (httpStatus === 404) return { kind: 'not_found' };
  if (httpStatus !== 200 || parsed.status !== 'success' || !isRecord(parsed.data))
    return { kind: 'malformed', reason: `unexpected verify answer (HTTP ${httpStatus})` };
  const data = parsed.data;
  if (typeof data.tx_ref !== 'string' || (typeof data.id !== 'number' && typeof data.id !== 'string'))
    return { kind: 'malformed', reason: 'verify answer lacks tx_ref or id' };
  // A missing or unknown currency leaves the amount unconvertible: both then match no order, and
  // verification flags the answer instead of throwing (see verified-amount.ts).
  const currency = answeredCurrency(data.currency);
  return {
    kind: 'found',
    transaction: {
      status: normaliseChargeStatus(data.status),
      providerStatus: String(data.status),
      amountMinor: majorAmountInMinor(data.amount, currency),
      // `app_fee`: Flutterwave's fee in major units (the docs' example: 1.4 on 100 NGN).
      ...withFee(majorAmountInMinor(data.app_fee, currency)),
      currency,
      reference: data.tx_ref,
      providerTxId: String(data.id),
    },
  };
}

// What a refused POST /v3/payments names, as our API's field and why. Flutterwave documents the
// form of a validation error, 400 {"status":"error","message":"<Field> is required"} (its errors
// page: "Cardno is required"), not the texts for Standard's fields, so the field is read from the
// message's words. tx_ref is ours, never the merchant's to fix.
const REFUSED_FIELDS: ReadonlyArray<readonly [RegExp, string, string]> = [
  [/currenc/i, 'currency', 'is not enabled for collections on your Flutterwave account'],
  [/redirect[_ ]?url/i, 'redirect_url', 'is not a URL Flutterwave accepts'],
  [/e-?mail/i, 'customer.email', 'is not an address Flutterwave accepts'],
  [/phone/i, 'customer.phone', 'is not a phone number Flutterwave accepts'],
  [/customer[._ ]?name|full[_ ]?name/i, 'customer.name', 'is not a name Flutterwave accepts'],
  [/amount/i, 'amount', 'is not an amount Flutterwave accepts in this currency'],
];

/** A refusal the merchant can fix: the field (ours) and why, never Flutterwave's own words. */
export function flutterwaveRequestProblem(httpStatus: number, body: string): RequestProblem | undefined {
  if (httpStatus !== 400) return undefined;
  const parsed = parseJson(body);
  if (!isRecord(parsed) || parsed.status !== 'error' || typeof parsed.message !== 'string') return undefined;
  const message = parsed.message;
  if (/tx_ref|reference/i.test(message)) return undefined;
  const found = REFUSED_FIELDS.find(([pattern]) => pattern.test(message));
  if (found === undefined) return undefined;
  const [, param, why] = found;
  // "<field> is required" of a field we send only when the merchant gave it (name, phone): the
  // provider needs what this request leaves out. Of any other field, it refused what we sent.
  if (/\bis required\b/i.test(message) && (param === 'customer.name' || param === 'customer.phone'))
    return { code: 'provider_field_required', param, message: `Flutterwave requires ${param} for this payment.` };
  return { code: 'provider_refused_field', param, message: `${param} ${why}.` };
}

/**
 * tx_ref "must be unique per transaction" (§1.2); the refusal's text is not documented (§8.2), so
 * any 400 error naming a duplicate reference reads as one.
 */
export function isDuplicateTxRef(httpStatus: number, body: string): boolean {
  const parsed = parseJson(body);
  return (
    httpStatus === 400 &&
    isRecord(parsed) &&
    parsed.status === 'error' &&
    typeof parsed.message === 'string' &&
    /duplicate|already (been )?used|already exists/i.test(parsed.message) &&
    /tx_?ref|reference/i.test(parsed.message)
  );
}

export function parseCheckoutResponse(
  httpStatus: number,
  body: string,
): { ok: true; link: string } | { ok: false; reason: string } {
  const parsed = parseJson(body);
  if (parsed === undefined) return { ok: false, reason: `HTTP ${httpStatus}, body is not JSON` };
  if (
    httpStatus === 200 &&
    isRecord(parsed) &&
    parsed.status === 'success' &&
    isRecord(parsed.data) &&
    typeof parsed.data.link === 'string'
  ) {
    return { ok: true, link: parsed.data.link };
  }
  return {
    ok: false,
    reason:
      isRecord(parsed) && typeof parsed.message === 'string' ? parsed.message.slice(0, 200) : `HTTP ${httpStatus}`,
  };
}

/** GET /v3/banks/{country}: `{status:"success", data:[{id, code, name}]}` (§1.6). */
export function parseBanksResponse(
  httpStatus: number,
  body: string,
): { ok: true; banks: Bank[] } | { ok: false; reason: string } {
  const parsed = parseJson(body);
  if (parsed === undefined) return { ok: false, reason: 'banks answer is not JSON' };
  if (httpStatus === 200 && isRecord(parsed) && parsed.status === 'success' && Array.isArray(parsed.data)) {
    return { ok: true, banks: readBanks(parsed.data) };
  }
  return { ok: false, reason: `unexpected banks answer (HTTP ${httpStatus})` };
}

/** POST /v3/accounts/resolve body; for Kenyan M-Pesa, `type: MOBILEMONEY` and the country (§1.7). */
export function toResolveBody(request: {
  accountNumber: string;
  bankCode: string;
  country: string;
  type: 'bank_account' | 'mobile_money';
}): Record<string, string> {
  return request.type === 'mobile_money'
    ? {
        account_number: request.accountNumber,
        account_bank: request.bankCode,
        type: 'MOBILEMONEY',
        country: request.country,
      }
    : { account_number: request.accountNumber, account_bank: request.bankCode };
}

export function parseResolveResponse(httpStatus: number, body: string): ParsedResolve {
  const parsed = parseJson(body);
  if (parsed === undefined) return { kind: 'malformed', reason: 'resolve answer is not JSON' };
  if (!isRecord(parsed)) return { kind: 'malformed', reason: 'resolve answer is not an object' };
  if (
    httpStatus === 200 &&
    parsed.status === 'success' &&
    isRecord(parsed.data) &&
    typeof parsed.data.account_name === 'string'
  ) {
    return {
      kind: 'ok',
      accountNumber: String(parsed.data.account_number ?? ''),
      accountName: parsed.data.account_name,
    };
  }
  // A 400 with an error envelope is Flutterwave saying the account does not resolve.
  if (httpStatus === 400 && parsed.status === 'error')
    return { kind: 'not_found', reason: 'the account could not be resolved' };
  return { kind: 'malformed', reason: `unexpected resolve answer (HTTP ${httpStatus})` };
}
