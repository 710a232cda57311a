// Events to the merchant's app (WHO-1..3): retries on schedule, failure state, manual redelivery,
// 410, redirects, rotation overlap, and the SSRF guard in live mode.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { Webhook } from 'standardwebhooks';
import { manualClock } from '../../src/clock.ts';
import { RETRY_SCHEDULE_MS } from '../../src/delivery/deliver-job.ts';
import { writeEvent } from '../../src/events/outbox.ts';
import { createFieldCipher } from '../../src/crypto/encryption.ts';
import { generateEndpointSecret } from '../../src/delivery/signing.ts';
import { testDialects } from '../helpers/databases.ts';
import { lookup } from 'node:dns/promises';
import type { ResolveHost } from '../../src/delivery/ssrf.ts';
import { startReceiver, startTestGateway, type TestGateway } from '../helpers/gateway.ts';

// DNS as a rebinding attacker plays it: a public-looking name that resolves to loopback.
const REBOUND_NAME = 'rebind.merchant.example';
const playDns: ResolveHost = async (hostname, family) =>
  hostname === REBOUND_NAME ? [{ address: '127.0.0.1', family: 4 }] : lookup(hostname, { all: true, family });

for (const dialect of await testDialects()) {
  describe(`event delivery on ${dialect.name}`, { skip: dialect.skip }, () => {
    let gw: TestGateway;
    const clock = manualClock(Date.now());
    before(async () => {
      gw = await startTestGateway(dialect, { clock, start: { deliveryResolveHost: playDns } });
    });
    after(async () => gw.close());

    const db = () => gw.services.database.db;
    const emit = async (type = 'payment.succeeded') =>
      db()
        .transaction()
        .execute((trx) =>
          writeEvent(trx, gw.services, { mode: 'test', type, objectId: 'pay_x', data: { object: { id: 'pay_x' } } }),
        );
    const deliveryOf = async (eventId: string) =>
      db().selectFrom('deliveries').selectAll().where('event_id', '=', eventId).executeTakeFirstOrThrow();
    const disableAll = async () => db().updateTable('webhook_endpoints').set({ status: 'disabled' }).execute();
    /** An endpoint written straight to the database, past the API's URL checks (as an old row, or
     * one whose name resolves elsewhere since), so only the delivery-time guard stands in the way. */
    const addEndpoint = async (id: string, mode: 'test' | 'live', url: string) => {
      const now = clock.nowMs();
      await db()
        .insertInto('webhook_endpoints')
        .values({
          id,
          mode,
          url,
          events_json: '["*"]',
          status: 'enabled',
          disabled_reason: null,
          created_at: now,
          deleted_at: null,
        })
        .execute();
      await db()
        .insertInto('endpoint_secrets')
        .values({
          id: `key_${id}`,
          endpoint_id: id,
          sealed_secret: createFieldCipher(gw.services.config.masterKey).encrypt(generateEndpointSecret(), id),
          created_at: now,
          expires_at: null,
        })
        .execute();
    };
    /** A loopback server that counts the requests reaching it. */
    const countingServer = async () => {
      let count = 0;
      const server = createServer((_req, res) => {
        count += 1;
        res.end('ok');
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      return { server, port: (server.address() as { port: number }).port, hits: () => count };
    };

    test('a failing endpoint is retried on the schedule with the same webhook-id, then marked failed; redelivery works', async () => {
      await disableAll();
      const receiver = await startReceiver();
      try {
        const endpoint = (await gw.api('POST', '/v1/webhook_endpoints', { url: receiver.url, events: ['*'] })).body;
        receiver.respondWith(500);
        const eventId = await emit();
        await gw.services.worker.drain();
        assert.equal(receiver.received.length, 1);
        for (let retry = 0; retry < RETRY_SCHEDULE_MS.length; retry += 1) {
          const before = await deliveryOf(eventId);
          assert.equal(before.status, 'pending');
          const waitMs = (before.next_attempt_at ?? 0) - clock.nowMs();
          const scheduled = RETRY_SCHEDULE_MS[retry]!;
          assert.ok(
            waitMs >= scheduled * 0.8 - 1 && waitMs <= scheduled * 1.2 + 1,
            `retry ${retry + 1} after ${waitMs} ms, scheduled ${scheduled} ±20%`,
          );
          clock.advance(waitMs - 1);
          await gw.services.worker.drain();
          assert.equal(receiver.received.length, retry + 1, 'not before its time');
          clock.advance(1);
          await gw.services.worker.drain();
          assert.equal(receiver.received.length, retry + 2);
        }
        const failed = await deliveryOf(eventId);
        assert.equal(failed.status, 'failed');
        assert.equal(failed.attempts, RETRY_SCHEDULE_MS.length + 1);
        const ids = new Set(receiver.received.map((r) => r.headers['webhook-id']));
        assert.deepEqual([...ids], [eventId], 'one webhook-id across every attempt');
        const attempts = await db()
          .selectFrom('delivery_attempts')
          .selectAll()
          .where('delivery_id', '=', failed.id)
          .execute();
        assert.equal(attempts.length, RETRY_SCHEDULE_MS.length + 1);
        // The receiver is on loopback: its answer is never kept (no window into internal services).
        assert.ok(attempts.every((a) => a.status_code === 500 && a.response_excerpt === null));
        const shown = await gw.api('GET', `/v1/events/${eventId}`);
        assert.equal(shown.body.deliveries[0].status, 'failed');

        receiver.respondWith(204);
        // Back to the real time, so the official verifier's 5-minute tolerance applies.
        clock.set(Date.now());
        const redelivered = await gw.api('POST', `/v1/events/${eventId}/redeliver`);
        assert.equal(redelivered.status, 202);
        await gw.services.worker.drain();
        assert.equal((await deliveryOf(eventId)).status, 'succeeded');
        const last = receiver.received.at(-1)!;
        new Webhook(endpoint.secret).verify(last.body, last.headers as Record<string, string>);
        assert.equal(last.headers['webhook-id'], eventId);
      } finally {
        await receiver.close();
      }
    });

    test('3xx is a failure (redirects are not followed); 410 disables the endpoint', async () => {
      await disableAll();
      const receiver = await startReceiver();
      try {
        await gw.api('POST', '/v1/webhook_endpoints', { url: receiver.url, events: ['payment.*'] });
        receiver.respondWith(302);
        const redirected = await emit();
        await gw.services.worker.drain();
        assert.equal((await deliveryOf(redirected)).status, 'pending');
        assert.equal((await deliveryOf(redirected)).last_status_code, 302);
        receiver.respondWith(410);
        const gone = await emit();
        await gw.services.worker.drain();
        const delivery = await deliveryOf(gone);
        assert.equal(delivery.status, 'failed');
        const endpoint = await db()
          .selectFrom('webhook_endpoints')
          .selectAll()
          .where('id', '=', delivery.endpoint_id)
          .executeTakeFirstOrThrow();
        assert.equal(endpoint.status, 'disabled');
      } finally {
        await receiver.close();
      }
    });

    test('during a rotation overlap each delivery carries two v1 signatures, both verifiable', async () => {
      await disableAll();
      const receiver = await startReceiver();
      try {
        clock.set(Date.now());
        const endpoint = (
          await gw.api('POST', '/v1/webhook_endpoints', { url: receiver.url, events: ['payment.succeeded'] })
        ).body;
        const rotated = (await gw.api('POST', `/v1/webhook_endpoints/${endpoint.id}/rotate_secret`)).body;
        await emit();
        await gw.services.worker.drain();
        const delivery = receiver.received.at(-1)!;
        assert.equal(String(delivery.headers['webhook-signature']).split(' ').length, 2);
        for (const secret of [endpoint.secret, rotated.secret])
          new Webhook(secret).verify(delivery.body, delivery.headers as Record<string, string>);
        assert.equal(
          await emit('payment.failed').then(
            async (id) =>
              (await db().selectFrom('deliveries').select('id').where('event_id', '=', id).execute()).length,
          ),
          0,
          'unsubscribed types are not delivered',
        );
      } finally {
        await receiver.close();
      }
    });

    test('live mode refuses loopback targets at connect time: the server never sees the request', async () => {
      await disableAll();
      const { server, port, hits } = await countingServer();
      try {
        for (const [id, url] of [
          ['we_liveloopbackhostname00', `https://localhost:${port}/h`],
          ['we_liveloopbackliteral000', `https://127.0.0.1:${port}/h`],
          ['we_liveplainhttp00000000', `http://merchant.example/h`],
        ] as const) {
          await addEndpoint(id, 'live', url);
        }
        const eventId = await db()
          .transaction()
          .execute((trx) =>
            writeEvent(trx, gw.services, { mode: 'live', type: 'payment.succeeded', objectId: 'pay_y', data: {} }),
          );
        await gw.services.worker.drain();
        assert.equal(hits(), 0, 'no request reached the loopback server');
        const deliveries = await db().selectFrom('deliveries').selectAll().where('event_id', '=', eventId).execute();
        assert.equal(deliveries.length, 3);
        const attempts = await db()
          .selectFrom('delivery_attempts')
          .selectAll()
          .where(
            'delivery_id',
            'in',
            deliveries.map((d) => d.id),
          )
          .execute();
        assert.equal(attempts.length, 3);
        assert.ok(
          attempts.every((a) => a.status_code === null && a.error !== null),
          JSON.stringify(attempts),
        );
      } finally {
        server.close();
      }
    });

    test('a name that resolves to a refused address is caught at connect time: live fails at once, test mode delivers', async () => {
      await disableAll();
      const { server, port, hits } = await countingServer();
      try {
        // The URL check passes (a public name, https); only the resolved address gives it away.
        await addEndpoint('we_livereboundname0000000', 'live', `https://${REBOUND_NAME}:${port}/h`);
        const liveEvent = await db()
          .transaction()
          .execute((trx) =>
            writeEvent(trx, gw.services, { mode: 'live', type: 'payment.succeeded', objectId: 'pay_z', data: {} }),
          );
        await gw.services.worker.drain();
        assert.equal(hits(), 0, 'nothing reached the loopback server');
        const refused = await deliveryOf(liveEvent);
        assert.equal(refused.status, 'failed', 'refused for good, not retried for a day');
        assert.equal(refused.next_attempt_at, null);
        const [attempt] = await db()
          .selectFrom('delivery_attempts')
          .selectAll()
          .where('delivery_id', '=', refused.id)
          .execute();
        assert.match(String(attempt?.error), /ERR_SSRF_BLOCKED/);

        // Test mode may deliver to loopback, through the same resolver.
        await addEndpoint('we_testreboundname0000000', 'test', `http://${REBOUND_NAME}:${port}/h`);
        const testEvent = await emit();
        await gw.services.worker.drain();
        assert.equal(hits(), 1);
        assert.equal((await deliveryOf(testEvent)).status, 'succeeded');
      } finally {
        server.close();
      }
    });
  });
}
