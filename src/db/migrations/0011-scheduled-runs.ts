import type { Kysely } from 'kysely';

// Scheduled work (reconciliation sweeps, purges) runs once per slot across every gateway process
// sharing the database: the process that inserts a slot's row first enqueues its job, in the
// same transaction; the others find the row there and do nothing (src/jobs/scheduler.ts).
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('scheduled_runs')
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('slot', 'bigint', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('scheduled_runs_pk', ['name', 'slot'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('scheduled_runs').execute();
}
