// A durable job queue in our own database, so that a job commits in the same transaction as the
// state change that caused it (no dual write). Rows: queued -> running (leased) -> done | dead.
// A worker that dies mid-job leaves a lease that expires, and the job runs again: handlers must be
// idempotent, and they are (every handler re-reads state and transitions through the state
// machine, which refuses a second transition).
import { sql } from 'kysely';
import type { Clock } from '../clock.ts';
import type { DialectStrategy } from '../db/dialect.ts';
import type { Insertable } from 'kysely';
import type { Db, DbOrTx, JobRow, JobsTable } from '../db/schema.ts';
import { newId } from '../ids.ts';

export interface EnqueueOptions {
  readonly kind: string;
  readonly payload: Record<string, unknown>;
  readonly runAtMs?: number;
  /** While a job with this key is queued or running, enqueuing another is a no-op. */
  readonly dedupeKey?: string;
  readonly maxAttempts?: number;
}

export interface JobQueue {
  enqueue(db: DbOrTx, options: EnqueueOptions): Promise<void>;
  claim(limit: number, leaseMs: number): Promise<JobRow[]>;
  /** Marks finished jobs done, many in one statement (one commit for a whole claimed batch). */
  complete(ids: readonly string[]): Promise<void>;
  reschedule(id: string, delayMs: number, error: string): Promise<void>;
  kill(id: string, error: string): Promise<void>;
  /** Called after enqueue commits, so in-process workers wake up without waiting for a poll. */
  onEnqueued(listener: () => void): void;
  notify(): void;
}

/** The row `enqueue` writes; exposed for batch writers that insert jobs alongside other rows. */
export function buildJobRow(options: EnqueueOptions, nowMs: number): Insertable<JobsTable> {
  return {
    id: newId('job'),
    kind: options.kind,
    payload_json: JSON.stringify(options.payload),
    status: 'queued',
    attempts: 0,
    max_attempts: options.maxAttempts ?? 10,
    run_at: options.runAtMs ?? nowMs,
    lease_until: null,
    last_error: null,
    dedupe_key: options.dedupeKey ?? null,
    created_at: nowMs,
    updated_at: nowMs,
  };
}

/** The insert `enqueue` runs, for callers that send it with other writes (transaction-writes.ts). */
export function enqueueInsert(executor: DbOrTx, options: EnqueueOptions, nowMs: number) {
  const insert = executor.insertInto('jobs').values(buildJobRow(options, nowMs));
  if (options.dedupeKey === undefined) return insert;
  // The predicate must repeat the partial index's WHERE literally (SQLite matches the text of
  // the conflict target against the index; a bound parameter would not match).
  return insert.onConflict((oc) =>
    oc.column('dedupe_key').where(sql<boolean>`dedupe_key is not null and status in ('queued', 'running')`).doNothing(),
  );
}

export function createJobQueue(deps: { db: Db; dialect: DialectStrategy; clock: Clock }): JobQueue {
  const { db, dialect, clock } = deps;
  const listeners: Array<() => void> = [];
  // Expired leases are looked for at most this often (and never less often than a lease lasts):
  // a lease is 60 s by default, so a second more before a dead worker's job runs again costs
  // nothing, and most claims skip a statement and a round trip.
  const REQUEUE_INTERVAL_MS = 1_000;
  let requeueDueAtMs = Number.NEGATIVE_INFINITY;

  return {
    async enqueue(executor, options) {
      await enqueueInsert(executor, options, clock.nowMs()).execute();
    },

    async claim(limit, leaseMs) {
      const now = clock.nowMs();
      // A running job whose lease ran out lost its worker: it goes back in line (at its old run_at,
      // so first). Usually no row matches, and then nothing is written.
      if (now >= requeueDueAtMs) {
        requeueDueAtMs = now + Math.min(REQUEUE_INTERVAL_MS, leaseMs);
        await db
          .updateTable('jobs')
          .set({ status: 'queued', lease_until: null, updated_at: now })
          .where('status', '=', 'running')
          .where('lease_until', '<', now)
          .execute();
      }
      // One statement, no transaction held open across round trips: on SQLite nothing else (the
      // ingest batches) waits behind a claim, and on PostgreSQL the locked rows are skipped. The
      // ready jobs are read in index order (status, run_at), so the cost of a claim does not grow
      // with the backlog: an OR over both states made SQLite sort every queued row for each claim.
      return db
        .updateTable('jobs')
        .set((eb) => ({
          status: 'running',
          lease_until: now + leaseMs,
          attempts: eb('attempts', '+', 1),
          updated_at: now,
        }))
        .where(
          'id',
          'in',
          dialect.lockForClaim(
            db
              .selectFrom('jobs')
              .select('id')
              .where('status', '=', 'queued')
              .where('run_at', '<=', now)
              .orderBy('run_at')
              .limit(limit),
          ),
        )
        .returningAll()
        .execute();
    },

    async complete(ids) {
      if (ids.length === 0) return;
      await db
        .updateTable('jobs')
        .set({ status: 'done', lease_until: null, updated_at: clock.nowMs() })
        .where('id', 'in', ids)
        .execute();
    },

    async reschedule(id, delayMs, error) {
      const now = clock.nowMs();
      await db
        .updateTable('jobs')
        .set({
          status: 'queued',
          run_at: now + delayMs,
          lease_until: null,
          last_error: error.slice(0, 500),
          updated_at: now,
        })
        .where('id', '=', id)
        .execute();
    },

    async kill(id, error) {
      await db
        .updateTable('jobs')
        .set({ status: 'dead', lease_until: null, last_error: error.slice(0, 500), updated_at: clock.nowMs() })
        .where('id', '=', id)
        .execute();
    },

    onEnqueued(listener) {
      listeners.push(listener);
    },

    notify() {
      for (const listener of listeners) listener();
    },
  };
}
