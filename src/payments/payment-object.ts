import type { PaymentRow } from '../db/schema.ts';

/** The payment as the merchant's API and events see it. Amounts stay integer minor units. */
export interface PaymentObject {
  id: string;
  object: 'payment';
  status: PaymentRow['status'];
  status_reason: string | null;
  amount: number;
  currency: string;
  reference: string;
  provider: string;
  provider_transaction_id: string | null;
  checkout_url: string | null;
  customer: { email: string; name: string | null; phone: string | null };
  redirect_url: string;
  description: string | null;
  metadata: Record<string, string>;
  livemode: boolean;
  created_at: string;
  updated_at: string;
  expires_at: string;
}

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
