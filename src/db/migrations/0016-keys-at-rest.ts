import type { Kysely } from 'kysely';

// Key rotation at rest (issue 12 §3). `master_keys` names each master key version the deployment
// has used (a keyed fingerprint, never the key) and when it was retired: a retired version opens
// nothing, even if it is still configured. `key_rotations` records each rotation (re-wrapping
// under a new master key, or re-sealing under a new payload key) so that a rotation cut short by a
// crash resumes where it stopped. The API-key pepper, the blind-index key and the other purpose
// keys become rows of `data_keys` (purpose `key:<name>`), wrapped by the master key like the rest.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('master_keys')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('first_used_at', 'bigint', (c) => c.notNull())
    .addColumn('retired_at', 'bigint')
    .execute();
  await db.schema
    .createTable('key_rotations')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('target', 'text', (c) => c.notNull())
    .addColumn('started_at', 'bigint', (c) => c.notNull())
    .addColumn('finished_at', 'bigint')
    .addColumn('rows_done', 'bigint', (c) => c.notNull().defaultTo(0))
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('key_rotations').execute();
  await db.schema.dropTable('master_keys').execute();
}
