import type { Kysely } from 'kysely';

// LOG-1, LOG-2: operator actions are recorded with the browser that made them and their result
// (success, failure, denied), so "who did what from where, and did it work" is one row.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('audit_log').addColumn('user_agent', 'text').execute();
  await db.schema.alterTable('audit_log').addColumn('result', 'text').execute();
  await db.schema.createIndex('audit_log_actor_created').on('audit_log').columns(['actor_id', 'created_at']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('audit_log_actor_created').execute();
  await db.schema.alterTable('audit_log').dropColumn('result').execute();
  await db.schema.alterTable('audit_log').dropColumn('user_agent').execute();
}
