import type BetterSqlite3 from 'better-sqlite3';
import type { SqliteDatabase } from 'kysely';

// Kysely's SQLite driver prepares every query afresh. Preparing costs more than running a small
// statement, and it creates garbage on the hot path; our queries come from a fixed set of shapes,
// so prepared statements are kept and reused (better-sqlite3 statements are reusable; calls are
// synchronous, so two users never interleave on one statement). Bounded, least recently used.
export function withStatementCache(database: BetterSqlite3.Database, maxStatements = 500): SqliteDatabase {
  const cache = new Map<string, BetterSqlite3.Statement>();
  return {
    close: () => database.close(),
    prepare(sql: string) {
      let statement = cache.get(sql);
      if (statement === undefined) {
        statement = database.prepare(sql);
        if (cache.size >= maxStatements) cache.delete(cache.keys().next().value as string);
      } else {
        cache.delete(sql);
      }
      cache.set(sql, statement);
      return statement as unknown as ReturnType<SqliteDatabase['prepare']>;
    },
  };
}
