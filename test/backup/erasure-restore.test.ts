// Erasure after restore (DAT-3), on both databases: a backup taken before an erasure still holds
// the customer's wrapped key; restoring it must not bring their data back. `paywarden restore`
// re-applies every erasure in the journal (outside the database) that the restored database
// lacks, and so does every gateway start before it serves, for a restore made by other means.
// The journal holds no personal data.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { restoreBackup, runBackup, type BackupOutcome } from '../../src/backup/backup-service.ts';
import { restoreFromCli } from '../../src/cli/backup.ts';
import { systemClock } from '../../src/clock.ts';
import { loadConfig } from '../../src/config/config.ts';
import { openDatabase } from '../../src/db/database.ts';
import { ERASED } from '../../src/privacy/seal.ts';
import { testDialects } from '../helpers/databases.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';

const token = () => randomBytes(6).toString('hex');

for (const dialect of await testDialects()) {
  describe(`erasures survive a restore on ${dialect.name}`, { skip: dialect.skip }, () => {
    const dir = mkdtempSync(join(tmpdir(), 'paywarden-erase-restore-'));
    let url = '';
    let cleanup = async () => {};
    let env: Record<string, string> = {};
    let backup: BackupOutcome;
    const ada = `ada.${token()}@example.com`;
    const reason = `asked by letter ${token()}`;
    let adaPayment = '';
    let bobPayment = '';
    let adaCustomer = '';

    const start = () => startTestGateway(dialect, { env });
    const keyOf = async (id: string) => {
      const database = openDatabase(url);
      try {
        return await database.db
          .selectFrom('customer_keys')
          .select(['wrapped_key', 'erased_at'])
          .where('id', '=', id)
          .executeTakeFirstOrThrow();
      } finally {
        await database.close();
      }
    };
    const assertErasedThroughApi = async () => {
      const gw = await start();
      try {
        const erased = await gw.api('GET', `/v1/payments/${adaPayment}`);
        assert.equal(erased.body.customer.email, ERASED);
        assert.equal(erased.body.amount, 4200, 'the payment itself is kept');
        const kept = await gw.api('GET', `/v1/payments/${bobPayment}`);
        assert.match(kept.body.customer.email, /^bob\./, 'another customer untouched');
      } finally {
        await gw.close();
      }
    };

    before(async () => {
      ({ url, cleanup } = await dialect.create());
      env = {
        PAYWARDEN_DATA_DIR: join(dir, 'data'),
        PAYWARDEN_DATABASE_URL: url,
        PAYWARDEN_MASTER_KEY: randomBytes(32).toString('base64'),
      };
      const gw: TestGateway = await start();
      try {
        const pay = async (email: string) => {
          const created = await gw.api('POST', '/v1/payments', {
            amount: 4200,
            currency: 'NGN',
            reference: `er-${token()}`,
            customer: { email, name: 'Some One' },
            redirect_url: 'https://shop.example/thanks',
          });
          assert.equal(created.status, 201);
          return created.body.id as string;
        };
        adaPayment = await pay(ada);
        bobPayment = await pay(`bob.${token()}@example.com`);
        backup = await runBackup(
          { database: gw.services.database, databaseUrl: url, clock: systemClock },
          join(dir, 'backups'),
        );
        assert.ok(backup.verification.ok, backup.verification.error);
        const erased = await gw.api('POST', '/v1/customers/erase', { email: ada, reason });
        assert.equal(erased.status, 200, JSON.stringify(erased.body));
        adaCustomer = erased.body.customers[0];
      } finally {
        await gw.close();
      }
    });
    after(async () => {
      await cleanup();
      rmSync(dir, { recursive: true, force: true });
    });

    test('the journal names the customer and the request, and holds no personal data', () => {
      const journal = readFileSync(join(dir, 'data', 'erasure-journal.jsonl'), 'utf8');
      const [entry] = journal
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      assert.deepEqual(Object.keys(entry).sort(), ['customer_id', 'erased_at', 'mode', 'request_id']);
      assert.equal(entry.customer_id, adaCustomer);
      assert.ok(!journal.includes(ada) && !journal.includes(ada.split('@')[0]!), 'no email');
      assert.ok(!journal.includes(reason), 'no reason (free text)');
    });

    test('paywarden restore re-applies the erasure: fields read [erased], the data key is gone', async () => {
      const code = await restoreFromCli(loadConfig(env), backup.location, true);
      assert.equal(code, 0);
      const key = await keyOf(adaCustomer);
      assert.equal(key.wrapped_key, null, 'the data key restored from the backup is destroyed again');
      assert.notEqual(key.erased_at, null);
      await assertErasedThroughApi();
      const database = openDatabase(url);
      try {
        const audit = await database.db
          .selectFrom('audit_log')
          .select(['actor_type', 'details_json'])
          .where('action', '=', 'customer.erase')
          .where('actor_type', '=', 'system')
          .execute();
        assert.equal(audit.length, 1, 'the re-application is audited');
        assert.match(audit[0]!.details_json ?? '', /re-applied after a restore/);
      } finally {
        await database.close();
      }
    });

    test('a restore by other means: the gateway re-applies the erasure before it serves', async () => {
      const verification = await restoreBackup(dialect.name, backup.location, url);
      assert.ok(verification.ok);
      assert.notEqual((await keyOf(adaCustomer)).wrapped_key, null, 'the backup holds the key');
      await assertErasedThroughApi();
      assert.equal((await keyOf(adaCustomer)).wrapped_key, null);
    });
  });
}
