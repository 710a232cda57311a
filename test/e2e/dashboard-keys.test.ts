// The dashboard's API keys page for API-3..6: expiry chosen at creation (never past the maximum),
// the 14/7/1-day warning, roll with an overlap of at most 7 days, a signing key's secret shown
// once, an allowlist, a publishable key; the same refusals as the CLI.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { manualClock } from '../../src/clock.ts';
import { enrolOperator, type TestOperator } from '../helpers/dashboard.ts';
import { testDialects } from '../helpers/databases.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';

for (const dialect of await testDialects()) {
  describe(`dashboard API keys on ${dialect.name}`, { skip: dialect.skip }, () => {
    const clock = manualClock(Date.now());
    let gw: TestGateway;
    let owner: TestOperator;
    before(async () => {
      gw = await startTestGateway(dialect, { clock });
      owner = await enrolOperator(gw, { role: 'owner' });
    });
    after(async () => gw.close());

    test('a key with its own expiry, signing and allowlist: key and signing secret shown once, listed with them', async () => {
      const created = await owner.client.post('/dashboard/keys', {
        name: 'signer',
        mode: 'test',
        scopes: ['payments:read'],
        expires_in_days: '10',
        signed: 'on',
        allowed_networks: '192.0.2.0/24, 2001:db8::/32',
      });
      assert.equal(created.status, 201, created.html);
      assert.match(created.html, /id="new-key">sk_test_[0-9A-Za-z]{48}</);
      assert.match(created.html, /id="new-signing-secret">whsk_[0-9A-Za-z]{43}</);
      const page = (await owner.client.get('/dashboard/keys')).html;
      assert.match(page, /<td>yes<\/td><td>192\.0\.2\.0\/24, 2001:db8::\/32<\/td>/);
      assert.match(page, /id="expiring-keys">1 key expires within 14 days: signer\./);
      assert.match(page, /class="status warning">WARNING: expires within 14 days \(10 left\)/);
      assert.ok(!page.includes('whsk_'), 'the signing secret is never shown again');
    });

    test('refusals: expiry beyond 365 days, a bad range', async () => {
      const over = await owner.client.post('/dashboard/keys', {
        name: 'long',
        mode: 'test',
        scopes: 'payments:read',
        expires_in_days: '366',
      });
      assert.equal(over.status, 400);
      assert.match(over.html, /1 to 365 days/);
      const range = await owner.client.post('/dashboard/keys', {
        name: 'range',
        mode: 'test',
        scopes: 'payments:read',
        allowed_networks: '10.0.0.0/33',
      });
      assert.equal(range.status, 400);
      assert.match(range.html, /not an IPv4 or IPv6 address or CIDR range/);
      assert.ok(!(await gw.services.keys.list()).some((k) => ['long', 'range'].includes(k.name)));
    });

    test('a publishable key is created with its one scope, whatever secret-key scopes stayed ticked', async () => {
      const pk = await owner.client.post('/dashboard/keys', {
        name: 'checkout',
        mode: 'test',
        kind: 'publishable',
        scopes: ['payments:read', 'payments:write'],
      });
      assert.equal(pk.status, 201, pk.html);
      assert.match(pk.html, /id="new-key">pk_test_[0-9A-Za-z]{48}</);
      assert.match(pk.html, /scopes <code>payments:client_status<\/code>/);
    });

    test('roll: a new key shown once, the old one works for the chosen overlap and then says expired; audited', async () => {
      const created = await owner.client.post('/dashboard/keys', {
        name: 'rolling',
        mode: 'test',
        scopes: 'payments:read',
      });
      const oldKey = /id="new-key">(sk_test_[0-9A-Za-z]+)</.exec(created.html)?.[1] ?? '';
      const id = (await gw.services.keys.list()).find((k) => k.name === 'rolling')!.id;
      const tooLong = await owner.client.post(`/dashboard/keys/${id}/roll`, {
        overlap_seconds: String(7 * 86_400 + 1),
      });
      assert.equal(tooLong.status, 400);
      const rolled = await owner.client.post(`/dashboard/keys/${id}/roll`, { overlap_seconds: '3600' });
      assert.equal(rolled.status, 201, rolled.html);
      const newKey = /id="new-key">(sk_test_[0-9A-Za-z]+)</.exec(rolled.html)?.[1] ?? '';
      assert.notEqual(newKey, oldKey);
      assert.match(rolled.html, /the old key keeps working until/);
      const get = async (key: string) =>
        (await fetch(`${gw.url}/v1/payments`, { headers: { authorization: `Bearer ${key}` } })).status;
      assert.equal(await get(oldKey), 200);
      assert.match(
        (await owner.client.get('/dashboard/keys')).html,
        new RegExp(`rolled to key_[0-9A-Za-z]{22}, works until`),
      );
      assert.equal((await owner.client.post(`/dashboard/keys/${id}/roll`, { overlap_seconds: '0' })).status, 409);
      const start = clock.nowMs();
      try {
        clock.advance(3600_000);
        const expired = await fetch(`${gw.url}/v1/payments`, { headers: { authorization: `Bearer ${oldKey}` } });
        assert.equal(((await expired.json()) as any).error.code, 'api_key_expired');
        assert.equal(await get(newKey), 200);
      } finally {
        clock.set(start);
      }
      const audit = await gw.services.database.db
        .selectFrom('audit_log')
        .selectAll()
        .where('action', '=', 'api_key.rolled')
        .where('object_id', '=', id)
        .execute();
      assert.equal(audit[0]?.actor_id, owner.id);
    });

    test('a key near its end is warned about at 7 and 1 days too', async () => {
      const week = await gw.services.keys.create({ mode: 'test', name: 'week', expiresInDays: 7 });
      const day = await gw.services.keys.create({ mode: 'test', name: 'day', expiresInDays: 1 });
      const page = (await owner.client.get('/dashboard/keys')).html;
      assert.match(page, new RegExp(`id="key-${week.id}">.*?WARNING: expires within 7 days \\(7 left\\)`));
      assert.match(page, new RegExp(`id="key-${day.id}">.*?WARNING: expires within 1 day \\(1 left\\)`));
    });
  });
}
