import type { Kysely } from 'kysely';

// COL-6: per-mode HMAC keys for signed receipts, sealed under the master key (the field cipher,
// bound to the key's id). The newest key of a mode signs; older ones keep verifying.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('receipt_keys')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('mode', 'text', (c) => c.notNull())
    .addColumn('sealed_key', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('receipt_keys_mode_created').on('receipt_keys').columns(['mode', 'created_at']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('receipt_keys').execute();
}
