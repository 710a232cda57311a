// MON-1, MON-2, API-3: what the alert rules (ops/prometheus/paywarden-alerts.yml) need beyond the
// request-path counters, read from the database at each scrape like the queue gauges, so every
// gateway process sharing a database reports the same figures and nothing is lost at a restart.
// Label sets are bounded: actions and results from fixed lists, keys by id (operators create them).
import { Gauge, type Registry } from 'prom-client';
import type { Clock } from '../clock.ts';
import type { Db } from '../db/schema.ts';

/** The window the recent-activity gauges count over. */
export const RECENT_WINDOW_MS = 15 * 60_000;

/** Audit actions an operator is alerted on (docs/alerts.md); every other action is left out. */
export const ALERTED_ACTIONS = [
  'operator.login',
  'operator.login_failed',
  'operator.locked',
  'operator.reauthenticated',
  'operator.role_changed',
  'operator.disabled',
  'api_key.create',
  'api_key.revoke',
  'webhook_endpoint.rotate_secret',
  'job.run_again',
] as const;

export function registerSecurityMetrics(deps: { registry: Registry; db: Db; clock: Clock }): void {
  const { db, clock } = deps;
  new Gauge({
    name: 'paywarden_audit_recent',
    help: 'Audit rows of security-relevant actions in the last 15 minutes, by action and result (denied = refused by role)',
    labelNames: ['action', 'result'],
    registers: [deps.registry],
    async collect() {
      const rows = await db
        .selectFrom('audit_log')
        .select(['action', 'result', (eb) => eb.fn.countAll<number>().as('n')])
        .where('created_at', '>=', clock.nowMs() - RECENT_WINDOW_MS)
        .where('action', 'in', [...ALERTED_ACTIONS])
        .groupBy(['action', 'result'])
        .execute();
      this.reset();
      // Zeros for the series the rules use, so an alert sees 0 rather than no data.
      for (const action of ['operator.login_failed', 'operator.locked'])
        this.set({ action, result: action === 'operator.locked' ? 'success' : 'failure' }, 0);
      for (const row of rows) this.set({ action: row.action, result: row.result ?? 'success' }, Number(row.n));
    },
  });
  new Gauge({
    name: 'paywarden_api_key_expires_in_seconds',
    help: 'Seconds until each active API key with an expiry stops working (negative: already expired)',
    labelNames: ['key_id', 'mode'],
    registers: [deps.registry],
    async collect() {
      const rows = await db
        .selectFrom('api_keys')
        .select(['id', 'mode', 'expires_at'])
        .where('revoked_at', 'is', null)
        .where('expires_at', 'is not', null)
        .execute();
      this.reset();
      const now = clock.nowMs();
      for (const row of rows) this.set({ key_id: row.id, mode: row.mode }, ((row.expires_at as number) - now) / 1000);
    },
  });
}
