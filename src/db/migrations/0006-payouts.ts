import { sql, type Kysely } from 'kysely';

// Payouts (issue 9, PAY-1/2/3/6). A payout is the merchant's request (one per reference per mode,
// forever); each submission to a provider is an attempt carrying the reference the provider
// enforces as unique. The attempt row is committed before the provider is called, and at most one
// attempt per payout is open (the partial unique index, not a check in code). Every provider call
// and its answer is kept in payout_checks: the payout's timeline and the evidence for review.
// Beneficiaries keep the account number sealed (AES-256-GCM, DAT-1) and its last four in clear.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('beneficiaries')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('mode', 'text', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('country', 'text')
    .addColumn('currency', 'text', (c) => c.notNull())
    .addColumn('bank_code', 'text')
    .addColumn('bank_name', 'text')
    .addColumn('account_sealed', 'text', (c) => c.notNull())
    .addColumn('account_last4', 'text', (c) => c.notNull())
    .addColumn('account_name', 'text', (c) => c.notNull())
    .addColumn('email', 'text')
    .addColumn('provider', 'text', (c) => c.notNull())
    .addColumn('metadata_json', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('deleted_at', 'bigint')
    .execute();
  await db.schema.createIndex('beneficiaries_mode_id').on('beneficiaries').columns(['mode', 'id']).execute();

  await db.schema
    .createTable('beneficiary_recipients')
    .addColumn('beneficiary_id', 'text', (c) => c.notNull())
    .addColumn('provider', 'text', (c) => c.notNull())
    .addColumn('recipient_code', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('beneficiary_recipients_pk', ['beneficiary_id', 'provider'])
    .execute();

  await db.schema
    .createTable('payouts')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('mode', 'text', (c) => c.notNull())
    .addColumn('reference', 'text', (c) => c.notNull())
    .addColumn('amount_minor', 'bigint', (c) => c.notNull())
    .addColumn('currency', 'text', (c) => c.notNull())
    .addColumn('beneficiary_id', 'text', (c) => c.notNull())
    .addColumn('provider', 'text', (c) => c.notNull())
    .addColumn('narration', 'text')
    .addColumn('metadata_json', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('status_reason', 'text')
    .addColumn('failure_code', 'text')
    .addColumn('failure_message', 'text')
    .addColumn('provider_transfer_id', 'text')
    .addColumn('fee_minor', 'bigint')
    .addColumn('created_by', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addColumn('next_check_at', 'bigint')
    .addColumn('check_step', 'integer', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull())
    .execute();
  // Unique per mode forever: a used reference is never freed, whatever became of its payout.
  await db.schema.createIndex('payouts_reference').on('payouts').columns(['mode', 'reference']).unique().execute();
  await db.schema.createIndex('payouts_mode_id').on('payouts').columns(['mode', 'id']).execute();
  await db.schema.createIndex('payouts_next_check').on('payouts').column('next_check_at').execute();

  await db.schema
    .createTable('payout_attempts')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('payout_id', 'text', (c) => c.notNull())
    .addColumn('attempt_no', 'integer', (c) => c.notNull())
    .addColumn('provider', 'text', (c) => c.notNull())
    .addColumn('reference', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('sends', 'integer', (c) => c.notNull())
    .addColumn('first_sent_at', 'bigint')
    .addColumn('last_sent_at', 'bigint')
    .addColumn('accepted_at', 'bigint')
    .addColumn('provider_transfer_id', 'text')
    .addColumn('provider_status', 'text')
    .addColumn('created_by', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('closed_at', 'bigint')
    .execute();
  await db.schema
    .createIndex('payout_attempts_reference')
    .on('payout_attempts')
    .columns(['provider', 'reference'])
    .unique()
    .execute();
  await db.schema
    .createIndex('payout_attempts_number')
    .on('payout_attempts')
    .columns(['payout_id', 'attempt_no'])
    .unique()
    .execute();
  // PAY-1: at most one open attempt per payout, decided by the database under any race.
  await db.schema
    .createIndex('payout_attempts_one_open')
    .on('payout_attempts')
    .column('payout_id')
    .unique()
    .where(sql.ref('closed_at'), 'is', null)
    .execute();

  await db.schema
    .createTable('payout_checks')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('payout_id', 'text', (c) => c.notNull())
    .addColumn('attempt_id', 'text')
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('at', 'bigint', (c) => c.notNull())
    .addColumn('outcome', 'text', (c) => c.notNull())
    .addColumn('detail_json', 'text', (c) => c.notNull())
    .addColumn('latency_ms', 'integer', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('payout_checks_payout').on('payout_checks').columns(['payout_id', 'at']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['payout_checks', 'payout_attempts', 'payouts', 'beneficiary_recipients', 'beneficiaries'])
    await db.schema.dropTable(table).execute();
}
