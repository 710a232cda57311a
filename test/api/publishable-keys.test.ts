// API-1 on both databases: a publishable key reads one payment's status with its client secret and
// nothing else; CORS only for the configured origins; the client secret is shown once and stored
// as a keyed hash; a secret key never rides in a URL.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { testDialects } from '../helpers/databases.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';

const payment = () => ({
  amount: 150000,
  currency: 'NGN',
  reference: `pk-${randomUUID()}`,
  customer: { email: 'ada@example.com', name: 'Ada' },
  redirect_url: 'https://merchant.example/r',
});

for (const dialect of await testDialects()) {
  describe(`publishable keys on ${dialect.name}`, { skip: dialect.skip }, () => {
    let gw: TestGateway;
    let pk: string;
    before(async () => {
      gw = await startTestGateway(dialect, {
        env: { PAYWARDEN_PUBLISHABLE_KEY_ORIGINS: 'https://shop.example,https://www.shop.example' },
      });
      pk = (await gw.services.keys.create({ kind: 'publishable', mode: 'test', name: 'checkout' })).key;
    });
    after(async () => gw.close());

    const status = async (id: string, query: Record<string, string>, headers: Record<string, string> = {}) => {
      const response = await fetch(`${gw.url}/v1/payment_status/${id}?${new URLSearchParams(query)}`, { headers });
      const text = await response.text();
      return { status: response.status, body: JSON.parse(text), headers: response.headers, text };
    };

    test('the client secret is shown once on create and stored only as a keyed hash', async () => {
      const created = await gw.api('POST', '/v1/payments', payment());
      assert.equal(created.status, 201);
      assert.match(created.body.client_secret, /^pcs_[0-9A-Za-z]{32}$/);
      const read = await gw.api('GET', `/v1/payments/${created.body.id}`);
      assert.equal(read.body.client_secret, undefined, 'never shown again');
      const row = await gw.services.database.db
        .selectFrom('payments')
        .selectAll()
        .where('id', '=', created.body.id)
        .executeTakeFirstOrThrow();
      assert.equal(row.client_secret_hash?.length, 64);
      assert.ok(!JSON.stringify(row).includes(created.body.client_secret.slice(4)));
    });

    test('with the client secret, the status (no customer data); from an allowed origin, with CORS', async () => {
      const created = await gw.api('POST', '/v1/payments', payment());
      const { id, client_secret } = created.body;
      const plain = await status(id, { key: pk, client_secret });
      assert.equal(plain.status, 200, plain.text);
      assert.deepEqual(plain.body, {
        object: 'payment_status',
        id,
        status: 'pending',
        amount: 150000,
        currency: 'NGN',
        livemode: false,
      });
      assert.ok(!plain.text.includes('ada@example.com'));
      assert.equal(plain.headers.get('access-control-allow-origin'), null, 'no Origin, no CORS header');
      const browser = await status(id, { key: pk, client_secret }, { origin: 'https://www.shop.example' });
      assert.equal(browser.status, 200);
      assert.equal(browser.headers.get('access-control-allow-origin'), 'https://www.shop.example');
      assert.match(browser.headers.get('vary') ?? '', /Origin/);
      const header = await status(id, { client_secret }, { authorization: `Bearer ${pk}` });
      assert.equal(header.status, 200, 'the key may also come in the Authorization header');
    });

    test('another origin, a wrong or another payment’s secret, an unknown payment: refused alike', async () => {
      const a = (await gw.api('POST', '/v1/payments', payment())).body;
      const b = (await gw.api('POST', '/v1/payments', payment())).body;
      const evil = await status(a.id, { key: pk, client_secret: a.client_secret }, { origin: 'https://evil.example' });
      assert.equal(evil.status, 403);
      assert.equal(evil.body.error.code, 'origin_not_allowed');
      assert.equal(evil.headers.get('access-control-allow-origin'), null);
      const crossed = await status(a.id, { key: pk, client_secret: b.client_secret });
      const wrong = await status(a.id, { key: pk, client_secret: `pcs_${'A'.repeat(32)}` });
      const unknown = await status('pay_0000000000000000000000', { key: pk, client_secret: a.client_secret });
      for (const refused of [crossed, wrong, unknown]) {
        assert.equal(refused.status, 404);
        assert.equal(refused.body.error.code, 'not_found');
        assert.equal(refused.body.error.message, 'No such payment.');
      }
      assert.equal((await status(a.id, { key: pk, client_secret: 'short' })).status, 422);
    });

    test('a publishable key can do nothing else; a secret key cannot use the status route or travel in a URL', async () => {
      for (const [method, path] of [
        ['GET', '/v1/payments'],
        ['POST', '/v1/payments'],
        ['GET', '/v1/events'],
        ['POST', '/v1/webhook_endpoints'],
      ] as const) {
        const response = await gw.api(method, path, method === 'POST' ? {} : undefined, {
          authorization: `Bearer ${pk}`,
        });
        assert.equal(response.status, 403, `${method} ${path}`);
        assert.equal(response.body.error.code, 'scope_missing');
      }
      const created = (await gw.api('POST', '/v1/payments', payment())).body;
      const withSecretKey = await status(
        created.id,
        { client_secret: created.client_secret },
        {
          authorization: `Bearer ${gw.key}`,
        },
      );
      assert.equal(withSecretKey.status, 403);
      assert.equal(withSecretKey.body.error.code, 'scope_missing');
      const inUrl = await status(created.id, { key: gw.key, client_secret: created.client_secret });
      assert.equal(inUrl.status, 401);
      assert.equal(inUrl.body.error.code, 'api_key_missing');
    });
  });
}
