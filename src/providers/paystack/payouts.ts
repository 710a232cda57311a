// Paystack payouts (payout-types.ts; payouts research §1.3): a transfer recipient (RCP_) per
// beneficiary first, then POST /transfer from the balance in kobo under our reference, which
// Paystack documents as the idempotency lever ("retry a non-conclusive transfer rather than
// initiate a new request"); GET /transfer/verify/:reference decides. The OTP step: `otp` is
// requires_action, POST /transfer/finalize_transfer completes it; not given in 30 minutes,
// Paystack abandons the transfer (a definite failure). Its conclusive statuses are the model
// for every adapter's table: success, reversed, failed, abandoned, blocked, rejected.
import type { HttpClient } from '../../http/outbound.ts';
import type {
  CreateTransferOutcome,
  PayoutDestination,
  PayoutFailureReason,
  PayoutProvider,
  ProviderTransfer,
  TransferStatus,
} from '../payout-types.ts';
import { isRecord, parseJson } from '../webhook-fields.ts';

export const PAYSTACK_PAYOUT_CURRENCIES = ['NGN', 'GHS', 'KES', 'ZAR'];
const CURRENCY_OF_COUNTRY: Readonly<Record<string, string>> = { NG: 'NGN', GH: 'GHS', KE: 'KES', ZA: 'ZAR' };
const RECIPIENT_TYPE: Readonly<Record<string, string>> = { NG: 'nuban', GH: 'ghipss', KE: 'kepss', ZA: 'basa' };

const STATUSES: Readonly<Record<string, { status: TransferStatus; reason?: PayoutFailureReason }>> = {
  received: { status: 'pending' },
  pending: { status: 'processing' },
  otp: { status: 'requires_action' },
  success: { status: 'succeeded' },
  failed: { status: 'failed', reason: 'provider_refused' },
  abandoned: { status: 'failed', reason: 'otp_abandoned' },
  blocked: { status: 'failed', reason: 'declined_by_approval' },
  rejected: { status: 'failed', reason: 'declined_by_approval' },
  reversed: { status: 'reversed', reason: 'other' },
};

const text = (value: unknown, max = 300) => (typeof value === 'string' ? value.slice(0, max) : undefined);

export function readPaystackTransfer(data: Record<string, unknown>): ProviderTransfer | undefined {
  const reference = text(data.reference, 100);
  const providerStatus = text(data.status, 50);
  if (reference === undefined || providerStatus === undefined) return undefined;
  const mapped = STATUSES[providerStatus.toLowerCase()];
  const amount = data.amount;
  const fee = data.fee_charged;
  return {
    status: mapped?.status ?? 'unknown',
    providerStatus,
    reference,
    providerTransferId: text(data.transfer_code, 60),
    // Kobo on the wire: an integer is exact; anything else is not an amount we can trust.
    amountMinor: typeof amount === 'number' && Number.isSafeInteger(amount) ? amount : undefined,
    currency: text(data.currency, 3),
    feeMinor: typeof fee === 'number' && Number.isSafeInteger(fee) ? fee : undefined,
    ...(mapped?.reason === undefined ? {} : { failureReason: mapped.reason }),
    ...(text(data.gateway_response) === undefined ? {} : { message: text(data.gateway_response) }),
  };
}

/** The duplicate body is undocumented (§1.3 UNCERTAIN): every phrasing integrators have matched. */
const DUPLICATE =
  /reference has already been used|reference already exists|duplicate transfer reference|duplicate_reference/i;

export function readPaystackCreate(httpStatus: number, body: string): CreateTransferOutcome {
  const json = parseJson(body);
  if (!isRecord(json)) return { kind: 'indefinite', reason: `unreadable answer (HTTP ${httpStatus})` };
  const message = text(json.message) ?? '';
  if (httpStatus === 200 && json.status === true && isRecord(json.data)) {
    const transfer = readPaystackTransfer(json.data);
    return transfer === undefined
      ? { kind: 'indefinite', reason: 'transfer unreadable' }
      : { kind: 'accepted', transfer };
  }
  if (httpStatus === 401 || httpStatus === 403)
    return { kind: 'indefinite', reason: `refused before processing (HTTP ${httpStatus})`, notSent: true };
  if (httpStatus >= 400 && httpStatus < 500 && json.status === false) {
    if (DUPLICATE.test(message) || json.code === 'duplicate_reference') return { kind: 'duplicate_reference', message };
    if (/balance is not enough|insufficient/i.test(message) || json.code === 'insufficient_balance')
      return { kind: 'rejected', reason: 'insufficient_funds', message };
    if (json.code === 'invalid_transfer_recipient') return { kind: 'rejected', reason: 'invalid_account', message };
    return { kind: 'rejected', reason: 'provider_refused', message };
  }
  return { kind: 'indefinite', reason: `unexpected answer (HTTP ${httpStatus})` };
}

export function createPaystackPayouts(
  base: string,
  headers: () => Record<string, string>,
  http: HttpClient,
): PayoutProvider {
  const read = async (method: 'GET' | 'POST', path: string, body?: unknown) =>
    http.send({
      method,
      url: `${base}${path}`,
      headers: headers(),
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });

  return {
    name: 'paystack',
    currencies: PAYSTACK_PAYOUT_CURRENCIES,
    destinations: ['bank_account', 'mobile_money'],
    notFoundGraceMs: 30 * 60_000,

    async ensureRecipient(destination: PayoutDestination) {
      if (destination.type === 'connected_account')
        return { kind: 'rejected', reason: 'Paystack pays no connected accounts' };
      const outcome = await read('POST', '/transferrecipient', {
        type: destination.type === 'mobile_money' ? 'mobile_money' : (RECIPIENT_TYPE[destination.country] ?? 'nuban'),
        name: destination.accountName,
        account_number: destination.accountNumber,
        bank_code: destination.bankCode,
        currency: CURRENCY_OF_COUNTRY[destination.country] ?? 'NGN',
      });
      if (outcome.kind === 'indefinite') return outcome;
      const json = parseJson(outcome.response.body);
      const code = isRecord(json) && isRecord(json.data) ? text(json.data.recipient_code, 60) : undefined;
      if (outcome.response.status < 300 && code !== undefined) return { kind: 'ok', value: { recipientCode: code } };
      if (outcome.response.status >= 400 && outcome.response.status < 500 && outcome.response.status !== 401)
        return { kind: 'rejected', reason: (isRecord(json) && text(json.message)) || 'recipient refused' };
      return { kind: 'indefinite', reason: `unexpected answer (HTTP ${outcome.response.status})` };
    },

    async createTransfer(request) {
      if (request.recipient === undefined) throw new Error('Paystack transfers need a recipient');
      const outcome = await read('POST', '/transfer', {
        source: 'balance',
        amount: request.amountMinor,
        recipient: request.recipient.recipientCode,
        reference: request.reference,
        reason: request.narration,
        currency: request.currency,
      });
      if (outcome.kind === 'indefinite') return outcome;
      return readPaystackCreate(outcome.response.status, outcome.response.body);
    },

    async getTransfer(request) {
      const outcome = await read('GET', `/transfer/verify/${encodeURIComponent(request.reference)}`);
      if (outcome.kind === 'indefinite') return outcome;
      const json = parseJson(outcome.response.body);
      if (outcome.response.status === 404) return { kind: 'not_found' };
      if (outcome.response.status === 200 && isRecord(json) && json.status === true && isRecord(json.data)) {
        const transfer = readPaystackTransfer(json.data);
        if (transfer !== undefined) return { kind: 'ok', value: transfer };
      }
      return { kind: 'indefinite', reason: `unexpected answer (HTTP ${outcome.response.status})` };
    },

    async finalizeTransfer(request) {
      const outcome = await read('POST', '/transfer/finalize_transfer', {
        transfer_code: request.providerTransferId,
        otp: request.otp,
      });
      if (outcome.kind === 'indefinite') return outcome;
      const json = parseJson(outcome.response.body);
      if (outcome.response.status === 200 && isRecord(json) && isRecord(json.data)) {
        const transfer = readPaystackTransfer(json.data);
        if (transfer !== undefined) return { kind: 'ok', value: transfer };
      }
      if (outcome.response.status === 400)
        return { kind: 'rejected', reason: (isRecord(json) && text(json.message)) || 'code refused' };
      return { kind: 'indefinite', reason: `unexpected answer (HTTP ${outcome.response.status})` };
    },

    async getBalances() {
      const outcome = await read('GET', '/balance');
      if (outcome.kind === 'indefinite') return outcome;
      const json = parseJson(outcome.response.body);
      if (outcome.response.status !== 200 || !isRecord(json) || !Array.isArray(json.data))
        return { kind: 'rejected', reason: `balances unreadable (HTTP ${outcome.response.status})` };
      return {
        kind: 'ok',
        value: json.data.flatMap((b) =>
          isRecord(b) && typeof b.currency === 'string' && Number.isSafeInteger(b.balance)
            ? [{ currency: b.currency, availableMinor: b.balance as number, ledgerMinor: undefined }]
            : [],
        ),
      };
    },
  };
}
