// What the job queue holds right now, for /metrics and the dashboard's jobs page. Read from the
// database, so every gateway process sharing a PostgreSQL queue sees the same.
import type { Db } from '../db/schema.ts';

/** Jobs not done, by status and kind (queued includes jobs scheduled for later, such as retries). */
export async function queueCounts(
  db: Db,
): Promise<Array<{ status: 'queued' | 'running' | 'dead'; kind: string; count: number }>> {
  const rows = await db
    .selectFrom('jobs')
    .select(['status', 'kind'])
    .select((eb) => eb.fn.countAll<number | string>().as('n'))
    .where('status', 'in', ['queued', 'running', 'dead'])
    .groupBy(['status', 'kind'])
    .orderBy('status')
    .orderBy('kind')
    .execute();
  return rows.map((r) => ({ status: r.status as 'queued' | 'running' | 'dead', kind: r.kind, count: Number(r.n) }));
}

/** How long the oldest job that is due has been waiting to run, in milliseconds (0 when none). */
export async function oldestReadyWaitMs(db: Db, nowMs: number): Promise<number> {
  const oldest = await db
    .selectFrom('jobs')
    .select((eb) => eb.fn.min<number | string | null>('run_at').as('run_at'))
    .where('status', '=', 'queued')
    .where('run_at', '<=', nowMs)
    .executeTakeFirst();
  return oldest?.run_at === null || oldest?.run_at === undefined ? 0 : Math.max(0, nowMs - Number(oldest.run_at));
}

export interface DeadJob {
  readonly id: string;
  readonly kind: string;
  readonly attempts: number;
  readonly lastError: string | null;
  readonly diedAtMs: number;
}

/** The most recent dead jobs first. */
export async function deadJobs(db: Db, limit = 100): Promise<DeadJob[]> {
  const rows = await db
    .selectFrom('jobs')
    .select(['id', 'kind', 'attempts', 'last_error', 'updated_at'])
    .where('status', '=', 'dead')
    .orderBy('updated_at', 'desc')
    .limit(limit)
    .execute();
  return rows.map((r) => ({
    id: r.id,
    kind: r.kind,
    attempts: Number(r.attempts),
    lastError: r.last_error,
    diedAtMs: Number(r.updated_at),
  }));
}
