// The one place where SQLite and PostgreSQL differ (see ARCHITECTURE.md, "dialect seam"). Every
// other module writes portable Kysely and asks this module for the few strategies that are not.
import { sql, SqliteAdapter, type CompiledQuery, type Insertable, type Kysely, type SelectQueryBuilder } from 'kysely';
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
  /**
   * Rows read inside a transaction to decide a change that must see every concurrent decision
   * (the last active owner rule): locked until commit on PostgreSQL (FOR UPDATE; read them in a
   * fixed order so two such transactions cannot deadlock), as-is on SQLite, where write
   * transactions already run one at a time.
   */
  lockForUpdate<DB, TB extends keyof DB, O>(query: SelectQueryBuilder<DB, TB, O>): SelectQueryBuilder<DB, TB, O>;
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
  /**
   * Writes that commit together or not at all, none depending on what another returns (compiled
   * beforehand): SQLite runs them on its thread in one round trip with no transaction mutex held;
   * PostgreSQL in a transaction of their own.
   */
  writeAtomically(db: Kysely<Database>, queries: readonly CompiledQuery[]): Promise<void>;
  /** The settings that decide whether a commit survives power loss, as `paywarden doctor` reports them. */
  // biome-ignore lint/suspicious/noExplicitAny: Kysely's own driver and migrator interfaces are typed Kysely<any>
  durability(db: Kysely<any>): Promise<DurabilitySetting[]>;
}

export interface DurabilitySetting {
  readonly name: string;
  readonly value: string;
  /** What a payments database needs. */
  readonly required: string;
  readonly ok: boolean;
}

// SQLite's synchronous is per connection: this reads it on the connection given, which the gateway's
// own code opened (sqlite-thread/thread.ts). journal_mode=WAL is stored in the file.
// biome-ignore lint/suspicious/noExplicitAny: Kysely's own driver and migrator interfaces are typed Kysely<any>
async function sqliteDurability(db: Kysely<any>): Promise<DurabilitySetting[]> {
  const synchronous = Number(Object.values((await sql`pragma synchronous`.execute(db)).rows[0] ?? {})[0]);
  const journal = String(Object.values((await sql`pragma journal_mode`.execute(db)).rows[0] ?? {})[0]);
  const names = ['OFF', 'NORMAL', 'FULL', 'EXTRA'];
  return [
    { name: 'synchronous', value: names[synchronous] ?? String(synchronous), required: 'FULL', ok: synchronous >= 2 },
    { name: 'journal_mode', value: journal, required: 'wal', ok: journal.toLowerCase() === 'wal' },
  ];
}

// biome-ignore lint/suspicious/noExplicitAny: Kysely's own driver and migrator interfaces are typed Kysely<any>
async function postgresDurability(db: Kysely<any>): Promise<DurabilitySetting[]> {
  const rows = (
    await sql<{
      name: string;
      setting: string;
    }>`select name, setting from pg_settings where name in ('fsync', 'synchronous_commit', 'full_page_writes')`.execute(
      db,
    )
  ).rows;
  const value = (name: string) => rows.find((r) => r.name === name)?.setting ?? 'unknown';
  return [
    { name: 'fsync', value: value('fsync'), required: 'on', ok: value('fsync') === 'on' },
    // off acknowledges commits before they reach the disk; local, on and the remote_* levels do not.
    {
      name: 'synchronous_commit',
      value: value('synchronous_commit'),
      required: 'on (or local, remote_write, remote_apply)',
      ok: ['on', 'local', 'remote_write', 'remote_apply'].includes(value('synchronous_commit')),
    },
    {
      name: 'full_page_writes',
      value: value('full_page_writes'),
      required: 'on',
      ok: value('full_page_writes') === 'on',
    },
  ];
}

export function sqliteStrategy(
  writeIngestBatch: DialectStrategy['writeIngestBatch'],
  writeAtomically: (queries: readonly CompiledQuery[]) => Promise<void>,
): DialectStrategy {
  return {
    writeAtomically: (_db, queries) => writeAtomically(queries),
    name: 'sqlite',
    lockForClaim: (query) => query,
    lockForUpdate: (query) => query,
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
    durability: sqliteDurability,
  };
}

/**
 * Group commit on PostgreSQL: a whole batch of webhooks and their jobs in ONE statement (a
 * single statement is its own transaction), so a batch costs one round trip and one commit
 * instead of four round trips (begin, two inserts, commit) holding a pooled connection. The rows
 * travel as two JSON arrays that `jsonb_populate_recordset` types by the tables' own columns; only
 * the columns present in the rows are written, so columns with defaults keep them. A webhook that
 * already exists (`dedupe_key`) is not inserted, and neither is its job.
 */
async function writePostgresIngestBatch(db: Kysely<Database>, rows: readonly IngestRow[]): Promise<boolean[]> {
  const webhookColumns = Object.keys(rows[0]!.webhook);
  const jobColumns = Object.keys(rows[0]!.job);
  const list = (columns: readonly string[]) => sql.join(columns.map((c) => sql.ref(c)));
  const pairs = rows.map((r) => ({ webhook_id: r.webhook.id, job_id: r.job.id }));
  const result = await sql<{ id: string }>`
    with w as (
      insert into provider_webhooks (${list(webhookColumns)})
      select ${list(webhookColumns)} from jsonb_populate_recordset(null::provider_webhooks, ${JSON.stringify(rows.map((r) => r.webhook))}::jsonb)
      on conflict (dedupe_key) do nothing
      returning id
    ), j as (
      insert into jobs (${list(jobColumns)})
      select ${list(jobColumns)} from jsonb_populate_recordset(null::jobs, ${JSON.stringify(rows.map((r) => r.job))}::jsonb)
      where id in (
        select p.job_id from jsonb_to_recordset(${JSON.stringify(pairs)}::jsonb) as p(webhook_id text, job_id text)
        join w on w.id = p.webhook_id
      )
    )
    select id from w`.execute(db);
  const newIds = new Set(result.rows.map((r) => r.id));
  return rows.map((r) => newIds.has(r.webhook.id as string));
}

export const postgresStrategy: DialectStrategy = {
  name: 'postgres',
  lockForClaim: (query) => query.forUpdate().skipLocked(),
  lockForUpdate: (query) => query.forUpdate(),
  isUniqueViolation: (error) =>
    typeof error === 'object' && error !== null && 'code' in error && (error as { code: unknown }).code === '23505',
  ping: async (db) => {
    await sql`select 1`.execute(db);
  },
  writeIngestBatch: writePostgresIngestBatch,
  writeAtomically: async (db, queries) => {
    if (queries.length === 0) return;
    await db.transaction().execute(async (trx) => {
      for (const query of queries) await trx.executeQuery(query);
    });
  },
  durability: postgresDurability,
};

// Node's socket errors and PostgreSQL's "connection exception" (08) and "operator intervention"
// (57P01 terminated by an administrator, 57P02 crash, 57P03 starting up) classes, plus the pg
// driver's own messages for a connection that died or could not be had from the pool in time.
const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND']);
const UNREACHABLE_MESSAGES =
  /^(Connection terminated|Client has encountered a connection error|timeout exceeded when trying to connect|Client was closed)/;

/**
 * Whether an error means "the database is away for now" (restart, failover, network), as opposed
 * to a bug or bad data: such a request answers 503 with Retry-After, and its write did not happen
 * (or, if the commit was lost in flight, the retry finds it through its idempotency or dedupe key).
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const code = String((error as { code?: unknown }).code ?? '');
  if (UNREACHABLE_CODES.has(code) || code.startsWith('08') || /^57P0[123]$/.test(code)) return true;
  if (UNREACHABLE_MESSAGES.test(String((error as { message?: unknown }).message ?? ''))) return true;
  const cause = (error as { cause?: unknown }).cause;
  return cause !== undefined && cause !== error && isDatabaseUnavailable(cause);
}

/**
 * Migration 0019's DDL where the engines differ (the audit sealer, src/audit/sealer.ts). Audit rows
 * get an insertion `position` from the database, so no writer takes a lock for it: PostgreSQL an
 * identity column (a sequence: no contention, and no sequence grant needed by the gateway's role);
 * SQLite a trigger that numbers each new row max + 1 (one writer at a time, so that is race-free).
 * PostgreSQL also gets the guard that lets the gateway's role seal a row once and never change it
 * again (docs/audit-log.md: the column grant on seq, prev_hash and hash needs it); SQLite has no
 * database users, so it has no guard.
 */
export interface AuditSchemaStrategy {
  // biome-ignore lint/suspicious/noExplicitAny: Kysely's own driver and migrator interfaces are typed Kysely<any>
  up(db: Kysely<any>): Promise<void>;
  // biome-ignore lint/suspicious/noExplicitAny: Kysely's own driver and migrator interfaces are typed Kysely<any>
  down(db: Kysely<any>): Promise<void>;
}

const sqliteAuditSchema: AuditSchemaStrategy = {
  async up(db) {
    await sql`alter table audit_log add column position bigint`.execute(db);
    // Rows written before are numbered in the order SQLite stored them; only unsealed rows need it.
    await sql`update audit_log set position = rowid`.execute(db);
    await sql`create trigger audit_log_position after insert on audit_log for each row when new.position is null
      begin
        update audit_log set position = (select coalesce(max(position), 0) + 1 from audit_log) where rowid = new.rowid;
      end`.execute(db);
  },
  async down(db) {
    await sql`drop trigger if exists audit_log_position`.execute(db);
    await sql`alter table audit_log drop column position`.execute(db);
  },
};

const postgresAuditSchema: AuditSchemaStrategy = {
  async up(db) {
    await sql`alter table audit_log add column position bigint generated by default as identity`.execute(db);
    // A sealed row (seq > 0) never changes; an unsealed row may only be sealed (its content stays).
    // Raised as insufficient_privilege, like the grants it completes.
    await sql`create function audit_log_seal_once() returns trigger language plpgsql as $$
      begin
        if old.seq <> 0 then
          raise exception 'permission denied: audit row % is sealed (seq %) and cannot change', old.id, old.seq
            using errcode = '42501';
        end if;
        if new.seq <= 0 or new.hash = '' or new.prev_hash = ''
          or (new.id, new.chain, new.mode, new.actor_type, new.actor_id, new.action, new.object_type, new.object_id,
              new.request_id, new.ip, new.user_agent, new.result, new.details_json, new.created_at, new.position)
          is distinct from
             (old.id, old.chain, old.mode, old.actor_type, old.actor_id, old.action, old.object_type, old.object_id,
              old.request_id, old.ip, old.user_agent, old.result, old.details_json, old.created_at, old.position)
        then
          raise exception 'permission denied: audit row % may only be sealed', old.id using errcode = '42501';
        end if;
        return new;
      end $$`.execute(db);
    await sql`create trigger audit_log_seal_once before update on audit_log
      for each row execute function audit_log_seal_once()`.execute(db);
  },
  async down(db) {
    await sql`drop trigger if exists audit_log_seal_once on audit_log`.execute(db);
    await sql`drop function if exists audit_log_seal_once()`.execute(db);
    await sql`alter table audit_log drop column position`.execute(db);
  },
};

/** The audit schema strategy of the engine behind a Kysely instance (migrations get only that). */
// biome-ignore lint/suspicious/noExplicitAny: Kysely's own driver and migrator interfaces are typed Kysely<any>
export function auditSchemaStrategy(db: Kysely<any>): AuditSchemaStrategy {
  return db.getExecutor().adapter instanceof SqliteAdapter ? sqliteAuditSchema : postgresAuditSchema;
}
