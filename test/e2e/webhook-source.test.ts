// WHI-9: live-mode Paystack webhooks are accepted only from Paystack's published addresses (the
// list is configurable, or `off`); test mode never checks. Behind a trusted TLS proxy the source
// is the client address the proxy reports.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { paystackSignature } from '../../src/providers/paystack/webhook.ts';
import { testDialects } from '../helpers/databases.ts';
import { liveModeEnv, startTestGateway, type TestGateway } from '../helpers/gateway.ts';

const [sqlite] = await testDialects();
const liveKey = `sk_live_${randomBytes(20).toString('hex')}`;
const liveEnv = (extra: Record<string, string> = {}) => liveModeEnv({ PAYSTACK_LIVE_SECRET_KEY: liveKey, ...extra });

let counter = 0;
function delivery(secretKey: string) {
  counter += 1;
  const body = JSON.stringify({
    event: 'charge.success',
    data: {
      id: 7_000_000 + counter,
      reference: `pay-unknown${counter}`,
      amount: 5000,
      currency: 'GHS',
      status: 'success',
    },
  });
  return {
    body,
    headers: { 'content-type': 'application/json', 'x-paystack-signature': paystackSignature(body, secretKey) },
  };
}

describe('Paystack source addresses in live mode', () => {
  let gw: TestGateway;
  before(async () => {
    gw = await startTestGateway(sqlite!, { env: liveEnv() });
  });
  after(async () => gw.close());
  const post = (d: ReturnType<typeof delivery>, from: string) =>
    fetch(`${gw.url}/webhooks/paystack`, {
      method: 'POST',
      headers: { ...d.headers, 'x-forwarded-for': from },
      body: d.body,
    });

  test('a correctly signed live webhook from a published Paystack address is stored', async () => {
    assert.equal((await post(delivery(liveKey), '52.31.139.75')).status, 200);
  });

  test('the same from any other address is refused with 403 and stored nowhere', async () => {
    const before = (await gw.services.database.db.selectFrom('provider_webhooks').select('id').execute()).length;
    const res = await post(delivery(liveKey), '203.0.113.9');
    assert.equal(res.status, 403);
    assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'webhook_source_not_allowed');
    assert.equal((await gw.services.database.db.selectFrom('provider_webhooks').select('id').execute()).length, before);
  });

  test('test-mode webhooks are not checked', async () => {
    const testKey = gw.services.config.providers.paystack!.test.credentials.secretKey!.reveal();
    assert.equal((await post(delivery(testKey), '203.0.113.9')).status, 200);
  });
});

describe('a configured allowlist replaces the published one; off disables it', () => {
  test('configured list', async () => {
    const gw = await startTestGateway(sqlite!, { env: liveEnv({ PAYSTACK_WEBHOOK_IP_ALLOWLIST: '198.51.100.7' }) });
    try {
      const send = (from: string) => {
        const d = delivery(liveKey);
        return fetch(`${gw.url}/webhooks/paystack`, {
          method: 'POST',
          headers: { ...d.headers, 'x-forwarded-for': from },
          body: d.body,
        });
      };
      assert.equal((await send('198.51.100.7')).status, 200);
      assert.equal((await send('52.31.139.75')).status, 403);
    } finally {
      await gw.close();
    }
  });

  test('off', async () => {
    const gw = await startTestGateway(sqlite!, { env: liveEnv({ PAYSTACK_WEBHOOK_IP_ALLOWLIST: 'off' }) });
    try {
      const d = delivery(liveKey);
      assert.equal(
        (
          await fetch(`${gw.url}/webhooks/paystack`, {
            method: 'POST',
            headers: { ...d.headers, 'x-forwarded-for': '203.0.113.9' },
            body: d.body,
          })
        ).status,
        200,
      );
    } finally {
      await gw.close();
    }
  });
});
