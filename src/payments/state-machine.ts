import type { PaymentStatus } from '../db/schema.ts';

// Every status change of a payment is checked against this table; there is no other path to
// `payments.status`. Terminal states have no way out except through review, so a payment that
// succeeded can never fail later, and a failed one can never be paid by a stray webhook.
//
// failed/expired -> requires_review: a provider that reports a verified success after we recorded
// a failure or gave up (the customer retried at the hosted checkout, or paid late) means money
// was taken after the merchant was told otherwise, and the reference may already be reused: a
// person decides. It is never turned into success automatically.
const TRANSITIONS: Readonly<Record<PaymentStatus, readonly PaymentStatus[]>> = {
  pending: ['succeeded', 'failed', 'requires_review', 'expired'],
  requires_review: ['succeeded', 'failed'],
  expired: ['requires_review'],
  succeeded: [],
  failed: ['requires_review'],
};

export const PAYMENT_STATUSES = Object.keys(TRANSITIONS) as PaymentStatus[];

export function canTransition(from: PaymentStatus, to: PaymentStatus): boolean {
  return TRANSITIONS[from].includes(to);
}

/** Statuses in which a provider's answer can still change the payment. */
export function awaitsProvider(status: PaymentStatus): boolean {
  return status === 'pending' || status === 'expired' || status === 'failed';
}

/** The event type a merchant receives when a payment enters a status. */
export function eventTypeFor(status: PaymentStatus): string {
  return `payment.${status}`;
}
