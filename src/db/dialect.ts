// The one place where SQLite and PostgreSQL differ (see ARCHITECTURE.md, "dialect seam"). Every
// other module writes portable Kysely and asks this module for the few strategies that are not.
import { sql, type Kysely, type SelectQueryBuilder } from 'kysely';

export type DialectName = 'sqlite' | 'postgres';

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
  ping(db: Kysely<any>): Promise<void>;
}

export const sqliteStrategy: DialectStrategy = {
  name: 'sqlite',
  lockForClaim: (query) => query,
  isUniqueViolation: (error) => typeof error === 'object' && error !== null && 'code' in error && String((error as { code: unknown }).code).startsWith('SQLITE_CONSTRAINT'),
  ping: async (db) => {
    await sql`select 1`.execute(db);
  },
};

export const postgresStrategy: DialectStrategy = {
  name: 'postgres',
  lockForClaim: (query) => query.forUpdate().skipLocked(),
  isUniqueViolation: (error) => typeof error === 'object' && error !== null && 'code' in error && (error as { code: unknown }).code === '23505',
  ping: async (db) => {
    await sql`select 1`.execute(db);
  },
};
