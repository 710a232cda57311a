// Redis stopped and started under a running gateway (a Redis of this test's own, never the shared
// one on 6379): payments and webhooks keep being accepted, limits fall back to this process with
// one alert-level log line and a metric, and limits are shared again once Redis is back.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { createClient } from 'redis';
import { startRedis, waitFor } from './processes.ts';
import { startFaultGateway, type FaultGateway } from './gateway-in-process.ts';

let gateway: FaultGateway | undefined;
let redis: Awaited<ReturnType<typeof startRedis>> | undefined;
after(async () => {
  await gateway?.close();
  await redis?.stop();
});

const sharedKeys = async (url: string) => {
  const client = createClient({ url });
  await client.connect();
  const keys = await client.keys('paywarden:api:*');
  await client.quit();
  return keys;
};

test('Redis down: payments and webhooks still accepted, limits per process, alert and metric; shared again when it returns', async () => {
  redis = await startRedis();
  const port = redis.port;
  gateway = await startFaultGateway({ PAYWARDEN_REDIS_URL: redis.url, PAYWARDEN_API_RATE_LIMIT_PER_MINUTE: '12' });

  assert.equal((await gateway.createPayment()).status, 201);
  assert.equal((await gateway.sendWebhook(1)).status, 200);
  assert.equal((await sharedKeys(redis.url)).length, 1, 'the API limit is counted in Redis');
  assert.equal(await gateway.metric('paywarden_redis_up'), 1);
  assert.equal(await gateway.metric('paywarden_rate_limit_fallback_total'), 0);

  await redis.stop();
  await waitFor('the gateway to notice', async () => (await gateway!.metric('paywarden_redis_up')) === 0);
  const payment = await gateway.createPayment();
  assert.equal(payment.status, 201, await payment.clone().text());
  assert.equal((await gateway.sendWebhook(2)).status, 200);
  assert.ok((await gateway.metric('paywarden_rate_limit_fallback_total')) >= 1, 'fallback decisions are counted');
  // The limit still holds, counted in this process: 12 per minute, one already used since Redis left.
  const statuses: number[] = [];
  for (let i = 0; i < 14; i += 1)
    statuses.push(
      (await fetch(`${gateway.url}/v1/payments/missing`, { headers: { authorization: `Bearer ${gateway.key}` } }))
        .status,
    );
  assert.ok(
    statuses.slice(0, 11).every((s) => s !== 429),
    `11 allowed: ${statuses.join(',')}`,
  );
  assert.ok(
    statuses.slice(11).every((s) => s === 429),
    `then rate limited: ${statuses.join(',')}`,
  );
  const alerts = gateway.logs().filter((l) => l.alert === 'redis_unavailable');
  assert.equal(alerts.length, 1, 'one alert per outage, not one per request');
  assert.equal(alerts[0]!.level, 50, 'logged at error level');

  redis = await startRedis(port);
  await waitFor('Redis to be used again', async () => (await gateway!.metric('paywarden_redis_up')) === 1, 15_000);
  assert.equal((await gateway.createPayment()).status, 201);
  assert.equal((await sharedKeys(redis.url)).length, 1, 'counted in Redis again');
  assert.equal(gateway.logs().filter((l) => l.alert === 'redis_recovered').length, 1);
});

test('Redis unreachable at startup: the gateway starts and serves, with limits per process', async () => {
  const absent = await startRedis();
  await absent.stop();
  const lone = await startFaultGateway({ PAYWARDEN_REDIS_URL: absent.url });
  try {
    assert.equal((await lone.createPayment()).status, 201);
    assert.equal(await lone.metric('paywarden_redis_up'), 0);
    assert.equal(lone.logs().filter((l) => l.alert === 'redis_unavailable').length, 1);
  } finally {
    await lone.close();
  }
});
