import type { Kysely } from 'kysely';

// Resuming a payment's checkout (src/payments/checkout-creation.ts). A payment is committed before
// the provider is asked for its checkout; a process that dies in between, or a provider whose
// answer never arrives, leaves it pending without one, and the merchant's retry resumes it.
//   checkout_claimed_until: while set and in the future, one request holds the right to ask the
//     provider for this payment's checkout (a lease, compare-and-set on the value, so two retries
//     never both call the provider and a request that outlived its lease cannot record).
//   checkout_expires_at: the wall-clock expiry given to the provider, fixed at creation, so a
//     repeated create sends the very same request (Stripe refuses another body under one
//     Idempotency-Key).
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('payments').addColumn('checkout_claimed_until', 'bigint').execute();
  await db.schema.alterTable('payments').addColumn('checkout_expires_at', 'bigint').execute();
}
