import type { Kysely } from 'kysely';

// Versioned customer data keys (issue 12 §3, DAT-3). `customer_keys` keeps each customer's current
// data key and its version (`key_version`, 1 for every key made before versions existed);
// `customer_key_versions` keeps the versions a rotation superseded, still wrapped by the master
// key, until nothing sealed with them is left (`paywarden keys-at-rest retire customers`). Erasure
// destroys the current key and every kept version. `key_rotations` gains what a rotation run as
// jobs needs: its scope (customers: a mode or one customer), a step counter that serialises the
// batches, and the position of the next batch.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('customer_keys')
    .addColumn('key_version', 'integer', (c) => c.notNull().defaultTo(1))
    .execute();
  await db.schema
    .createTable('customer_key_versions')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('customer_id', 'text', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('wrapped_key', 'text', (c) => c.notNull())
    .addColumn('wrapped_by', 'text', (c) => c.notNull())
    .addColumn('superseded_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('customer_key_versions_customer')
    .on('customer_key_versions')
    .columns(['customer_id', 'version'])
    .unique()
    .execute();
  await db.schema.alterTable('key_rotations').addColumn('scope', 'text').execute();
  await db.schema
    .alterTable('key_rotations')
    .addColumn('step', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema
    .alterTable('key_rotations')
    .addColumn('position', 'text', (c) => c.notNull().defaultTo(''))
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('key_rotations').dropColumn('position').execute();
  await db.schema.alterTable('key_rotations').dropColumn('step').execute();
  await db.schema.alterTable('key_rotations').dropColumn('scope').execute();
  await db.schema.dropTable('customer_key_versions').execute();
  await db.schema.alterTable('customer_keys').dropColumn('key_version').execute();
}
