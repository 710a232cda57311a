import type { Static } from 'typebox';
import type { PaymentObjectSchema } from '../api/objects.ts';
import type { PaymentRow } from '../db/schema.ts';

/** The payment as the merchant's API and events see it (its schema: src/api/objects.ts). */
export type PaymentObject = Static<typeof PaymentObjectSchema>;

export function toPaymentObject(row: PaymentRow): PaymentObject {
  return {
    id: row.id,
    object: 'payment',
    status: row.status,
    status_reason: row.status_reason,
    amount: row.amount_minor,
    currency: row.currency,
    reference: row.reference,
    provider: row.provider,
    provider_transaction_id: row.provider_tx_id,
    provider_fee: row.provider_fee_minor,
    checkout_url: row.status === 'pending' ? row.checkout_url : null,
    customer: { email: row.customer_email, name: row.customer_name, phone: row.customer_phone },
    redirect_url: row.redirect_url,
    description: row.description,
    metadata: JSON.parse(row.metadata_json) as Record<string, string>,
    livemode: row.mode === 'live',
    created_at: new Date(row.created_at).toISOString(),
    updated_at: new Date(row.updated_at).toISOString(),
    expires_at: new Date(row.expires_at).toISOString(),
  };
}
