// MON-1 for the payout rules (PAY-5): what was held and why, what waits for a person and for how
// long, and velocity breaches. The held and waiting gauges are read from the database at each
// scrape (every process sharing a database reports the same figures); the flag and breach counters
// are per process, counted when a payout is held, and the rules sum them. Labels are the fixed
// list of rules (controls/hold-record.ts).
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Clock } from '../clock.ts';
import type { Db, PayoutRow } from '../db/schema.ts';
import type { Logger } from '../log.ts';
import { HOLD_RULES, holdOf, type FiredRule } from '../payouts/controls/hold-record.ts';

export function registerPayoutControlMetrics(deps: { registry: Registry; db: Db; clock: Clock; logger: Logger }) {
  const registers = [deps.registry];
  const log = deps.logger.child({ component: 'payout-controls' });
  const heldRows = () =>
    deps.db.selectFrom('payouts').select(['hold_json', 'created_at']).where('status', '=', 'on_hold').execute();

  new Gauge({
    name: 'paywarden_payouts_held',
    help: 'Payouts on hold now, by the rule that holds them (a payout held by two rules counts under each)',
    labelNames: ['rule'],
    registers,
    async collect() {
      const counts = new Map<string, number>(HOLD_RULES.map((r) => [r, 0]));
      for (const row of await heldRows())
        for (const rule of new Set(holdOf(row)?.rules.map((r) => r.rule) ?? []))
          counts.set(rule, (counts.get(rule) ?? 0) + 1);
      this.reset();
      for (const [rule, n] of counts) this.set({ rule }, n);
    },
  });
  const waiting = async () =>
    (await heldRows()).flatMap((row) => {
      const hold = holdOf(row);
      return hold !== null && hold.approvals.length < hold.approvals_required ? [hold.held_at] : [];
    });
  new Gauge({
    name: 'paywarden_payout_approvals_waiting',
    help: 'Held payouts that wait for an approval',
    registers,
    async collect() {
      this.set((await waiting()).length);
    },
  });
  new Gauge({
    name: 'paywarden_payout_approval_oldest_seconds',
    help: 'How long the oldest payout waiting for an approval has waited (0: none waits)',
    registers,
    async collect() {
      const since = await waiting();
      this.set(since.length === 0 ? 0 : Math.max(0, (deps.clock.nowMs() - Math.min(...since)) / 1000));
    },
  });
  const flags = new Counter({
    name: 'paywarden_payout_flags_total',
    help: 'Payouts held, by the rule that held them',
    labelNames: ['rule'],
    registers,
  });
  const breaches = new Counter({
    name: 'paywarden_payout_velocity_breaches_total',
    help: 'Payouts that went over a velocity limit (each was held for approval), by limit',
    labelNames: ['limit'],
    registers,
  });
  for (const rule of HOLD_RULES) flags.inc({ rule }, 0);
  for (const rule of HOLD_RULES.filter((r) => r.startsWith('velocity_'))) breaches.inc({ limit: rule }, 0);

  /** The hold service's onHeld: counted, and an alert-level line for each velocity breach. */
  return function onHeld(payout: PayoutRow, rules: readonly FiredRule[]): void {
    for (const fired of rules) {
      flags.inc({ rule: fired.rule });
      if (!fired.rule.startsWith('velocity_')) continue;
      breaches.inc({ limit: fired.rule });
      log.error(
        { alert: 'payout_velocity_breach', payoutId: payout.id, mode: payout.mode, rule: fired.rule, ...fired.detail },
        'payout over a velocity limit: held for approval',
      );
    }
  };
}
