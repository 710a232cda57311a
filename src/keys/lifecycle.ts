// Key expiry warnings (API-3): 14, 7 and 1 days before a key expires it is flagged on the dashboard
// and in `keys list` (expiryWarning), counted on /metrics (read from the table at each scrape, so
// every process reports the same), and logged once per threshold (warnExpiringKeys, a guarded
// update, so two processes sweeping together log it once). Rolled keys are not warned about: their
// end was chosen.
import { Gauge, type Registry } from 'prom-client';
import type { Logger } from 'pino';
import type { Clock } from '../clock.ts';
import type { Db, Mode } from '../db/schema.ts';
import { DAY_MS } from './key-policy.ts';

export const WARNING_DAYS = [14, 7, 1] as const;
export type WarningDays = (typeof WARNING_DAYS)[number];

/** The tightest threshold a key is within, or undefined (not near expiry, or already expired). */
export function expiryWarning(expiresAt: number, nowMs: number): WarningDays | undefined {
  const leftMs = expiresAt - nowMs;
  if (leftMs <= 0) return undefined;
  return [...WARNING_DAYS].reverse().find((days) => leftMs <= days * DAY_MS);
}

export function daysLeft(expiresAt: number, nowMs: number): number {
  return Math.max(0, Math.ceil((expiresAt - nowMs) / DAY_MS));
}

const activeKeys = (db: Db, nowMs: number) =>
  db
    .selectFrom('api_keys')
    .where('revoked_at', 'is', null)
    .where('rolled_to', 'is', null)
    .where('expires_at', '>', nowMs);

export interface ExpiryWarningLogged {
  readonly id: string;
  readonly mode: Mode;
  readonly withinDays: WarningDays;
  readonly expiresAt: number;
}

export async function warnExpiringKeys(deps: { db: Db; clock: Clock; logger: Logger }): Promise<ExpiryWarningLogged[]> {
  const now = deps.clock.nowMs();
  const soon = await activeKeys(deps.db, now)
    .where('expires_at', '<=', now + WARNING_DAYS[0] * DAY_MS)
    .select(['id', 'mode', 'name', 'display_prefix', 'expires_at', 'expiry_warned_days'])
    .execute();
  const logged: ExpiryWarningLogged[] = [];
  for (const key of soon) {
    const withinDays = expiryWarning(key.expires_at ?? 0, now);
    if (withinDays === undefined) continue;
    if (key.expiry_warned_days !== null && key.expiry_warned_days <= withinDays) continue;
    const claimed = await deps.db
      .updateTable('api_keys')
      .set({ expiry_warned_days: withinDays })
      .where('id', '=', key.id)
      .where((eb) => eb.or([eb('expiry_warned_days', 'is', null), eb('expiry_warned_days', '>', withinDays)]))
      .executeTakeFirst();
    if (claimed.numUpdatedRows !== 1n) continue;
    deps.logger.warn(
      {
        alert: 'api_key_expiring',
        keyId: key.id,
        mode: key.mode,
        name: key.name,
        prefix: key.display_prefix,
        withinDays,
        expiresAt: new Date(key.expires_at ?? 0).toISOString(),
      },
      `API key ${key.id} expires within ${withinDays} day${withinDays === 1 ? '' : 's'}; roll it (keys roll)`,
    );
    logged.push({ id: key.id, mode: key.mode, withinDays, expiresAt: key.expires_at ?? 0 });
  }
  return logged;
}

export function registerKeyMetrics(deps: { registry: Registry; db: Db; clock: Clock }): void {
  new Gauge({
    name: 'paywarden_api_keys_expiring',
    help: 'Active API keys (not rolled or revoked) expiring within 14, 7 and 1 days, by mode',
    labelNames: ['mode', 'within_days'],
    registers: [deps.registry],
    async collect() {
      const now = deps.clock.nowMs();
      const rows = await activeKeys(deps.db, now)
        .where('expires_at', '<=', now + WARNING_DAYS[0] * DAY_MS)
        .select(['mode', 'expires_at'])
        .execute();
      this.reset();
      for (const mode of ['test', 'live'] as const)
        for (const days of WARNING_DAYS)
          this.set(
            { mode, within_days: String(days) },
            rows.filter((r) => r.mode === mode && (r.expires_at ?? 0) <= now + days * DAY_MS).length,
          );
    },
  });
}
