// API-3 with a controlled clock on both databases: 90-day default expiry and its maximum, warnings
// 14, 7 and 1 days ahead (logged once each, even by two sweepers; counted on /metrics), and roll
// with an overlap after which the old key says expired, distinct from revoked.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { Registry } from 'prom-client';
import { manualClock } from '../clock.ts';
import { Secret } from '../crypto/secret.ts';
import { createLogger } from '../log.ts';
import { createApiKeyService, KeyRequestError } from './api-keys.ts';
import { DAY_MS, MAX_EXPIRY_DAYS } from './key-policy.ts';
import { daysLeft, expiryWarning, registerKeyMetrics, warnExpiringKeys } from './lifecycle.ts';
import * as lifecycleMigration from '../db/migrations/0007b-api-key-lifecycle.ts';
import { openTestDatabase, testDialects } from '../../test/helpers/databases.ts';

function capturedLogger() {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  return { logger: createLogger('info', sink), lines };
}

test('warning thresholds: the tightest of 14, 7, 1 days; none outside 14 days or once expired', () => {
  const now = 0;
  assert.equal(expiryWarning(15 * DAY_MS, now), undefined);
  assert.equal(expiryWarning(14 * DAY_MS, now), 14);
  assert.equal(expiryWarning(7 * DAY_MS + 1, now), 14);
  assert.equal(expiryWarning(7 * DAY_MS, now), 7);
  assert.equal(expiryWarning(DAY_MS, now), 1);
  assert.equal(expiryWarning(1, now), 1);
  assert.equal(expiryWarning(0, now), undefined);
  assert.equal(daysLeft(6.5 * DAY_MS, now), 7);
});

for (const dialect of await testDialects()) {
  describe(`API key expiry and rotation on ${dialect.name}`, { skip: dialect.skip }, () => {
    let database: Awaited<ReturnType<typeof openTestDatabase>>;
    const masterKey = new Secret(randomBytes(32).toString('base64'));
    const clock = manualClock(Date.UTC(2026, 0, 1));
    before(async () => {
      database = await openTestDatabase(dialect);
    });
    after(async () => database.close());
    const service = () => createApiKeyService({ db: database.db, masterKey, clock });
    const reason = async (key: string) => {
      const result = await service().authenticate(key);
      return result.ok ? 'ok' : result.reason;
    };

    test('a key expires after 90 days by default, or its own 1 to 365 days; never longer', async () => {
      const keys = service();
      const plain = await keys.create({ mode: 'test', name: 'plain' });
      assert.equal(plain.expiresAt, clock.nowMs() + 90 * DAY_MS);
      const short = await keys.create({ mode: 'test', name: 'short', expiresInDays: 2 });
      assert.equal(short.expiresAt, clock.nowMs() + 2 * DAY_MS);
      for (const expiresInDays of [0, MAX_EXPIRY_DAYS + 1, 1.5, -3])
        await assert.rejects(keys.create({ mode: 'test', name: 'bad', expiresInDays }), KeyRequestError);
      const start = clock.nowMs();
      try {
        clock.advance(2 * DAY_MS - 1);
        assert.equal(await reason(short.key), 'ok');
        clock.advance(1);
        assert.equal(await reason(short.key), 'expired');
        assert.equal(await reason(plain.key), 'ok');
      } finally {
        clock.set(start);
      }
    });

    test('keys made before expiry existed get 90 days from the migration, with their scopes intact', async () => {
      const { id } = await service().create({ mode: 'test', name: 'ancient' });
      await database.db.updateTable('api_keys').set({ expires_at: null }).where('id', '=', id).execute();
      await lifecycleMigration.down(database.db as never);
      const before = Date.now();
      await lifecycleMigration.up(database.db as never);
      const row = await database.db.selectFrom('api_keys').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
      assert.ok(row.expires_at !== null && row.expires_at >= before + 90 * DAY_MS - 1000);
      assert.equal(row.kind, 'secret');
      assert.equal(row.allowed_networks, '');
    });

    test('warnings 14, 7 and 1 days ahead are logged once each, even by two sweepers at once, and counted', async () => {
      const start = clock.nowMs();
      const { logger, lines } = capturedLogger();
      const keys = service();
      // Live mode: the only live key in this database, so the gauge's figures are this key's.
      const { id } = await keys.create({ mode: 'live', name: 'expiring', expiresInDays: 20 });
      const registry = new Registry();
      registerKeyMetrics({ registry, db: database.db, clock });
      const gauge = async (days: number) =>
        (await registry.getSingleMetric('paywarden_api_keys_expiring')?.get())?.values.find(
          (v) => v.labels.mode === 'live' && v.labels.within_days === String(days),
        )?.value ?? 0;
      const sweepBoth = async () => {
        const [a, b] = await Promise.all([
          warnExpiringKeys({ db: database.db, clock, logger }),
          warnExpiringKeys({ db: database.db, clock, logger }),
        ]);
        return [...a, ...b].filter((w) => w.id === id).map((w) => w.withinDays);
      };
      try {
        assert.deepEqual(await sweepBoth(), [], '20 days out: nothing');
        assert.equal(await gauge(14), 0);
        clock.advance(6 * DAY_MS);
        assert.deepEqual(await sweepBoth(), [14]);
        assert.deepEqual(await sweepBoth(), [], 'once');
        assert.deepEqual([await gauge(14), await gauge(7), await gauge(1)], [1, 0, 0]);
        clock.advance(7 * DAY_MS);
        assert.deepEqual(await sweepBoth(), [7]);
        clock.advance(6 * DAY_MS);
        assert.deepEqual(await sweepBoth(), [1]);
        assert.deepEqual(await sweepBoth(), []);
        assert.deepEqual([await gauge(14), await gauge(7), await gauge(1)], [1, 1, 1]);
        const logged = lines.filter((l) => l.alert === 'api_key_expiring' && l.keyId === id);
        assert.deepEqual(
          logged.map((l) => l.withinDays),
          [14, 7, 1],
        );
        assert.ok(!JSON.stringify(logged).includes('secret_hash'));
        const listed = (await keys.list()).find((k) => k.id === id);
        assert.equal(listed?.expiresAt, start + 20 * DAY_MS);
      } finally {
        clock.set(start);
      }
    });

    test('roll: a new key with the same name, scopes and allowlist; the old one works for the overlap, then says expired', async () => {
      const start = clock.nowMs();
      const keys = service();
      const old = await keys.create({
        mode: 'test',
        name: 'backend',
        scopes: ['payments:read', 'events:read'],
        allowedNetworks: ['10.0.0.0/8', '2001:db8::/32'],
      });
      const rolled = await keys.roll(old.id, { overlapSeconds: 3600 });
      assert.ok(rolled.ok);
      assert.notEqual(rolled.key, old.key);
      assert.equal(rolled.previousExpiresAt, start + 3600_000);
      const fresh = (await keys.list()).find((k) => k.id === rolled.id);
      assert.deepEqual(fresh?.scopes, ['payments:read', 'events:read']);
      assert.deepEqual(fresh?.allowedNetworks, ['10.0.0.0/8', '2001:db8::/32']);
      assert.equal(fresh?.name, 'backend');
      assert.equal((await keys.list()).find((k) => k.id === old.id)?.rolledTo, rolled.id);
      try {
        clock.advance(3600_000 - 1);
        assert.equal(await reason(old.key), 'ok', 'both work during the overlap');
        assert.equal(await reason(rolled.key), 'ok');
        clock.advance(1);
        assert.equal(await reason(old.key), 'expired');
        assert.equal(await reason(rolled.key), 'ok');
        assert.deepEqual(await keys.roll(old.id, { overlapSeconds: 0 }), { ok: false, reason: 'not_active' });
        await keys.revoke(rolled.id);
        assert.equal(await reason(rolled.key), 'revoked', 'revoked and expired are told apart');
      } finally {
        clock.set(start);
      }
      const audit = await database.db
        .selectFrom('audit_log')
        .select(['action', 'object_id'])
        .where('object_id', 'in', [old.id, rolled.id])
        .orderBy('action')
        .execute();
      assert.deepEqual(
        audit.map((r) => r.action),
        ['api_key.create', 'api_key.revoke', 'api_key.roll', 'api_key.rolled'],
      );
    });

    test('roll refuses an overlap beyond 7 days, a second roll of the same key, and unknown or revoked keys', async () => {
      const keys = service();
      const old = await keys.create({ mode: 'test', name: 'r' });
      await assert.rejects(keys.roll(old.id, { overlapSeconds: 7 * 86_400 + 1 }), KeyRequestError);
      assert.ok((await keys.roll(old.id, { overlapSeconds: 7 * 86_400 })).ok, 'exactly 7 days is allowed');
      assert.deepEqual(await keys.roll(old.id, { overlapSeconds: 60 }), { ok: false, reason: 'already_rolled' });
      assert.deepEqual(await keys.roll('key_nope', { overlapSeconds: 60 }), { ok: false, reason: 'not_found' });
      const revoked = await keys.create({ mode: 'test', name: 'gone' });
      await keys.revoke(revoked.id);
      assert.deepEqual(await keys.roll(revoked.id, { overlapSeconds: 60 }), { ok: false, reason: 'not_active' });
    });

    test('a publishable key rolls to a publishable key with its one scope', async () => {
      const keys = service();
      const pk = await keys.create({ kind: 'publishable', mode: 'test', name: 'checkout' });
      const rolled = await keys.roll(pk.id, { overlapSeconds: 60 });
      assert.ok(rolled.ok);
      assert.match(rolled.key, /^pk_test_/);
      const result = await keys.authenticate(rolled.key);
      assert.ok(result.ok);
      assert.deepEqual([...result.principal.scopes], ['payments:client_status']);
    });

    test('two rolls of one key at once: one wins, one new key exists', async () => {
      const keys = service();
      const old = await keys.create({ mode: 'test', name: 'race' });
      const results = await Promise.allSettled([
        keys.roll(old.id, { overlapSeconds: 60 }),
        keys.roll(old.id, { overlapSeconds: 60 }),
      ]);
      const won = results.filter((r) => r.status === 'fulfilled' && r.value.ok);
      assert.equal(won.length, 1);
      const successors = (await keys.list()).filter((k) => k.name === 'race' && k.id !== old.id);
      assert.equal(successors.length, 1);
    });

    test('a live key that can write payouts needs an allowlist, and is made signing', async () => {
      const keys = service();
      await assert.rejects(
        keys.create({ mode: 'live', name: 'payouts', scopes: ['payouts:write'] }),
        /must name the addresses/,
      );
      const created = await keys.create({
        mode: 'live',
        name: 'payouts',
        scopes: ['payouts:write'],
        allowedNetworks: ['192.0.2.10'],
      });
      assert.match(created.signingSecret ?? '', /^whsk_[0-9A-Za-z]{43}$/);
      const row = await database.db
        .selectFrom('api_keys')
        .selectAll()
        .where('id', '=', created.id)
        .executeTakeFirstOrThrow();
      assert.ok(
        row.signing_secret_sealed !== null && !row.signing_secret_sealed.includes(created.signingSecret!.slice(5)),
      );
      const result = await keys.authenticate(created.key);
      assert.ok(result.ok);
      assert.equal(result.principal.signingSecret?.reveal(), created.signingSecret);
      // The sealed secret is bound to its key: copied onto another row, it does not open.
      const other = await keys.create({ mode: 'test', name: 'other', signed: true });
      await database.db
        .updateTable('api_keys')
        .set({ signing_secret_sealed: row.signing_secret_sealed })
        .where('id', '=', other.id)
        .execute();
      await assert.rejects(keys.authenticate(other.key));
      // A test-mode payout key needs neither.
      assert.equal(
        (await keys.create({ mode: 'test', name: 'p', scopes: ['payouts:write'] })).signingSecret,
        undefined,
      );
    });
  });
}
