// MON-1: the state of the job queue, read from the database when /metrics is scraped (so every
// gateway process sharing a PostgreSQL queue reports the same figures, and nothing is kept in step
// by hand). A growing backlog or an old ready job means processing is falling behind the webhooks
// coming in; dead jobs stay counted here until someone deals with them (the counter of deaths
// restarts with the process).
import { Gauge, type Registry } from 'prom-client';
import type { Clock } from '../clock.ts';
import type { Db } from '../db/schema.ts';
import { oldestReadyWaitMs, queueCounts } from './queue-state.ts';

export function registerQueueMetrics(deps: { registry: Registry; db: Db; clock: Clock }): void {
  const { db, clock } = deps;
  new Gauge({
    name: 'paywarden_jobs',
    help: 'Jobs not done, by status (queued includes jobs scheduled for later) and kind',
    labelNames: ['status', 'kind'],
    registers: [deps.registry],
    async collect() {
      const counts = await queueCounts(db);
      this.reset();
      for (const { status, kind, count } of counts) this.set({ status, kind }, count);
    },
  });
  new Gauge({
    name: 'paywarden_jobs_oldest_ready_seconds',
    help: 'How long the oldest job that is due has been waiting to run (0 when none is waiting)',
    registers: [deps.registry],
    async collect() {
      this.set((await oldestReadyWaitMs(db, clock.nowMs())) / 1000);
    },
  });
}
