// Flutterwave v3 shapes as the real API sends them (shared/provider-wire-formats.md §1.3, §1.4,
// §1.5, §1.8). Pure functions of the simulator's records, so the shapes are easy to review.
import { createHmac } from 'node:crypto';
import type { Refund, SimulatorSettings, Transaction, Transfer } from './state.ts';

const ACCOUNT_ID = 17321;
const round2 = (value: number) => Math.round(value * 100) / 100;
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
  overrides: { amount?: number; currency?: string } = {},
): Record<string, unknown> {
  const amount = overrides.amount ?? tx.amount;
  // 1.4 %, as in the docs' example (app_fee 1.4 on 100); amount_settled = amount - app_fee.
  const appFee = round2(amount * 0.014);
  return {
    id: tx.id,
    tx_ref: tx.tx_ref,
    flw_ref: tx.flw_ref,
    device_fingerprint: 'N/A',
    amount,
    currency: overrides.currency ?? tx.currency,
    charged_amount: amount,
    app_fee: appFee,
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
    amount_settled: round2(amount - appFee),
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
      amount: tx.amount,
      charged_amount: tx.amount,
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
    amount: t.amount,
    fee: t.fee,
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
    amount_refunded: r.amount_refunded,
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
