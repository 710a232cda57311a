// MON-1: the state of the job queue, read from the database when /metrics is scraped (so every
// gateway process sharing a PostgreSQL queue reports the same figures, and nothing is kept in step
// by hand). A growing backlog or an old ready job means processing is falling behind the webhooks
// coming in; dead jobs stay counted here until someone deals with them (the counter of deaths
// restarts with the process).
import { Gauge, type Registry } from 'prom-client';
import type { Clock } from '../clock.ts';
import type { Db } from '../db/schema.ts';

const OPEN_STATUSES = ['queued', 'running', 'dead'] as const;

export function registerQueueMetrics(deps: { registry: Registry; db: Db; clock: Clock }): void {
  const { db, clock } = deps;
  new Gauge({
    name: 'paywarden_jobs',
    help: 'Jobs not done, by status (queued includes jobs scheduled for later) and kind',
    labelNames: ['status', 'kind'],
    registers: [deps.registry],
    async collect() {
      const rows = await db.selectFrom('jobs').select(['status', 'kind']).select((eb) => eb.fn.countAll<number | string>().as('n')).where('status', 'in', OPEN_STATUSES).groupBy(['status', 'kind']).execute();
      this.reset();
      for (const row of rows) this.set({ status: row.status, kind: row.kind }, Number(row.n));
    },
  });
  new Gauge({
    name: 'paywarden_jobs_oldest_ready_seconds',
    help: 'How long the oldest job that is due has been waiting to run (0 when none is waiting)',
    registers: [deps.registry],
    async collect() {
      const now = clock.nowMs();
      const oldest = await db.selectFrom('jobs').select((eb) => eb.fn.min<number | string | null>('run_at').as('run_at')).where('status', '=', 'queued').where('run_at', '<=', now).executeTakeFirst();
      const runAtMs = oldest?.run_at === null || oldest?.run_at === undefined ? now : Number(oldest.run_at);
      this.set(Math.max(0, now - runAtMs) / 1000);
    },
  });
}
