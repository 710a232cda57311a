// The restore drill, on both databases: payments and webhooks written through a running gateway,
// a backup taken while they keep coming, then the database lost and restored. Everything the
// gateway acknowledged before the backup began is in that backup; a backup after the load holds
// every acknowledged write. Both backups are opened and checked before anything is restored.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock } from '../../src/clock.ts';
import { openDatabase } from '../../src/db/database.ts';
import { flutterwaveSignature } from '../../src/providers/flutterwave/webhook.ts';
import { restoreBackup, runBackup, verifyBackup, type BackupOutcome } from '../../src/backup/backup-service.ts';
import pg from 'pg';
import { testDialects } from '../helpers/databases.ts';
import { POSTGRES_URL } from '../helpers/services.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';

interface Ack {
  readonly kind: 'payment' | 'webhook';
  /** Payment id, or the webhook's dedupe key. */
  readonly key: string;
  readonly ackedAt: number;
}

for (const dialect of await testDialects()) {
  describe(`restore drill on ${dialect.name}`, { skip: dialect.skip }, () => {
    let gw: TestGateway;
    let databaseUrl: string;
    const dir = mkdtempSync(join(tmpdir(), 'paywarden-drill-'));
    const acks: Ack[] = [];
    let duringLoad: BackupOutcome;
    let duringLoadStartedAt: number;
    let duringLoadFinishedAt: number;
    let afterLoad: BackupOutcome;

    before(async () => {
      gw = await startTestGateway(dialect);
      databaseUrl = gw.services.config.databaseUrl;
      const secretHash = gw.services.config.providers.flutterwave!.test.credentials.secretHash!.reveal();
      let stop = false;
      let next = 1;
      const writer = async (lane: number) => {
        while (!stop) {
          const n = next++;
          if (n % 2 === 0) {
            const res = await gw.api('POST', '/v1/payments', {
              amount: 150000 + n,
              currency: 'NGN',
              reference: `drill-${lane}-${n}`,
              customer: { email: 'ada@example.com' },
              redirect_url: 'https://shop.example/thanks',
            });
            if (res.status === 201) acks.push({ kind: 'payment', key: res.body.id, ackedAt: Date.now() });
          } else {
            const body = JSON.stringify({
              event: 'charge.completed',
              data: { id: 7_000_000 + n, tx_ref: `drill-${n}`, status: 'successful', amount: 1500, currency: 'NGN' },
            });
            const res = await fetch(`${gw.url}/webhooks/flutterwave`, {
              method: 'POST',
              headers: {
                'content-type': 'application/json',
                'flutterwave-signature': flutterwaveSignature(body, secretHash),
              },
              body,
            });
            await res.arrayBuffer();
            if (res.status === 200)
              acks.push({
                kind: 'webhook',
                key: `flutterwave:${7_000_000 + n}:charge.completed:successful`,
                ackedAt: Date.now(),
              });
          }
        }
      };
      const lanes = [1, 2, 3, 4].map((lane) => writer(lane));
      while (acks.length < 40) await new Promise((resolve) => setTimeout(resolve, 10));
      duringLoadStartedAt = Date.now();
      duringLoad = await runBackup({ database: gw.services.database, databaseUrl, clock: systemClock }, dir);
      duringLoadFinishedAt = Date.now();
      const settled = acks.length;
      while (acks.length < settled + 20) await new Promise((resolve) => setTimeout(resolve, 10));
      stop = true;
      await Promise.all(lanes);
      afterLoad = await runBackup({ database: gw.services.database, databaseUrl, clock: systemClock }, dir);
      await gw.close();
    });
    after(async () => {
      rmSync(dir, { recursive: true, force: true });
      // The restores recreated the schema the gateway's cleanup had dropped.
      if (dialect.name !== 'postgres') return;
      const schema = /search_path=(\w+)/.exec(new URL(databaseUrl).searchParams.get('options') ?? '')?.[1];
      if (schema !== undefined) {
        const client = new pg.Client({ connectionString: POSTGRES_URL });
        await client.connect();
        await client.query(`drop schema if exists ${schema} cascade`);
        await client.end();
      }
    });

    test('the load really ran during the backup, and both backups open whole and are recorded', async () => {
      assert.ok(
        acks.some((a) => a.ackedAt > duringLoadStartedAt && a.ackedAt < duringLoadFinishedAt) ||
          acks.filter((a) => a.ackedAt >= duringLoadFinishedAt).length >= 20,
      );
      for (const backup of [duringLoad, afterLoad]) {
        assert.equal(backup.verification.ok, true, backup.verification.error);
        assert.ok((backup.verification.counts.payments ?? 0) > 0);
        assert.ok((backup.verification.counts.provider_webhooks ?? 0) > 0);
      }
      assert.equal((await verifyBackup(dialect.name, afterLoad.location)).ok, true);
    });

    for (const which of ['during the load', 'after the load'] as const) {
      test(`restored from the backup taken ${which}: every write acknowledged before it began is there`, async () => {
        const backup = which === 'during the load' ? duringLoad : afterLoad;
        const cutoff = which === 'during the load' ? duringLoadStartedAt : Number.POSITIVE_INFINITY;
        const target =
          dialect.name === 'sqlite' ? join(dir, `restored-${which.replaceAll(' ', '-')}.sqlite`) : databaseUrl;
        const verification = await restoreBackup(dialect.name, backup.location, target);
        assert.equal(verification.ok, true, verification.error);
        const restored = openDatabase(target, { poolSize: 2 });
        try {
          const expected = acks.filter((a) => a.ackedAt < cutoff);
          assert.ok(expected.length >= 40);
          const payments = new Set((await restored.db.selectFrom('payments').select('id').execute()).map((r) => r.id));
          const webhooks = new Set(
            (await restored.db.selectFrom('provider_webhooks').select('dedupe_key').execute()).map((r) => r.dedupe_key),
          );
          const missing = expected.filter((a) => !(a.kind === 'payment' ? payments : webhooks).has(a.key));
          assert.deepEqual(missing, []);
          // Each acknowledged webhook came with its job, in the same transaction.
          const jobs = await restored.db.selectFrom('jobs').select('id').execute();
          assert.ok(jobs.length >= expected.filter((a) => a.kind === 'webhook').length);
        } finally {
          await restored.close();
        }
      });
    }

    test('a damaged backup is refused before anything is restored', async () => {
      const { writeFileSync, readFileSync } = await import('node:fs');
      const damaged = join(dir, `damaged.${dialect.name === 'sqlite' ? 'sqlite' : 'dump'}`);
      const bytes = readFileSync(afterLoad.location);
      writeFileSync(damaged, bytes.subarray(0, Math.floor(bytes.length / 2)));
      const target = dialect.name === 'sqlite' ? join(dir, 'never.sqlite') : databaseUrl;
      const verification = await restoreBackup(dialect.name, damaged, target);
      assert.equal(verification.ok, false);
    });
  });
}
