// A velocity breach is seen two ways (issue 10 §2, MON-1): the breach counter and one alert-level
// log line naming the payout and the limit; other holds count as flags without that line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { systemClock } from '../clock.ts';
import { openDatabase } from '../db/database.ts';
import type { PayoutRow } from '../db/schema.ts';
import { createLogger } from '../log.ts';
import { registerPayoutControlMetrics } from './payout-control-metrics.ts';

test('a velocity breach: counted by limit and logged at alert level; an amount hold only flagged', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'paywarden-pcm-'));
  const database = openDatabase(join(dir, 'metrics.sqlite'));
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n')) if (line !== '') lines.push(JSON.parse(line));
      done();
    },
  });
  try {
    const registry = new Registry();
    const onHeld = registerPayoutControlMetrics({
      registry,
      db: database.db,
      clock: systemClock,
      logger: createLogger('info', sink),
    });
    const payout = { id: 'po_test_breach', mode: 'test' } as PayoutRow;
    onHeld(payout, [
      { rule: 'velocity_beneficiary_count', approvals: 1, detail: { limit: 2, count: 3, window: '24h' } },
      { rule: 'amount', approvals: 1 },
    ]);
    const breaches = await registry.getSingleMetric('paywarden_payout_velocity_breaches_total')?.get();
    const byLimit = new Map(breaches?.values.map((v) => [v.labels.limit, v.value]));
    assert.equal(byLimit.get('velocity_beneficiary_count'), 1);
    assert.equal(byLimit.get('velocity_mode_amount'), 0, 'other limits exported at zero');
    const flags = await registry.getSingleMetric('paywarden_payout_flags_total')?.get();
    assert.equal(flags?.values.find((v) => v.labels.rule === 'amount')?.value, 1);
    const alerts = lines.filter((l) => l.alert === 'payout_velocity_breach');
    assert.equal(alerts.length, 1, JSON.stringify(lines));
    assert.equal(alerts[0]?.level, 50, 'error level: an alert');
    assert.deepEqual(
      [alerts[0]?.payoutId, alerts[0]?.rule, alerts[0]?.count],
      ['po_test_breach', 'velocity_beneficiary_count', 3],
    );
  } finally {
    await database.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
