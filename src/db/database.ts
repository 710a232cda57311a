import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { Kysely } from 'kysely';
import { OwnSchemaPostgresDialect } from './own-schema-introspector.ts';
import pg from 'pg';
import { postgresStrategy, sqliteStrategy, type DialectStrategy } from './dialect.ts';
import { SqliteThread, ThreadedSqliteDialect, threadAtomicWriter, threadIngestWriter } from './sqlite-thread/driver.ts';
import type { Database } from './schema.ts';
import { lockSoleWriter } from './sqlite-writer-lock.ts';

export interface DatabaseHandle {
  readonly db: Kysely<Database>;
  readonly dialect: DialectStrategy;
  /** Redacted description for logs: the path, or the host and database without credentials. */
  readonly description: string;
  /** Held by a gateway for its whole life: SQLite refuses a second gateway process (see sqlite-writer-lock.ts). */
  lockSoleWriter?(): () => void;
  close(): Promise<void>;
}

export function isPostgresUrl(url: string): boolean {
  return url.startsWith('postgres://') || url.startsWith('postgresql://');
}

export function openDatabase(url: string, options: { poolSize?: number } = {}): DatabaseHandle {
  return isPostgresUrl(url) ? openPostgres(url, options.poolSize ?? 10) : openSqlite(url);
}

function openSqlite(path: string): DatabaseHandle {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  // The connection lives on its own thread (WAL, synchronous=FULL; see sqlite-thread/thread.ts),
  // so fsyncs never stall the event loop.
  const thread = new SqliteThread(path);
  const db = new Kysely<Database>({ dialect: new ThreadedSqliteDialect(thread) });
  return {
    db,
    dialect: sqliteStrategy(threadIngestWriter(thread), threadAtomicWriter(thread)),
    description: `sqlite:${path}`,
    lockSoleWriter: () => (path === ':memory:' ? () => undefined : lockSoleWriter(path)),
    close: () => db.destroy(),
  };
}

// Postgres returns int8 (bigint) as strings to avoid precision loss. Our bigints are epoch
// milliseconds and minor-unit amounts, both far below 2^53, so parse them as numbers, but refuse
// silently wrong values rather than round them.
const INT8_OID = 20;
function parseInt8(value: string): number {
  const parsed = Number(value);
  if (!Number.isSafeInteger(parsed)) throw new Error(`int8 value ${value} exceeds the safe integer range`);
  return parsed;
}

function openPostgres(url: string, poolSize: number): DatabaseHandle {
  const pool = new pg.Pool({
    connectionString: url,
    max: poolSize,
    // While the database is away a request fails (503, Retry-After) instead of queueing forever.
    connectionTimeoutMillis: 5_000,
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
        oid === INT8_OID ? parseInt8 : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
    },
  });
  // An idle connection that dies (PostgreSQL restarted, pg_terminate_backend, network cut) is
  // dropped from the pool, which opens a new one on next use; without a listener the 'error'
  // event would end the process.
  pool.on('error', () => undefined);
  // The same for a connection in use between two statements (inside a transaction): the statement
  // in flight is rejected either way, and the pool discards the dead connection on release.
  pool.on('connect', (client) => client.on('error', () => undefined));
  const db = new Kysely<Database>({ dialect: new OwnSchemaPostgresDialect({ pool }) });
  const parsed = new URL(url);
  return {
    db,
    dialect: postgresStrategy,
    description: `postgres://${parsed.host}${parsed.pathname}`,
    // Several processes share PostgreSQL: job claims skip each other's locked rows.
    lockSoleWriter: () => () => undefined,
    close: () => db.destroy(),
  };
}
