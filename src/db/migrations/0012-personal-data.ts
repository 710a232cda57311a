import { type Kysely, sql } from 'kysely';

// Personal data at rest (DAT-1, DAT-3). Each customer has a data key of their own, stored only
// wrapped by the master key; payments and events name the customer whose key seals their personal
// fields. Erasing a customer removes the wrapped key (crypto-shredding). `data_keys` holds the
// keys for data that belongs to no one customer (raw provider payloads, stored API answers).
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('customer_keys')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('mode', 'text', (c) => c.notNull())
    .addColumn('email_index', 'text', (c) => c.notNull())
    .addColumn('wrapped_key', 'text')
    .addColumn('wrapped_by', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('erased_at', 'bigint')
    .addColumn('erasure_reason', 'text')
    .execute();
  // One live key per customer; an erased customer who pays again gets a new key.
  await db.schema
    .createIndex('customer_keys_live_email')
    .on('customer_keys')
    .columns(['mode', 'email_index'])
    .unique()
    .where(sql.ref('erased_at'), 'is', null)
    .execute();

  await db.schema
    .createTable('data_keys')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('purpose', 'text', (c) => c.notNull())
    .addColumn('wrapped_key', 'text', (c) => c.notNull())
    .addColumn('wrapped_by', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('retired_at', 'bigint')
    .execute();

  await db.schema.alterTable('payments').addColumn('customer_id', 'text').execute();
  await db.schema.alterTable('payments').addColumn('customer_email_index', 'text').execute();
  await db.schema
    .createIndex('payments_customer_email_index')
    .on('payments')
    .columns(['mode', 'customer_email_index'])
    .execute();
  await db.schema.createIndex('payments_customer').on('payments').column('customer_id').execute();
  await db.schema.alterTable('events').addColumn('customer_id', 'text').execute();
  await db.schema.createIndex('events_customer').on('events').column('customer_id').execute();
}
