// Flutterwave v3 shapes as the real API sends them (shared/provider-wire-formats.md §1.3, §1.8).
import { createHmac } from 'node:crypto';
import type { SimulatorSettings, Transaction } from './state.ts';

export function verifyData(tx: Transaction, overrides: { amount?: number; currency?: string } = {}): Record<string, unknown> {
  const amount = overrides.amount ?? tx.amount;
  const appFee = Math.round(amount * 1.4) / 100;
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
    processor_response: tx.status === 'successful' ? 'Approved by Financial Institution' : 'Declined',
    auth_model: 'PIN',
    ip: '127.0.0.1',
    narration: 'CARD Transaction ',
    status: tx.status,
    payment_type: 'card',
    created_at: tx.created_at,
    account_id: 17321,
    card: { first_6digits: '553188', last_4digits: '2950', issuer: 'SIMULATED BANK', country: 'NG', type: 'MASTERCARD', token: `flw-t-sim-${tx.id}`, expiry: '09/32' },
    meta: tx.meta ?? null,
    amount_settled: Math.round((amount - appFee) * 100) / 100,
    customer: tx.customer,
  };
}

export function webhookBody(tx: Transaction, shape: SimulatorSettings['payloadShape']): string {
  if (shape === 'flat') {
    // The legacy (v2/Rave-style) form some accounts still receive: no envelope, camelCase.
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
      customer: { id: tx.customer.id, phone: null, fullName: tx.customer.name, customertoken: null, email: tx.customer.email, createdAt: tx.created_at, updatedAt: tx.created_at, deletedAt: null, AccountId: 17321 },
      entity: { card6: '553188', card_last4: '2950' },
      'event.type': 'CARD_TRANSACTION',
    });
  }
  const { card: _card, ...data } = verifyData(tx);
  return JSON.stringify({ event: 'charge.completed', data, 'event.type': 'CARD_TRANSACTION' });
}

export function flutterwaveSignature(body: string, secretHash: string): string {
  return createHmac('sha256', secretHash).update(body).digest('base64');
}

export const errorEnvelope = (message: string) => ({ status: 'error', message, data: null });
