// Rate limits that exist must act (a lesson from peers): per API key (API-8, in Redis when
// configured, for real), per provider for outbound calls (COL-3), and per source IP for bad
// webhook signatures (WHI-6).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createClient } from 'redis';
import { REDIS_URL, redisUnavailable, skipUnless } from '../helpers/services.ts';
import { testDialects } from '../helpers/databases.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';

const [sqlite] = await testDialects();
const payment = (reference: string) => ({
  amount: 1000,
  currency: 'NGN',
  reference,
  customer: { email: 'r@example.com' },
  redirect_url: 'https://merchant.example/r',
});

describe('API rate limit per key, shared through Redis', { skip: await skipUnless(redisUnavailable) }, () => {
  let gw: TestGateway;
  before(async () => {
    gw = await startTestGateway(sqlite!, {
      env: { PAYWARDEN_REDIS_URL: REDIS_URL, PAYWARDEN_API_RATE_LIMIT_PER_MINUTE: '3' },
    });
  });
  after(async () => gw.close());

  test('the fourth request in a minute is 429 with Retry-After; another key is unaffected; counters live in Redis', async () => {
    for (let i = 0; i < 3; i += 1) assert.equal((await gw.api('GET', '/v1/payments')).status, 200);
    const limited = await gw.api('GET', '/v1/payments');
    assert.equal(limited.status, 429);
    assert.equal(limited.body.error.code, 'rate_limited');
    assert.ok(Number(limited.headers.get('retry-after')) >= 1);
    const other = await gw.services.keys.create({ mode: 'test', name: 'other' });
    const res = await fetch(`${gw.url}/v1/payments`, { headers: { authorization: `Bearer ${other.key}` } });
    assert.equal(res.status, 200);

    const keyId = other.id;
    const redis = createClient({ url: REDIS_URL });
    await redis.connect();
    try {
      const stored = await redis.keys(`paywarden:api:${keyId}*`);
      assert.ok(stored.length >= 1, 'the counter is in Redis');
    } finally {
      await redis.quit();
    }
  });
});

describe('outbound budget per provider', () => {
  let gw: TestGateway;
  before(async () => {
    gw = await startTestGateway(sqlite!, { env: { PAYWARDEN_PROVIDER_RATE_LIMIT_TEST_PER_MINUTE: '2' } });
  });
  after(async () => gw.close());

  test('beyond the budget, creation is refused with 429 and the provider never sees the call', async () => {
    assert.equal((await gw.api('POST', '/v1/payments', payment('budget-1'))).status, 201);
    assert.equal((await gw.api('POST', '/v1/payments', payment('budget-2'))).status, 201);
    const third = await gw.api('POST', '/v1/payments', payment('budget-3'));
    assert.equal(third.status, 429);
    assert.equal(third.body.error.code, 'rate_limited');
    assert.ok(Number(third.headers.get('retry-after')) >= 1);
    const checkouts = await fetch(`${gw.simulatorUrl}/_sim/transactions`).then((r) => r.json());
    assert.deepEqual(checkouts, []);
    // The payment stays pending without a checkout, for the merchant's retry of the same request
    // to resume under the same reference (the 429 is not kept under the Idempotency-Key); one nobody
    // resumes expires as checkout_never_created (test/e2e/checkout-resume.test.ts).
    const heldRows = () =>
      gw.services.database.db
        .selectFrom('payments')
        .select(['id', 'status', 'checkout_url'])
        .where('reference', '=', 'budget-3')
        .execute();
    const [held] = await heldRows();
    assert.equal(held?.status, 'pending');
    assert.equal(held?.checkout_url, null);
    // A retry while the budget is still spent is refused the same way and makes no second payment.
    const again = await gw.api('POST', '/v1/payments', payment('budget-3'));
    assert.equal(again.status, 429);
    assert.deepEqual(
      (await heldRows()).map((row) => row.id),
      [held?.id],
    );
    assert.deepEqual(await fetch(`${gw.simulatorUrl}/_sim/transactions`).then((r) => r.json()), []);
  });

  test('a verification over budget is retried later, not failed', async () => {
    const pending = await gw.services.database.db
      .selectFrom('payments')
      .select('id')
      .where('reference', '=', 'budget-1')
      .executeTakeFirstOrThrow();
    const { verifyPayment } = await import('../../src/payments/verification.ts');
    const { RetryLater } = await import('../../src/jobs/worker.ts');
    await assert.rejects(
      verifyPayment({ ...gw.services, db: gw.services.database.db }, pending.id, null),
      (error: unknown) => error instanceof RetryLater && (error.retryAfterMs ?? 0) > 0,
    );
    const row = await gw.services.database.db
      .selectFrom('payments')
      .select('status')
      .where('id', '=', pending.id)
      .executeTakeFirstOrThrow();
    assert.equal(row.status, 'pending');
  });
});

describe('bad webhook signatures per source IP', () => {
  let gw: TestGateway;
  before(async () => {
    gw = await startTestGateway(sqlite!);
  });
  after(async () => gw.close());

  test('after 30 forged deliveries in a minute the source gets 429', async () => {
    const send = () =>
      fetch(`${gw.url}/webhooks/flutterwave`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'verif-hash': randomUUID() },
        body: '{"event":"charge.completed","data":{"id":1}}',
      });
    for (let i = 0; i < 30; i += 1) assert.equal((await send()).status, 401);
    const blocked = await send();
    assert.equal(blocked.status, 429);
    assert.ok(Number(blocked.headers.get('retry-after')) >= 1);
  });
});
