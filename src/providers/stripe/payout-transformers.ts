// Pure mappings for Stripe Connect payouts (payouts-research.md §1.4, §1.6): our transfer request
// to the two calls' parameters, Stripe's answers to definite or indefinite outcomes, and the
// payout status table. No I/O, so every rule is unit-testable.
//
// Status table (Stripe payout `status`; only explicit words leave pending):
//   pending -> pending; in_transit -> processing; paid -> succeeded;
//   failed | canceled -> failed, or reversed when the core last saw it succeeded (Stripe: "some
//   payouts that fail might initially show as paid, then change to failed");
//   anything else -> unknown (never failed).
import { isRecord, parseJson } from '../webhook-fields.ts';
import type { CreateTransferRequest, PayoutFailureReason, ProviderTransfer, TransferStatus } from '../payout-types.ts';
import { errorReason, type FormValue } from './transformers.ts';

/** Currencies paid out here: two-decimal, so minor units are Stripe's `amount` as they are. */
export const STRIPE_PAYOUT_CURRENCIES = ['USD', 'EUR', 'GBP'] as const;
export const CONNECTED_ACCOUNT = /^acct_[A-Za-z0-9]{6,60}$/;

/** Each call's Idempotency-Key, derived from the attempt's reference and stored with it by the core. */
export const transferKey = (reference: string) => `${reference}:transfer`;
export const payoutKey = (reference: string) => `${reference}:payout`;
export const reversalKey = (reference: string) => `${reference}:reversal`;

export function toTransferParams(request: CreateTransferRequest, accountId: string): { [key: string]: FormValue } {
  return {
    amount: request.amountMinor,
    currency: request.currency.toLowerCase(),
    destination: accountId,
    // Our reference twice: transfer_group is a list filter (found again when keys are pruned
    // after 24 h), metadata travels with the object and its events.
    transfer_group: request.reference,
    description: request.narration.slice(0, 200),
    metadata: { reference: request.reference, payout_id: request.payoutId },
  };
}

export function toPayoutParams(request: CreateTransferRequest, transferId: string): { [key: string]: FormValue } {
  return {
    amount: request.amountMinor,
    currency: request.currency.toLowerCase(),
    description: request.narration.slice(0, 200),
    metadata: { reference: request.reference, payout_id: request.payoutId, transfer: transferId },
  };
}

export type StripeAnswer =
  | { kind: 'object'; object: Record<string, unknown> }
  /** Stripe executed and refused: nothing moved under this key (a replay says the same). */
  | { kind: 'refused'; reason: PayoutFailureReason; message: string }
  | { kind: 'indefinite'; reason: string; retryAfterMs?: number; notSent?: boolean };

const REFUSAL_REASONS: Readonly<Record<string, PayoutFailureReason>> = {
  balance_insufficient: 'insufficient_funds',
  insufficient_funds: 'insufficient_funds',
  resource_missing: 'invalid_account',
  account_invalid: 'invalid_account',
  payouts_not_allowed: 'destination_not_supported',
  amount_too_small: 'amount_out_of_range',
  amount_too_large: 'amount_out_of_range',
};

function retryAfterMs(headers: Readonly<Record<string, string | string[] | undefined>>): number | undefined {
  const value = headers['retry-after'];
  const seconds = Number(Array.isArray(value) ? value[0] : value);
  return Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : undefined;
}

/**
 * One create call's answer (a transfer, a payout or a reversal). Definite only where Stripe says
 * so: a 200 object, or a 4xx `invalid_request_error` it raised while or before executing (a
 * replay of a saved refusal is the same refusal). Indefinite: 5xx (Stripe saves a 500 under the
 * key: the money may have moved), 409 (a request with this key is still executing), 429,
 * `idempotency_error` (this key was used with other parameters: something else happened under
 * it), 401/403 (our key or access: nothing was done, re-send after fixing), anything unreadable.
 */
export function classifyCreateAnswer(
  httpStatus: number,
  headers: Readonly<Record<string, string | string[] | undefined>>,
  body: string,
  objectName: 'transfer' | 'payout' | 'transfer_reversal',
): StripeAnswer {
  const parsed = parseJson(body);
  if (httpStatus === 200) {
    if (isRecord(parsed) && parsed.object === objectName && typeof parsed.id === 'string')
      return { kind: 'object', object: parsed };
    return { kind: 'indefinite', reason: `stripe answered 200 without a ${objectName}` };
  }
  const reason = errorReason(httpStatus, body);
  if (httpStatus === 429) {
    const wait = retryAfterMs(headers);
    return { kind: 'indefinite', reason, notSent: true, ...(wait === undefined ? {} : { retryAfterMs: wait }) };
  }
  if (httpStatus === 401 || httpStatus === 403) return { kind: 'indefinite', reason, notSent: true };
  const error = isRecord(parsed) && isRecord(parsed.error) ? parsed.error : undefined;
  const hint = headers['stripe-should-retry'];
  if (
    httpStatus >= 400 &&
    httpStatus < 500 &&
    httpStatus !== 409 &&
    error?.type === 'invalid_request_error' &&
    (Array.isArray(hint) ? hint[0] : hint) !== 'true'
  ) {
    const code = typeof error.code === 'string' ? error.code : '';
    return {
      kind: 'refused',
      reason: REFUSAL_REASONS[code] ?? 'provider_refused',
      message: typeof error.message === 'string' ? error.message.slice(0, 300) : reason,
    };
  }
  return { kind: 'indefinite', reason };
}

const FAILURE_REASONS: Readonly<Record<string, PayoutFailureReason>> = {
  insufficient_funds: 'insufficient_funds',
  account_closed: 'invalid_account',
  account_frozen: 'invalid_account',
  bank_account_restricted: 'invalid_account',
  invalid_account_number: 'invalid_account',
  no_account: 'invalid_account',
  invalid_currency: 'currency_not_supported',
  declined: 'provider_refused',
  could_not_process: 'provider_refused',
};

/** The payout status table above; `lastStatus` is what the core last applied for the attempt. */
export function payoutStatus(word: unknown, lastStatus: TransferStatus | undefined): TransferStatus {
  switch (word) {
    case 'pending':
      return 'pending';
    case 'in_transit':
      return 'processing';
    case 'paid':
      return 'succeeded';
    case 'failed':
    case 'canceled':
      return lastStatus === 'succeeded' || lastStatus === 'reversed' ? 'reversed' : 'failed';
    default:
      return 'unknown';
  }
}

const exactMinor = (value: unknown) =>
  typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : undefined;

/** A payout object as our view of the whole pair; undefined when it is not a payout we made. */
export function payoutToTransfer(
  payout: Record<string, unknown>,
  lastStatus: TransferStatus | undefined,
): ProviderTransfer | undefined {
  const metadata = isRecord(payout.metadata) ? payout.metadata : {};
  if (payout.object !== 'payout' || typeof payout.id !== 'string' || typeof metadata.reference !== 'string')
    return undefined;
  const status = payoutStatus(payout.status, lastStatus);
  const failureCode = typeof payout.failure_code === 'string' ? payout.failure_code : undefined;
  return {
    status,
    providerStatus: `payout:${String(payout.status).slice(0, 40)}`,
    reference: metadata.reference,
    providerTransferId: payout.id,
    amountMinor: exactMinor(payout.amount),
    currency: typeof payout.currency === 'string' ? payout.currency.toUpperCase() : undefined,
    feeMinor: undefined,
    ...(status === 'failed' || status === 'reversed'
      ? { failureReason: FAILURE_REASONS[failureCode ?? ''] ?? 'other' }
      : {}),
    ...(typeof payout.failure_message === 'string' ? { message: payout.failure_message.slice(0, 300) } : {}),
  };
}

/**
 * A transfer that came back (reversed) with no payout paid from it: the money is on the
 * platform again, a definite failure. The view the core gets when the payout step was refused
 * and the adapter reversed the transfer.
 */
export function reversedTransferToTransfer(transfer: Record<string, unknown>, reference: string): ProviderTransfer {
  return {
    status: 'failed',
    providerStatus: 'transfer:reversed',
    reference,
    providerTransferId: typeof transfer.id === 'string' ? transfer.id : undefined,
    amountMinor: exactMinor(transfer.amount),
    currency: typeof transfer.currency === 'string' ? transfer.currency.toUpperCase() : undefined,
    feeMinor: undefined,
    failureReason: 'provider_refused',
    message: 'the payout on the connected account was refused; the transfer was reversed',
  };
}

/** The objects of a list answer, or undefined when the answer is not a list. */
export function listData(httpStatus: number, body: string): Record<string, unknown>[] | undefined {
  if (httpStatus !== 200) return undefined;
  const parsed = parseJson(body);
  if (!isRecord(parsed) || parsed.object !== 'list' || !Array.isArray(parsed.data)) return undefined;
  return parsed.data.filter(isRecord);
}
