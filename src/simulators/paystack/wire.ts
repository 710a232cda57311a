// Paystack shapes as the real API sends them (shared/provider-wire-formats.md §2.1, §2.3, §2.4).
import { createHmac } from 'node:crypto';
import type { Checkout, Transaction } from './state.ts';

/** `data` of GET /transaction/verify/:reference (§2.3). */
export function verifyData(
  tx: Transaction,
  overrides: { amountMinor?: number; currency?: string; feeBearer?: 'merchant' | 'customer' } = {},
): Record<string, unknown> {
  // Paystack's local card fee: 1.5 %, plus 100 (major) from 2,500, capped at 2,000 (major).
  const requested = overrides.amountMinor ?? tx.amount;
  const feesMinor = Math.min(Math.round((requested * 15) / 1000) + (requested >= 250_000 ? 10_000 : 0), 200_000);
  // "Customer pays the fees": the charge includes them, requested_amount stays the order.
  const amount = overrides.feeBearer === 'customer' ? requested + feesMinor : requested;
  const paid = tx.status === 'success';
  return {
    id: tx.id,
    domain: 'test',
    status: tx.status,
    reference: tx.reference,
    receipt_number: null,
    amount,
    message: null,
    gateway_response: tx.gateway_response,
    paid_at: tx.paid_at,
    created_at: tx.created_at,
    channel: 'card',
    currency: overrides.currency ?? tx.currency,
    ip_address: '127.0.0.1',
    metadata: tx.metadata ?? '',
    log: {
      start_time: Math.floor(Date.parse(tx.created_at) / 1000),
      time_spent: 4,
      attempts: 1,
      errors: paid ? 0 : 1,
      success: paid,
      mobile: false,
      input: [],
      history: paid
        ? [
            { type: 'action', message: 'Attempted to pay with card', time: 3 },
            { type: 'success', message: 'Successfully paid with card', time: 4 },
          ]
        : [{ type: 'action', message: 'Attempted to pay with card', time: 3 }],
    },
    fees: paid ? feesMinor : null,
    fees_split: null,
    authorization: paid
      ? {
          authorization_code: `AUTH_sim${tx.id}`,
          bin: '408408',
          last4: '4081',
          exp_month: '12',
          exp_year: '2030',
          channel: 'card',
          card_type: 'visa ',
          bank: 'TEST BANK',
          country_code: 'NG',
          brand: 'visa',
          reusable: true,
          signature: `SIG_sim${tx.id}`,
          account_name: null,
        }
      : {},
    customer: {
      id: tx.customer.id,
      first_name: null,
      last_name: null,
      email: tx.customer.email,
      customer_code: tx.customer.customer_code,
      phone: null,
      metadata: null,
      risk_action: 'default',
      international_format_phone: null,
    },
    plan: null,
    split: {},
    order_id: null,
    paidAt: tx.paid_at,
    createdAt: tx.created_at,
    requested_amount: requested,
    pos_transaction_data: null,
    source: null,
    fees_breakdown: null,
    connect: null,
    transaction_date: tx.created_at,
    plan_object: {},
    subaccount: {},
  };
}

/** An initialized reference nobody has paid: Paystack reports it as `abandoned`. */
export function unpaidTransaction(checkout: Checkout): Transaction {
  return {
    id: checkout.transactionId,
    reference: checkout.reference,
    amount: checkout.amount,
    currency: checkout.currency,
    status: 'abandoned',
    gateway_response: 'The transaction was not completed',
    paid_at: null,
    created_at: checkout.createdAt,
    customer: customerFor(checkout),
    metadata: checkout.metadata,
  };
}

export function customerFor(checkout: Checkout): Transaction['customer'] {
  return {
    id: 180_000_000 + (checkout.transactionId % 1_000_000),
    email: checkout.email,
    customer_code: `CUS_sim${checkout.accessCode}`,
  };
}

/** The webhook body: `{"event", "data"}` with the transaction as verify shows it, minus the
 * verify-only fields (§2.4's charge.success sample). */
export function webhookBody(event: string, tx: Transaction): string {
  const {
    fees_split: _a,
    split: _b,
    order_id: _c,
    paidAt: _d,
    createdAt: _e,
    requested_amount: _f,
    pos_transaction_data: _g,
    source: _h,
    fees_breakdown: _i,
    connect: _j,
    transaction_date: _k,
    plan_object: _l,
    subaccount: _m,
    receipt_number: _n,
    ...data
  } = verifyData(tx);
  return JSON.stringify({ event, data: { ...data, plan: {} } });
}

/** x-paystack-signature: lowercase hex HMAC-SHA512 of the exact bytes sent, keyed with the secret key. */
export function paystackSignature(body: string, secretKey: string): string {
  return createHmac('sha512', secretKey).update(body).digest('hex');
}

/** Paystack's error envelope (§2.1). */
export function errorEnvelope(
  message: string,
  extra: { type?: string; code?: string; nextStep?: string } = {},
): Record<string, unknown> {
  return {
    status: false,
    message,
    ...(extra.nextStep === undefined ? {} : { meta: { nextStep: extra.nextStep } }),
    ...(extra.type === undefined ? {} : { type: extra.type }),
    ...(extra.code === undefined ? {} : { code: extra.code }),
  };
}

export const DUPLICATE_REFERENCE = {
  ...errorEnvelope('Duplicate Transaction Reference', {
    nextStep: 'Try and create the Transaction or Charge with a new reference',
    type: 'validation_error',
    code: 'duplicate_reference',
  }),
  errorCodeMappingNotFound: false,
};
export const INVALID_KEY = { status: false, message: 'Invalid key' };
export const RATE_LIMITED = errorEnvelope('Rate limit exceeded!', {
  nextStep: 'Wait a few minutes and try the API call again',
  type: 'api_error',
  code: 'rate_limited',
});
