// Flutterwave v3 transfers (payouts research §1.2): pure mapping of our payout to the wire and
// of the wire back to the core's normalised view. Amounts are major units on the wire, written as
// the exact decimal text of our minor units (never a float computed from them) and read back
// exactly (src/money); an amount that cannot be read exactly is reported as undefined (review).
import { majorToMinor, minorToMajorString } from '../../money/amount.ts';
import type {
  CreateTransferOutcome,
  CreateTransferRequest,
  PayoutFailureReason,
  ProviderBalance,
  ProviderTransfer,
  TransferStatus,
} from '../payout-types.ts';
import { isRecord, parseJson } from '../webhook-fields.ts';

const AMOUNT_SLOT = '"__paywarden_amount__"';

/** The POST /v3/transfers body, with the amount as a JSON number spelled exactly. */
export function toTransferBody(request: CreateTransferRequest): string {
  const d = request.destination;
  if (d.type === 'connected_account') throw new Error('Flutterwave does not pay connected accounts');
  const body = {
    account_bank: d.bankCode,
    account_number: d.accountNumber,
    amount: AMOUNT_SLOT.slice(1, -1),
    currency: request.currency,
    debit_currency: request.currency,
    narration: request.narration,
    reference: request.reference,
    beneficiary_name: d.accountName,
    meta: { paywarden_payout: request.payoutId },
  };
  return JSON.stringify(body).replace(AMOUNT_SLOT, minorToMajorString(request.amountMinor, request.currency));
}

/** Flutterwave's words; anything else is unknown, never failed. */
const STATUSES: Readonly<Record<string, TransferStatus>> = {
  NEW: 'pending',
  PENDING: 'processing',
  SUCCESSFUL: 'succeeded',
  FAILED: 'failed',
};

export function failureReasonOf(message: string): PayoutFailureReason {
  if (/insufficient (funds|balance)/i.test(message)) return 'insufficient_funds';
  if (/account (number )?is invalid|invalid account|could not resolve/i.test(message)) return 'invalid_account';
  if (/only spend|limit/i.test(message)) return 'limit_exceeded';
  return 'other';
}

const text = (value: unknown, max = 300) => (typeof value === 'string' ? value.slice(0, max) : undefined);

/** One transfer object (create answer, GET by id, list item) as the core sees it. */
export function readTransfer(data: Record<string, unknown>): ProviderTransfer | undefined {
  const reference = text(data.reference, 100);
  const providerStatus = text(data.status, 50);
  const currency = text(data.currency, 3);
  if (reference === undefined || providerStatus === undefined) return undefined;
  const status = STATUSES[providerStatus.toUpperCase()] ?? 'unknown';
  const amount =
    currency === undefined || (typeof data.amount !== 'number' && typeof data.amount !== 'string')
      ? undefined
      : majorToMinor(data.amount, currency);
  const fee = currency === undefined || typeof data.fee !== 'number' ? undefined : majorToMinor(data.fee, currency);
  const message = text(data.complete_message);
  return {
    status,
    providerStatus,
    reference,
    providerTransferId: typeof data.id === 'number' || typeof data.id === 'string' ? String(data.id) : undefined,
    amountMinor: amount?.ok === true ? amount.amountMinor : undefined,
    currency,
    feeMinor: fee?.ok === true ? fee.amountMinor : undefined,
    ...(status === 'failed' && message !== undefined ? { failureReason: failureReasonOf(message) } : {}),
    ...(message === undefined || message === '' ? {} : { message }),
  };
}

/** The create answer. A 4xx is a refusal unless it says the reference exists (then it exists). */
export function readCreateAnswer(httpStatus: number, body: string): CreateTransferOutcome {
  const json = parseJson(body);
  if (!isRecord(json)) return { kind: 'indefinite', reason: `unreadable answer (HTTP ${httpStatus})` };
  const message = text(json.message) ?? '';
  if (httpStatus === 200 && json.status === 'success' && isRecord(json.data)) {
    const transfer = readTransfer(json.data);
    return transfer === undefined
      ? { kind: 'indefinite', reason: 'transfer object without reference or status' }
      : { kind: 'accepted', transfer };
  }
  // Not our request's fault: keys or the IP whitelist. Nothing was processed; fix and resend.
  if (httpStatus === 401 || httpStatus === 403)
    return { kind: 'indefinite', reason: `refused before processing (HTTP ${httpStatus}): ${message}`, notSent: true };
  if (httpStatus >= 400 && httpStatus < 500 && json.status === 'error') {
    // The duplicate body is not documented (§1.2 UNCERTAIN): integrators match these words.
    if (/already exists|duplicate/i.test(message)) return { kind: 'duplicate_reference', message };
    const reason = failureReasonOf(message);
    return { kind: 'rejected', reason: reason === 'other' ? 'provider_refused' : reason, message };
  }
  return { kind: 'indefinite', reason: `unexpected answer (HTTP ${httpStatus})` };
}

/** GET /v3/transfers/:id or ?reference=: the transfer, not_found, or indefinite. */
export function readGetAnswer(
  httpStatus: number,
  body: string,
  reference: string,
): { kind: 'ok'; value: ProviderTransfer } | { kind: 'not_found' } | { kind: 'indefinite'; reason: string } {
  const json = parseJson(body);
  if (!isRecord(json)) return { kind: 'indefinite', reason: `unreadable answer (HTTP ${httpStatus})` };
  if (json.status === 'success') {
    const items = Array.isArray(json.data) ? json.data : [json.data];
    const match = items.find((item) => isRecord(item) && item.reference === reference);
    if (match === undefined) return { kind: 'not_found' };
    const transfer = readTransfer(match as Record<string, unknown>);
    return transfer === undefined
      ? { kind: 'indefinite', reason: 'transfer object unreadable' }
      : { kind: 'ok', value: transfer };
  }
  if ((httpStatus === 400 || httpStatus === 404) && /not found|no transfer/i.test(text(json.message) ?? ''))
    return { kind: 'not_found' };
  return { kind: 'indefinite', reason: `unexpected answer (HTTP ${httpStatus})` };
}

export function readBalances(httpStatus: number, body: string): ProviderBalance[] | undefined {
  const json = parseJson(body);
  if (httpStatus !== 200 || !isRecord(json) || !Array.isArray(json.data)) return undefined;
  const out: ProviderBalance[] = [];
  for (const item of json.data) {
    if (!isRecord(item) || typeof item.currency !== 'string') continue;
    const available = majorToMinor(item.available_balance as number, item.currency);
    const ledger = majorToMinor(item.ledger_balance as number, item.currency);
    if (!available.ok) continue;
    out.push({
      currency: item.currency,
      availableMinor: available.amountMinor,
      ledgerMinor: ledger.ok ? ledger.amountMinor : undefined,
    });
  }
  return out;
}
