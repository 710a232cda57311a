import type { Kysely } from 'kysely';

// Payout controls (issue 10 §2, PAY-5; src/payouts/controls/). A payout that a rule holds is in
// status `on_hold` with its hold on the row (`hold_json`: the rules, approvals needed and given,
// when it was held and how it ended), so the API object and the events carry it without a join;
// `hold_release_at` / `hold_expires_at` are what the hold sweep looks for. One row per approver
// and payout in `payout_decisions` (the unique key counts a double click once, under any
// concurrency). The rules' thresholds live in `payout_control_settings`, one row per mode, whose
// lock also serialises the velocity counts of concurrent creations. Beneficiaries keep the name
// the merchant gave and the result of comparing it with the provider's (`name_check`).
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('payouts').addColumn('hold_json', 'text').execute();
  await db.schema.alterTable('payouts').addColumn('hold_release_at', 'bigint').execute();
  await db.schema.alterTable('payouts').addColumn('hold_expires_at', 'bigint').execute();
  await db.schema.createIndex('payouts_mode_status').on('payouts').columns(['mode', 'status']).execute();
  await db.schema
    .createIndex('payouts_beneficiary_created')
    .on('payouts')
    .columns(['beneficiary_id', 'created_at'])
    .execute();
  await db.schema.createIndex('payouts_mode_created').on('payouts').columns(['mode', 'created_at']).execute();
  await db.schema.createIndex('payouts_created_by').on('payouts').columns(['created_by', 'created_at']).execute();
  await db.schema.createIndex('payouts_hold_release').on('payouts').column('hold_release_at').execute();
  await db.schema.createIndex('payouts_hold_expires').on('payouts').column('hold_expires_at').execute();

  await db.schema
    .createTable('payout_decisions')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('payout_id', 'text', (c) => c.notNull())
    .addColumn('operator_id', 'text', (c) => c.notNull())
    .addColumn('decision', 'text', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('payout_decisions_once')
    .on('payout_decisions')
    .columns(['payout_id', 'operator_id'])
    .unique()
    .execute();

  await db.schema
    .createTable('payout_control_settings')
    .addColumn('mode', 'text', (c) => c.primaryKey())
    .addColumn('settings_json', 'text', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_by', 'text')
    .execute();

  await db.schema.alterTable('beneficiaries').addColumn('given_name', 'text').execute();
  await db.schema
    .alterTable('beneficiaries')
    .addColumn('name_check', 'text', (c) => c.notNull().defaultTo('not_given'))
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('payout_control_settings').execute();
  await db.schema.dropTable('payout_decisions').execute();
  for (const index of [
    'payouts_mode_status',
    'payouts_beneficiary_created',
    'payouts_mode_created',
    'payouts_created_by',
    'payouts_hold_release',
    'payouts_hold_expires',
  ])
    await db.schema.dropIndex(index).execute();
  for (const column of ['hold_json', 'hold_release_at', 'hold_expires_at'])
    await db.schema.alterTable('payouts').dropColumn(column).execute();
  await db.schema.alterTable('beneficiaries').dropColumn('given_name').execute();
  await db.schema.alterTable('beneficiaries').dropColumn('name_check').execute();
}
