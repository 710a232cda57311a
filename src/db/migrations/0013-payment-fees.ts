import type { Kysely } from 'kysely';

// The provider's fee for a payment (issue 11), in integer minor units of the payment's currency,
// as the provider's verify answer reported it (Paystack `fees`, Flutterwave `app_fee`). Null when
// the provider reports none (Stripe Checkout, KwikPaisa), before verification, or when the fee it
// reported is no exact number of minor units: a fee is recorded, never rounded.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('payments').addColumn('provider_fee_minor', 'bigint').execute();
}
