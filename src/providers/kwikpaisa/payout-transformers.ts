// Pure mappings for KwikPaisa v3 payouts (payouts-research.md §1.5, §1.6). The v3 payout pages
// are cut off after their first fields, so the reading side accepts every variant the sources
// show: `status` true or "success", `code` 200 or "200", the payout under `data` or `return_data`
// (v2's envelope), `txn_status` in any case, amounts as strings or numbers, and the id under
// `payout_order_id` or v2's `merchant_payout_order_id`.
//
// Status table (`txn_status`; only explicit words leave pending):
//   pending -> pending; processing -> processing; success | successful -> succeeded;
//   failed | failure -> failed; reversed -> reversed; anything else -> unknown (never failed).
import { majorToMinor, minorToMajorString } from '../../money/amount.ts';
import type {
  CreateTransferRequest,
  PayoutFailureReason,
  ProviderBalance,
  ProviderTransfer,
  TransferStatus,
} from '../payout-types.ts';
import { isRecord, parseJson } from '../webhook-fields.ts';

export const KWIKPAISA_PAYOUT_CURRENCIES = ['INR'] as const;
const IFSC = /^[A-Z]{4}0[A-Z0-9]{6}$/;

export interface PayoutAccount {
  /** `kwikx_wallet_id`: the merchant's wallet payouts are paid from. */
  readonly walletId: string;
  /** `mobile` (a required field of the create call): the merchant's contact number. */
  readonly mobile: string;
}

/** Why a request cannot go to KwikPaisa as it is, before anything is sent. */
export function payoutProblem(
  request: CreateTransferRequest,
): { reason: PayoutFailureReason; message: string } | undefined {
  const d = request.destination;
  if (d.type !== 'bank_account' || d.country !== 'IN')
    return { reason: 'destination_not_supported', message: 'KwikPaisa pays Indian bank accounts only' };
  if (!IFSC.test(d.bankCode)) return { reason: 'invalid_account', message: 'the bank code must be an IFSC' };
  if (!/^\d{6,20}$/.test(d.accountNumber))
    return { reason: 'invalid_account', message: 'account number: 6 to 20 digits' };
  if (request.currency !== 'INR') return { reason: 'currency_not_supported', message: 'KwikPaisa pays out INR only' };
  if (!Number.isSafeInteger(request.amountMinor) || request.amountMinor <= 0)
    return { reason: 'amount_not_representable', message: 'not a whole number of paise' };
  return undefined;
}

/** POST /api/v3/banking/payment/create. Amount in rupees, exact ("1050.25"); our reference is the payout_order_id. */
export function toPayoutCreateBody(request: CreateTransferRequest, account: PayoutAccount): Record<string, unknown> {
  const d = request.destination;
  if (d.type !== 'bank_account') throw new Error('not a bank account');
  return {
    kwikx_wallet_id: account.walletId,
    debit_account_type: 'kwikx_wallet',
    transfer_type: 'direct',
    mobile: account.mobile,
    beneficiary_mode: 'onetimetransfer',
    transfer_mode: 'IMPS',
    transfer_amount: minorToMajorString(request.amountMinor, 'INR'),
    account_transfer: {
      account_owner_name: d.accountName.slice(0, 100),
      account_number: d.accountNumber,
      ifsc_code: d.bankCode,
      is_validate: 'false',
      payment_for: request.narration.replace(/[^\x20-\x7e]/g, ' ').slice(0, 100),
    },
    payout_order_id: request.reference,
  };
}

export function toPayoutStatusBody(reference: string, walletId: string): Record<string, unknown> {
  return { kwikx_wallet_id: walletId, debit_account_type: 'kwikx_wallet', payout_order_id: reference };
}

export function payoutStatusOf(word: unknown): TransferStatus {
  switch (typeof word === 'string' ? word.trim().toLowerCase() : undefined) {
    case 'pending':
      return 'pending';
    case 'processing':
      return 'processing';
    case 'success':
    case 'successful':
      return 'succeeded';
    case 'failed':
    case 'failure':
      return 'failed';
    case 'reversed':
      return 'reversed';
    default:
      return 'unknown';
  }
}

/** The envelope's payout (`data`, else `return_data`) when the answer says success. */
function successData(httpStatus: number, body: string): Record<string, unknown> | undefined {
  if (httpStatus !== 200) return undefined;
  const parsed = parseJson(body);
  if (!isRecord(parsed)) return undefined;
  const ok = parsed.status === true || parsed.status === 'success';
  const code = parsed.code === undefined || parsed.code === 200 || parsed.code === '200';
  const data = isRecord(parsed.data) ? parsed.data : isRecord(parsed.return_data) ? parsed.return_data : undefined;
  return ok && code ? data : undefined;
}

const messageOf = (body: string): string => {
  const parsed = parseJson(body);
  return isRecord(parsed) && typeof parsed.message === 'string' ? parsed.message.slice(0, 200) : '';
};

const text = (value: unknown) => (typeof value === 'string' || typeof value === 'number' ? String(value) : undefined);

function amountMinorOf(value: unknown): number | undefined {
  const major = text(value);
  if (major === undefined || !/^\d{1,12}(?:\.\d+)?$/.test(major)) return undefined;
  const read = majorToMinor(major, 'INR');
  return read.ok ? read.amountMinor : undefined;
}

export function payoutDataToTransfer(data: Record<string, unknown>, requested: string): ProviderTransfer {
  const status = payoutStatusOf(data.txn_status ?? data.status);
  const message = text(data.msg) ?? text(data.message);
  return {
    status,
    providerStatus: (text(data.txn_status) ?? text(data.status) ?? 'none').slice(0, 40),
    // The status call is keyed by our id; the echo is read, never assumed (v2 samples echo another).
    reference: text(data.payout_order_id) ?? text(data.merchant_payout_order_id) ?? requested,
    providerTransferId: text(data.unique_system_order_id)?.slice(0, 100),
    amountMinor: amountMinorOf(data.transfer_amount ?? data.amount),
    currency: typeof data.currency === 'string' ? data.currency.toUpperCase() : undefined,
    feeMinor: undefined,
    ...(status === 'failed' || status === 'reversed' ? { failureReason: 'other' as const } : {}),
    ...(message === undefined ? {} : { message: message.slice(0, 300) }),
  };
}

export type CreateAnswer =
  | { kind: 'accepted'; transfer: ProviderTransfer }
  | { kind: 'rejected'; reason: PayoutFailureReason; message: string }
  | { kind: 'duplicate_reference'; message: string }
  | { kind: 'indefinite'; reason: string; retryAfterMs?: number; notSent?: boolean };

/**
 * The create answer (§1.6): 200 success with the payout -> accepted; 409 -> the payout_order_id
 * exists (query it); 400/403/422 -> definitely refused, nothing created (insufficient wallet
 * balance among them); 401 (key, signature, timestamp) and 429 -> not processed, re-send the same
 * id; 5xx, 404, a 200 we cannot read, anything else -> indefinite.
 */
export function classifyPayoutCreate(
  httpStatus: number,
  headers: Readonly<Record<string, string | string[] | undefined>>,
  body: string,
  reference: string,
): CreateAnswer {
  const data = successData(httpStatus, body);
  if (data !== undefined) return { kind: 'accepted', transfer: payoutDataToTransfer(data, reference) };
  const message = messageOf(body);
  if (httpStatus === 409) return { kind: 'duplicate_reference', message: message || 'duplicate request' };
  if (httpStatus === 400 || httpStatus === 403 || httpStatus === 422)
    return {
      kind: 'rejected',
      reason: /insufficient|balance/i.test(message)
        ? 'insufficient_funds'
        : httpStatus === 403
          ? 'provider_refused'
          : /account|ifsc/i.test(message)
            ? 'invalid_account'
            : 'provider_refused',
      message: message || `HTTP ${httpStatus}`,
    };
  if (httpStatus === 401)
    return { kind: 'indefinite', reason: `kwikpaisa refused the request signature: ${message}`, notSent: true };
  if (httpStatus === 429) {
    const value = headers['retry-after'];
    const seconds = Number(Array.isArray(value) ? value[0] : value);
    return {
      kind: 'indefinite',
      reason: 'kwikpaisa rate limit',
      notSent: true,
      ...(Number.isFinite(seconds) && seconds >= 0 ? { retryAfterMs: seconds * 1000 } : {}),
    };
  }
  return { kind: 'indefinite', reason: `kwikpaisa answered HTTP ${httpStatus}${message ? `: ${message}` : ''}` };
}

export type StatusAnswer =
  | { kind: 'ok'; value: ProviderTransfer }
  | { kind: 'not_found' }
  | { kind: 'indefinite'; reason: string; retryAfterMs?: number };

export function parsePayoutStatus(httpStatus: number, body: string, reference: string): StatusAnswer {
  const data = successData(httpStatus, body);
  if (data !== undefined) return { kind: 'ok', value: payoutDataToTransfer(data, reference) };
  if (httpStatus === 404) return { kind: 'not_found' };
  return {
    kind: 'indefinite',
    reason: `kwikpaisa status answered HTTP ${httpStatus}: ${messageOf(body) || 'unreadable'}`,
  };
}

export function parseWalletBalance(httpStatus: number, body: string): ProviderBalance[] | undefined {
  const data = successData(httpStatus, body);
  const amount = data === undefined ? undefined : amountMinorOf(data.wallet_balance);
  if (data === undefined || amount === undefined) return undefined;
  const currency = typeof data.default_currency === 'string' ? data.default_currency.toUpperCase() : 'INR';
  return [{ currency, availableMinor: amount, ledgerMinor: undefined }];
}
