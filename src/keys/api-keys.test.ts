import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { manualClock } from '../clock.ts';
import { Secret } from '../crypto/secret.ts';
import { createApiKeyService } from './api-keys.ts';
import * as scopesMigration from '../db/migrations/0007-api-key-scopes.ts';
import { LEGACY_SCOPES } from './scopes.ts';
import { openTestDatabase, testDialects } from '../../test/helpers/databases.ts';

for (const dialect of await testDialects()) {
  describe(`API keys on ${dialect.name}`, { skip: dialect.skip }, () => {
    let database: Awaited<ReturnType<typeof openTestDatabase>>;
    before(async () => {
      database = await openTestDatabase(dialect);
    });
    after(async () => database.close());
    const service = () =>
      createApiKeyService({
        db: database.db,
        masterKey: new Secret(randomBytes(32).toString('base64')),
        clock: manualClock(),
      });

    test('a created key is shown once, stored only as a keyed hash, and authenticates', async () => {
      const keys = service();
      const { id, key } = await keys.create({ mode: 'test', name: 'ci' });
      assert.match(key, /^sk_test_[0-9A-Za-z]{48}$/);
      const row = await database.db.selectFrom('api_keys').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
      assert.ok(!JSON.stringify(row).includes(key.slice(24)), 'the secret part is not stored');
      assert.equal(row.secret_hash.length, 64);
      const result = await keys.authenticate(key);
      assert.ok(result.ok);
      const { principal } = result;
      assert.deepEqual(
        {
          id: principal.id,
          kind: principal.kind,
          mode: principal.mode,
          name: principal.name,
          scopes: [...principal.scopes],
        },
        {
          id,
          kind: 'secret',
          mode: 'test',
          name: 'ci',
          scopes: [
            'payments:read',
            'payments:write',
            'webhook_endpoints:read',
            'webhook_endpoints:write',
            'events:read',
          ],
        },
      );
      assert.equal(principal.signingSecret, undefined);
      assert.deepEqual(principal.allowedNetworks, []);
    });

    test('creating and revoking are audited with the mode of the key; without an actor, the command line is named', async () => {
      const keys = service();
      const { id, key } = await keys.create({ mode: 'test', name: 'from-cli' });
      await keys.revoke(id);
      const rows = await database.db
        .selectFrom('audit_log')
        .selectAll()
        .where('object_id', '=', id)
        .orderBy('action')
        .execute();
      assert.deepEqual(
        rows.map((r) => [r.action, r.actor_type, r.actor_id, r.mode]),
        [
          ['api_key.create', 'cli', null, 'test'],
          ['api_key.revoke', 'cli', null, 'test'],
        ],
      );
      assert.ok(
        !rows.some((r) => r.details_json.includes(key.slice(12))),
        'the display prefix at most, never the secret part',
      );
    });

    test('wrong, truncated, mode-swapped and kind-swapped keys are invalid; a revoked one says revoked', async () => {
      const keys = service();
      const { id, key } = await keys.create({ mode: 'test', name: 'x' });
      const lastChar = key.at(-1) === 'a' ? 'b' : 'a';
      const reason = async (presented: string) => {
        const result = await keys.authenticate(presented);
        return result.ok ? 'ok' : result.reason;
      };
      assert.equal(await reason(key.slice(0, -1) + lastChar), 'invalid');
      assert.equal(await reason(key.slice(0, -1)), 'invalid');
      assert.equal(await reason(key.replace('sk_test_', 'sk_live_')), 'invalid');
      assert.equal(await reason(key.replace('sk_test_', 'pk_test_')), 'invalid');
      assert.equal(await reason(''), 'invalid');
      assert.equal(await keys.revoke(id), true);
      assert.equal(await reason(key), 'revoked');
      assert.equal(await reason(key.slice(0, -1) + lastChar), 'invalid', 'only the whole key learns it was revoked');
      assert.equal(await keys.revoke(id), false, 'revoking twice reports nothing revoked');
    });

    test('keys made before scopes existed keep exactly what they could do then (the migration), never payouts', async () => {
      const keys = service();
      const { id, key } = await keys.create({ mode: 'test', name: 'old', scopes: ['payments:read'] });
      // Replay the migration on a table holding a pre-scopes row.
      await scopesMigration.down(database.db as never);
      await scopesMigration.up(database.db as never);
      const result = await keys.authenticate(key);
      assert.ok(result.ok);
      assert.deepEqual([...result.principal.scopes], [...LEGACY_SCOPES]);
      assert.ok(!result.principal.scopes.has('payouts:write'));
      assert.ok((await keys.list()).some((k) => k.id === id && k.scopes.includes('banks:read')));
    });

    test('a key from another deployment (another master key) does not authenticate here', async () => {
      const { key } = await service().create({ mode: 'test', name: 'other' });
      assert.deepEqual(await service().authenticate(key), { ok: false, reason: 'invalid' });
    });

    test('list shows prefix, name, mode and times, never the key', async () => {
      const keys = service();
      const { key } = await keys.create({ mode: 'live', name: 'prod' });
      const listed = (await keys.list()).find((k) => k.name === 'prod');
      assert.ok(listed);
      assert.equal(listed.mode, 'live');
      assert.equal(listed.prefix, key.slice(0, 12));
      assert.ok(!JSON.stringify(await keys.list()).includes(key));
    });
  });
}
