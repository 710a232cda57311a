// Flutterwave v3 shapes as the real API sends them (shared/provider-wire-formats.md §1.3, §1.4,
// §1.5, §1.8). Pure functions of the simulator's records, so the shapes are easy to review.
import { createHmac } from 'node:crypto';
import { majorToMinor, minorToMajorString } from '../../money/amount.ts';
import { isCurrency } from '../../money/currencies.ts';
import type { Refund, SimulatorSettings, Transaction, Transfer } from './state.ts';

const ACCOUNT_ID = 17321;
/** Minor units as the JSON number Flutterwave writes (7550 NGN -> 75.5), exactly: through the decimal string. */
export const majorNumber = (amountMinor: number, currency: string): number =>
  Number(minorToMajorString(amountMinor, currency));
/** Thousandths of a major unit as the JSON number Flutterwave writes (26875 -> 26.875), exactly. */
export const thousandthsNumber = (thousandths: number): number =>
  Number(`${Math.trunc(thousandths / 1000)}.${String(thousandths % 1000).padStart(3, '0')}`);
const CARD = {
  first_6digits: '553188',
  last_4digits: '2950',
  issuer: 'SIMULATED BANK',
  country: 'NG',
  type: 'MASTERCARD',
  expiry: '09/32',
} as const;

export const errorEnvelope = (message: string) => ({ status: 'error', message, data: null });
export const successEnvelope = (message: string, data: unknown) => ({ status: 'success', message, data });

/** `data` of GET /v3/transactions/:id/verify; the overrides are the wrong_amount/wrong_currency faults
 * (missing_currency is applied by the route, on the finished object). */
export function verifyData(
  tx: Transaction,
  overrides: { amountMinor?: number; currency?: string } = {},
): Record<string, unknown> {
  const currency = overrides.currency ?? tx.currency;
  const amountMinor = overrides.amountMinor ?? tx.amountMinor;
  const amount = majorNumber(amountMinor, tx.currency);
  // 1.4 %, as in the docs' example (app_fee 1.4 on 100); amount_settled = amount - app_fee.
  const appFeeMinor = Math.round((amountMinor * 14) / 1000);
  return {
    id: tx.id,
    tx_ref: tx.tx_ref,
    flw_ref: tx.flw_ref,
    device_fingerprint: 'N/A',
    amount,
    currency,
    charged_amount: amount,
    app_fee: majorNumber(appFeeMinor, tx.currency),
    merchant_fee: 0,
    processor_response: { successful: 'Approved by Financial Institution', failed: 'Declined', pending: 'Pending' }[
      tx.status
    ],
    auth_model: 'PIN',
    ip: '127.0.0.1',
    narration: 'CARD Transaction ',
    status: tx.status,
    payment_type: 'card',
    created_at: tx.created_at,
    account_id: ACCOUNT_ID,
    // Nobody has typed a card into an unpaid checkout yet.
    ...(tx.status === 'pending' ? {} : { card: { ...CARD, token: `flw-t-sim-${tx.id}` } }),
    meta: tx.meta ?? null,
    amount_settled: majorNumber(amountMinor - appFeeMinor, tx.currency),
    customer: tx.customer,
  };
}

/** The `charge.completed` body, in the v3 envelope or the legacy flat form (§1.8). */
export function chargeWebhookBody(tx: Transaction, shape: SimulatorSettings['payloadShape']): string {
  if (shape === 'flat') {
    // The legacy (v2/Rave-style) form accounts without the v3 webhook option receive: no envelope, camelCase.
    return JSON.stringify({
      id: tx.id,
      txRef: tx.tx_ref,
      flwRef: tx.flw_ref,
      orderRef: `URF_${tx.id}`,
      paymentPlan: null,
      createdAt: tx.created_at,
      amount: majorNumber(tx.amountMinor, tx.currency),
      charged_amount: majorNumber(tx.amountMinor, tx.currency),
      status: tx.status,
      IP: '127.0.0.1',
      currency: tx.currency,
      customer: {
        id: tx.customer.id,
        phone: null,
        fullName: tx.customer.name,
        customertoken: null,
        email: tx.customer.email,
        createdAt: tx.created_at,
        updatedAt: tx.created_at,
        deletedAt: null,
        AccountId: ACCOUNT_ID,
      },
      entity: { card6: CARD.first_6digits, card_last4: CARD.last_4digits },
      'event.type': 'CARD_TRANSACTION',
    });
  }
  // The docs' webhook sample carries the card without its token (a token is only for the merchant's API).
  const data = verifyData(tx);
  return JSON.stringify({
    event: 'charge.completed',
    data: { ...data, ...(data.card === undefined ? {} : { card: CARD }) },
    'event.type': 'CARD_TRANSACTION',
  });
}

/** The transfer object of POST /v3/transfers and GET /v3/transfers/:id (name field: `full_name`). */
export function transferData(t: Transfer): Record<string, unknown> {
  return {
    id: t.id,
    account_number: t.account_number,
    bank_code: t.bank_code,
    full_name: t.full_name,
    created_at: t.created_at,
    currency: t.currency,
    debit_currency: t.debit_currency,
    amount: majorNumber(t.amountMinor, t.currency),
    fee: thousandthsNumber(t.feeThousandths),
    status: t.status,
    reference: t.reference,
    meta: t.meta ?? null,
    narration: t.narration,
    complete_message: t.complete_message,
    requires_approval: 0,
    is_approved: 1,
    bank_name: t.bank_name,
  };
}

/** `transfer.completed`: in the webhook the name field is `fullname`, not `full_name` (§1.8). */
export function transferWebhookBody(t: Transfer, shape: SimulatorSettings['payloadShape']): string {
  const { full_name: fullname, ...rest } = transferData(t);
  const data = { ...rest, fullname, approver: null };
  if (shape === 'flat')
    return JSON.stringify({ 'event.type': 'Transfer', transfer: { ...data, date_created: t.created_at } });
  return JSON.stringify({ event: 'transfer.completed', 'event.type': 'Transfer', data });
}

export function refundData(r: Refund): Record<string, unknown> {
  return {
    id: r.id,
    account_id: ACCOUNT_ID,
    tx_id: r.tx_id,
    flw_ref: r.flw_ref,
    wallet_id: 74639,
    amount_refunded: majorNumber(r.amountRefundedMinor, r.currency),
    status: 'completed',
    destination: 'payment_source',
    meta: { source: 'availablebalance' },
    comments: r.comments,
    created_at: r.created_at,
  };
}

/** `flutterwave-signature`: base64 HMAC-SHA256 of the exact body bytes, keyed with the secret hash. */
export function flutterwaveSignature(body: string, secretHash: string): string {
  return createHmac('sha256', secretHash).update(body).digest('base64');
}

/** A positive amount in major units, given as a number or a numeric string; undefined otherwise. */
export function parseMajorAmount(value: unknown): number | undefined {
  const text = typeof value === 'number' ? String(value) : value;
  if (typeof text !== 'string' || !/^\d+(\.\d+)?$/.test(text.trim())) return undefined;
  const amount = Number(text);
  return amount > 0 && Number.isFinite(amount) ? amount : undefined;
}

/**
 * A positive amount in major units of `currency` (a number or a numeric string) as integer minor
 * units, exactly; undefined when it is not one, has more decimals than the currency, or the
 * currency is not an ISO 4217 one.
 */
export function parseAmountMinor(value: unknown, currency: string): number | undefined {
  if (parseMajorAmount(value) === undefined || !isCurrency(currency)) return undefined;
  const read = majorToMinor(typeof value === 'string' ? value.trim() : (value as number), currency);
  return read.ok && read.amountMinor > 0 ? read.amountMinor : undefined;
}
