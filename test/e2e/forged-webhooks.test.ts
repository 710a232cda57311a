// Issue 16 §3: forged webhooks must not block genuine ones. The simulator's deliveries and the
// forger's come from the same address (127.0.0.1), as they would behind shared egress or a proxy
// without a trusted-proxy setting. Only signature failures are counted and refused; a delivery whose
// signature verifies is never refused by that limiter, and the payment proceeds.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { testDialects } from '../helpers/databases.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { PROVIDER_KITS } from '../helpers/provider-kits.ts';
import { payAtCheckout, waitUntil } from '../helpers/checkout.ts';

const [sqlite] = await testDialects();

for (const kit of PROVIDER_KITS.filter((k) => k.name === 'flutterwave' || k.name === 'stripe')) {
  describe(`${kit.name}: 30+ forged webhooks from one address, then the genuine one`, () => {
    let gw: TestGateway;
    before(async () => {
      gw = await startTestGateway(sqlite!);
    });
    after(async () => gw.close());

    test('forgeries are throttled, the genuine webhook is accepted, and the payment succeeds', async () => {
      const created = await gw.api('POST', '/v1/payments', {
        amount: kit.amount,
        currency: kit.currency,
        provider: kit.name,
        reference: `forged-then-genuine-${kit.name}`,
        customer: kit.customer,
        redirect_url: 'https://merchant.example/r',
      });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      const payment = created.body as { id: string; checkout_url: string };

      const statuses: number[] = [];
      for (let i = 0; i < 40; i += 1) {
        const forged = kit.forged(payment.id)[i % 2]!;
        const res = await fetch(`${gw.url}/webhooks/${kit.name}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...forged.headers },
          body: forged.body,
        });
        statuses.push(res.status);
        if (res.status === 429) assert.ok(Number(res.headers.get('retry-after')) >= 1);
      }
      assert.deepEqual(statuses.slice(0, 30), Array(30).fill(401), 'the first 30 failures are answered 401');
      assert.deepEqual(statuses.slice(30), Array(10).fill(429), 'then the failing source is throttled');

      await payAtCheckout(payment.checkout_url);
      const stored = () =>
        gw.services.database.db
          .selectFrom('provider_webhooks')
          .select('id')
          .where('provider_reference', '=', payment.id)
          .execute();
      await waitUntil(async () => (await stored()).length >= 1, 'the genuine webhook stored');
      const delivered = (await gw.sim('GET', '/_sim/webhooks', undefined, kit.name)) as Array<{ body: string }>;
      assert.ok(delivered.some((w) => w.body.includes(payment.id)));
      await gw.services.worker.drain();
      const row = await gw.services.database.db
        .selectFrom('payments')
        .select('status')
        .where('id', '=', payment.id)
        .executeTakeFirstOrThrow();
      assert.equal(row.status, 'succeeded');

      // Still throttled for forgeries after the genuine one got through.
      const forged = kit.forged(payment.id)[0]!;
      const again = await fetch(`${gw.url}/webhooks/${kit.name}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...forged.headers },
        body: forged.body,
      });
      assert.equal(again.status, 429);
    });
  });
}
