import type { Kysely } from 'kysely';

// Bulk payouts from a file (OPS-10). A batch is one uploaded file, known by the SHA-256 of its
// bytes: the unique index makes the same file in the same mode one batch however often (and
// however concurrently) it is uploaded. Its rows keep each value exactly as the file had it, the
// amount parsed into minor units when valid, the row's errors, and the payout made from it.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('payout_batches')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('mode', 'text', (c) => c.notNull())
    .addColumn('sha256', 'text', (c) => c.notNull())
    .addColumn('filename', 'text')
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('status_reason', 'text')
    .addColumn('row_count', 'integer', (c) => c.notNull())
    .addColumn('error_count', 'integer', (c) => c.notNull())
    .addColumn('created_by_type', 'text', (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('submitted_by_type', 'text')
    .addColumn('submitted_by', 'text')
    .addColumn('submitted_at', 'bigint')
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('payout_batches_file')
    .on('payout_batches')
    .columns(['mode', 'sha256'])
    .unique()
    .execute();
  await db.schema.createIndex('payout_batches_mode_id').on('payout_batches').columns(['mode', 'id']).execute();

  await db.schema
    .createTable('payout_batch_rows')
    .addColumn('batch_id', 'text', (c) => c.notNull())
    .addColumn('row_no', 'integer', (c) => c.notNull())
    .addColumn('line', 'integer', (c) => c.notNull())
    .addColumn('amount', 'text', (c) => c.notNull())
    .addColumn('currency', 'text', (c) => c.notNull())
    .addColumn('beneficiary', 'text', (c) => c.notNull())
    .addColumn('reference', 'text', (c) => c.notNull())
    .addColumn('narration', 'text', (c) => c.notNull())
    .addColumn('amount_minor', 'bigint')
    .addColumn('errors_json', 'text', (c) => c.notNull())
    .addColumn('payout_id', 'text')
    .addPrimaryKeyConstraint('payout_batch_rows_pk', ['batch_id', 'row_no'])
    .execute();
  await db.schema.createIndex('payout_batch_rows_payout').on('payout_batch_rows').column('payout_id').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('payout_batch_rows').execute();
  await db.schema.dropTable('payout_batches').execute();
}
