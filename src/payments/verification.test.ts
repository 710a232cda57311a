// The verification row goes with the transition it decided (one round trip with the event and
// audit rows), and is kept on its own when the payment does not move: a verify that finds the
// payment already final (another worker moved it first) still leaves its record.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { testDialects } from '../../test/helpers/databases.ts';
import { startTestGateway, type TestGateway } from '../../test/helpers/gateway.ts';
import { payAtCheckout, waitUntil } from '../../test/helpers/checkout.ts';
import { verifyPayment } from './verification.ts';

for (const dialect of await testDialects()) {
  describe(`verification records on ${dialect.name}`, { skip: dialect.skip }, () => {
    let gw: TestGateway;
    const db = () => gw.services.database.db;
    const outcomes = async (paymentId: string) =>
      (
        await db()
          .selectFrom('verifications')
          .select('outcome')
          .where('payment_id', '=', paymentId)
          .orderBy('attempted_at')
          .execute()
      ).map((v) => v.outcome);
    before(async () => {
      gw = await startTestGateway(dialect);
    });
    after(async () => gw?.close());

    test('kept with the transition, and kept alone when another worker moved the payment first', async () => {
      const created = await gw.api('POST', '/v1/payments', {
        amount: 4200,
        currency: 'NGN',
        reference: `vr-${randomBytes(6).toString('hex')}`,
        customer: { email: 'verify.record@example.com' },
        redirect_url: 'https://shop.example/thanks',
      });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      const pending = await db()
        .selectFrom('payments')
        .selectAll()
        .where('id', '=', created.body.id)
        .executeTakeFirstOrThrow();
      const paid = await payAtCheckout(created.body.checkout_url);
      assert.ok(paid.status < 400);
      await waitUntil(
        async () =>
          (
            await db()
              .selectFrom('provider_webhooks')
              .select('id')
              .where('provider_reference', '=', pending.id)
              .execute()
          ).length === 1,
        'the provider webhook',
      );
      await gw.services.worker.drain();
      assert.equal((await gw.api('GET', `/v1/payments/${pending.id}`)).body.status, 'succeeded');
      assert.deepEqual(
        await outcomes(created.body.id),
        ['succeeded'],
        'the webhook job verified it, with its transition',
      );

      // A worker that read the payment while it was still pending verifies it now: the provider
      // says paid, but the payment is final already; its verification is kept all the same.
      const { services } = gw;
      const result = await verifyPayment(
        {
          db: services.database.db,
          queue: services.queue,
          clock: services.clock,
          logger: services.logger,
          providers: services.providers,
          privacy: services.privacy,
        },
        pending.id,
        null,
        pending,
      );
      assert.equal(result, 'already_final');
      assert.deepEqual(await outcomes(created.body.id), ['succeeded', 'succeeded']);
      const events = await db().selectFrom('events').select('type').where('object_id', '=', pending.id).execute();
      assert.deepEqual(
        events.map((e) => e.type),
        ['payment.succeeded'],
        'one event: the payment moved once',
      );
    });
  });
}
