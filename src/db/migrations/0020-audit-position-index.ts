import type { Kysely } from 'kysely';

// The SQLite trigger of 0019 numbers each new audit row max(position) + 1; without an index on
// position that max reads the whole table on every insert. PostgreSQL's identity column needs no
// such read, but the index also serves reading rows in insertion order (the sealer's order).
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.createIndex('audit_log_position').on('audit_log').column('position').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('audit_log_position').execute();
}
