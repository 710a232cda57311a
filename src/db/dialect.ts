// The one place where SQLite and PostgreSQL differ (see ARCHITECTURE.md, "dialect seam"). Every
// other module writes portable Kysely and asks this module for the few strategies that are not.
import { sql, type Insertable, type Kysely, type SelectQueryBuilder } from 'kysely';
import type { Database, JobsTable, ProviderWebhooksTable } from './schema.ts';

export type DialectName = 'sqlite' | 'postgres';

/** A provider webhook and the job that will process it: written together or not at all. */
export interface IngestRow {
  readonly webhook: Insertable<ProviderWebhooksTable>;
  readonly job: Insertable<JobsTable>;
}

export interface DialectStrategy {
  readonly name: DialectName;
  /**
   * How claimers of the job queue avoid taking the same row. PostgreSQL: several gateway processes
   * share the queue, so rows are locked and locked rows skipped. SQLite: one process, one
   * connection, transactions already serialised, so nothing extra is needed.
   */
  lockForClaim<DB, TB extends keyof DB, O>(query: SelectQueryBuilder<DB, TB, O>): SelectQueryBuilder<DB, TB, O>;
  isUniqueViolation(error: unknown): boolean;
  /** Cheap liveness probe used by /readyz. */
  // biome-ignore lint/suspicious/noExplicitAny: Kysely's own driver and migrator interfaces are typed Kysely<any>
  ping(db: Kysely<any>): Promise<void>;
  /**
   * The webhook hot path: many webhooks (deduplicated on `dedupe_key`) and, for each new one, its
   * job, in one transaction and as few round trips as the engine allows. Returns, per row,
   * whether it was new.
   */
  writeIngestBatch(db: Kysely<Database>, rows: readonly IngestRow[]): Promise<boolean[]>;
}

export function sqliteStrategy(writeIngestBatch: DialectStrategy['writeIngestBatch']): DialectStrategy {
  return {
    name: 'sqlite',
    lockForClaim: (query) => query,
    isUniqueViolation: (error) =>
      typeof error === 'object' &&
      error !== null &&
      'code' in error &&
      String((error as { code: unknown }).code).startsWith('SQLITE_CONSTRAINT'),
    ping: async (db) => {
      await sql`select 1`.execute(db);
    },
    // SQLite: the batch runs on the SQLite thread as one native transaction with statements
    // prepared once, together with any other batches waiting there (see sqlite-thread/).
    writeIngestBatch,
  };
}

export const postgresStrategy: DialectStrategy = {
  name: 'postgres',
  lockForClaim: (query) => query.forUpdate().skipLocked(),
  isUniqueViolation: (error) =>
    typeof error === 'object' && error !== null && 'code' in error && (error as { code: unknown }).code === '23505',
  ping: async (db) => {
    await sql`select 1`.execute(db);
  },
  // Two multi-row statements in one transaction, whatever the batch size.
  writeIngestBatch: (db, rows) =>
    db.transaction().execute(async (trx) => {
      const inserted = await trx
        .insertInto('provider_webhooks')
        .values(rows.map((r) => r.webhook))
        .onConflict((oc) => oc.column('dedupe_key').doNothing())
        .returning('id')
        .execute();
      const newIds = new Set(inserted.map((r) => r.id));
      const jobs = rows.filter((r) => newIds.has(r.webhook.id)).map((r) => r.job);
      if (jobs.length > 0) await trx.insertInto('jobs').values(jobs).execute();
      return rows.map((r) => newIds.has(r.webhook.id));
    }),
};
