// The whole product on each database: a merchant creates a payment, the customer pays at the
// simulator's hosted checkout, the provider's signed webhook arrives, we verify with the provider,
// and the merchant's own server receives a signed event that the official standardwebhooks
// library accepts.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Webhook } from 'standardwebhooks';
import { testDialects } from '../helpers/databases.ts';
import { startReceiver, startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { payAtCheckout, waitUntil } from '../helpers/checkout.ts';
import { PROVIDER_KITS } from '../helpers/provider-kits.ts';
import { flutterwaveSignature } from '../../src/providers/flutterwave/webhook.ts';

for (const dialect of await testDialects()) {
  describe(`collect a payment end to end on ${dialect.name}`, { skip: dialect.skip }, () => {
    let gw: TestGateway;
    let receiver: Awaited<ReturnType<typeof startReceiver>>;
    before(async () => {
      gw = await startTestGateway(dialect);
      receiver = await startReceiver();
    });
    after(async () => {
      await gw.close();
      await receiver.close();
    });

    for (const kit of PROVIDER_KITS) {
      test(`${kit.name}: create, pay, webhook, verify, signed merchant event`, async () => {
        const endpoint = await gw.api('POST', '/v1/webhook_endpoints', { url: receiver.url, events: ['payment.*'] });
        assert.equal(endpoint.status, 201);
        assert.match(endpoint.body.secret, /^whsec_/);
        const already = receiver.received.length;

        const reference = `order-${kit.name}-1001`;
        const created = await gw.api('POST', '/v1/payments', {
          amount: kit.amount,
          currency: kit.currency,
          reference,
          customer: kit.customer,
          redirect_url: 'https://merchant.example/thanks',
          metadata: { cart: '42' },
        });
        assert.equal(created.status, 201, JSON.stringify(created.body));
        const payment = created.body;
        assert.match(payment.id, /^pay_[0-9A-Za-z]{22}$/);
        assert.equal(payment.object, 'payment');
        assert.equal(payment.status, 'pending');
        assert.equal(payment.amount, kit.amount);
        assert.equal(payment.currency, kit.currency);
        assert.equal(payment.reference, reference);
        assert.equal(payment.provider, kit.name, 'routed by currency');
        assert.equal(payment.livemode, false);
        assert.ok(payment.checkout_url.startsWith(gw.simulatorUrls[kit.name]!), payment.checkout_url);

        const paid = await payAtCheckout(payment.checkout_url);
        assert.ok(paid.status === 302 || paid.status === 303, `checkout answered ${paid.status}`);
        // The redirect is only a hint to the customer's browser; nothing changed yet.
        assert.equal((await gw.api('GET', `/v1/payments/${payment.id}`)).body.status, 'pending');

        await waitUntil(
          async () =>
            (
              await gw.services.database.db
                .selectFrom('provider_webhooks')
                .select('id')
                .where('provider_reference', '=', payment.id)
                .execute()
            ).length === 1,
          'the provider webhook',
        );
        await gw.services.worker.drain();

        const after = await gw.api('GET', `/v1/payments/${payment.id}`);
        assert.equal(after.body.status, 'succeeded');
        assert.equal(after.body.checkout_url, null, 'a paid payment no longer offers a checkout link');
        const verifications = await gw.services.database.db
          .selectFrom('verifications')
          .selectAll()
          .where('payment_id', '=', payment.id)
          .execute();
        assert.deepEqual(
          verifications.map((v) => v.outcome),
          ['succeeded'],
          'success came from a verify call',
        );

        await receiver.waitFor(already + 1);
        const delivery = receiver.received[already]!;
        const verified = new Webhook(endpoint.body.secret).verify(
          delivery.body,
          delivery.headers as Record<string, string>,
        ) as { type: string; data: { object: { id: string; status: string; amount: number } } };
        assert.equal(verified.type, 'payment.succeeded');
        assert.equal(verified.data.object.id, payment.id);
        assert.equal(verified.data.object.amount, kit.amount);
        assert.match(String(delivery.headers['webhook-id']), /^evt_/);

        const events = await gw.api('GET', `/v1/events?object_id=${payment.id}`);
        assert.deepEqual(
          events.body.data.map((e: { type: string }) => e.type),
          ['payment.succeeded'],
        );
        const event = await gw.api('GET', `/v1/events/${events.body.data[0].id}`);
        assert.equal(event.body.deliveries[0].status, 'succeeded');
        assert.equal(event.body.id, delivery.headers['webhook-id']);

        const audit = await gw.services.database.db
          .selectFrom('audit_log')
          .select('action')
          .where('object_id', '=', payment.id)
          .orderBy('created_at')
          .execute();
        // The changes, in order, and the merchant's two reads of the payment (LOG-3).
        assert.deepEqual(
          audit.map((a) => a.action).filter((action) => action !== 'payment.read'),
          ['payment.create', 'payment.transition.pending.succeeded'],
        );
        assert.equal(audit.filter((a) => a.action === 'payment.read').length, 2);
        await gw.api('DELETE', `/v1/webhook_endpoints/${endpoint.body.id}`);
      });
    }

    test('Flutterwave accounts on the legacy setup: verif-hash only and the flat camelCase payload', async () => {
      await gw.sim('PUT', '/_sim/config', { signatureHeaders: 'verif-hash', payloadShape: 'flat' });
      try {
        const created = await gw.api('POST', '/v1/payments', {
          amount: 9900,
          currency: 'NGN',
          reference: 'legacy-1',
          customer: { email: 'l@example.com' },
          redirect_url: 'https://merchant.example/r',
        });
        await payAtCheckout(created.body.checkout_url);
        await waitUntil(
          async () =>
            (
              await gw.services.database.db
                .selectFrom('provider_webhooks')
                .select('signature_scheme')
                .where('provider_reference', '=', created.body.id)
                .execute()
            ).length === 1,
          'the legacy webhook',
        );
        const stored = await gw.services.database.db
          .selectFrom('provider_webhooks')
          .selectAll()
          .where('provider_reference', '=', created.body.id)
          .executeTakeFirstOrThrow();
        assert.equal(stored.signature_scheme, 'verif-hash');
        // Stored sealed (it carries the customer's email): opened with the payload key.
        const body = await gw.services.systemKeys.open(stored.body, `provider_webhooks.body:${stored.id}`);
        assert.ok(JSON.parse(body).txRef, 'the flat form was received');
        await gw.services.worker.drain();
        assert.equal((await gw.api('GET', `/v1/payments/${created.body.id}`)).body.status, 'succeeded');
      } finally {
        await gw.sim('PUT', '/_sim/config', { signatureHeaders: 'both', payloadShape: 'v3' });
      }
    });

    test("the provider's rules before anything is stored: minimum charge, exact amounts, required fields (400)", async () => {
      const count = async (reference: string) =>
        (await gw.services.database.db.selectFrom('payments').select('id').where('reference', '=', reference).execute())
          .length;
      const base = { customer: { email: 'r@example.com' }, redirect_url: 'https://merchant.example/r' };
      const tooSmall = await gw.api('POST', '/v1/payments', {
        ...base,
        amount: 49,
        currency: 'USD',
        reference: 'min-1',
      });
      assert.equal(tooSmall.status, 400);
      assert.equal(tooSmall.body.error.code, 'amount_below_minimum');
      assert.equal(tooSmall.body.error.param, 'amount');
      assert.match(tooSmall.body.error.message, /Stripe's minimum charge in USD is 0\.50/);
      assert.equal(await count('min-1'), 0, 'nothing stored');
      // KwikPaisa needs the customer's name and phone; our API says so, naming field and provider.
      for (const [customer, field] of [
        [{ email: 'k@example.com' }, 'customer.name'],
        [{ email: 'k@example.com', name: 'Asha Rao' }, 'customer.phone'],
      ] as const) {
        const res = await gw.api('POST', '/v1/payments', {
          ...base,
          customer,
          amount: 10500,
          currency: 'INR',
          reference: 'kp-1',
        });
        assert.equal(res.status, 400, JSON.stringify(res.body));
        assert.equal(res.body.error.code, 'provider_field_required');
        assert.equal(res.body.error.param, field);
        assert.match(res.body.error.message, new RegExp(`KwikPaisa requires ${field.replace('.', '\\.')}`));
      }
      assert.equal(await count('kp-1'), 0, 'nothing stored');
      // ISK: our 500 krónur are 50000 in Stripe's API, paid and verified back as 500.
      const isk = await gw.api('POST', '/v1/payments', { ...base, amount: 500, currency: 'ISK', reference: 'isk-1' });
      assert.equal(isk.status, 201, JSON.stringify(isk.body));
      const sessions: Array<{ client_reference_id: string; amount_total: number }> = await gw.sim(
        'GET',
        '/_sim/transactions',
        undefined,
        'stripe',
      );
      assert.equal(sessions.find((s) => s.client_reference_id === isk.body.id)?.amount_total, 50_000);
      await payAtCheckout(isk.body.checkout_url);
      await waitUntil(
        async () =>
          (
            await gw.services.database.db
              .selectFrom('provider_webhooks')
              .select('id')
              .where('provider_reference', '=', isk.body.id)
              .execute()
          ).length === 1,
        'the ISK webhook',
      );
      await gw.services.worker.drain();
      assert.equal((await gw.api('GET', `/v1/payments/${isk.body.id}`)).body.status, 'succeeded');
    });

    test('a currency the Paystack or Flutterwave account is not enabled for: 422 naming the field, nothing charged', async () => {
      const base = { customer: { email: 'r@example.com' }, redirect_url: 'https://merchant.example/r' };
      for (const [provider, currency, settings, reset] of [
        ['paystack', 'USD', { currencies: ['NGN'] }, { currencies: ['NGN', 'GHS', 'KES', 'ZAR', 'USD'] }],
        ['flutterwave', 'GHS', { currencies: ['NGN'] }, { currencies: null }],
      ] as const) {
        await gw.sim('PUT', '/_sim/config', settings, provider);
        try {
          const reference = `cur-${provider}-${dialect.name}`;
          const res = await gw.api('POST', '/v1/payments', { ...base, amount: 5000, currency, provider, reference });
          assert.equal(res.status, 422, JSON.stringify(res.body));
          assert.equal(res.body.error.code, 'provider_refused_field');
          assert.equal(res.body.error.param, 'currency');
          const name = provider === 'paystack' ? 'Paystack' : 'Flutterwave';
          assert.equal(
            res.body.error.message,
            `currency is not enabled ${provider === 'paystack' ? 'on your Paystack account' : `for collections on your ${name} account`}.`,
          );
          assert.doesNotMatch(
            res.body.error.message,
            /Currency not supported by merchant|Invalid currency/,
            "not the provider's words",
          );
          assert.equal(typeof res.body.error.request_id, 'string');
          const stored = await gw.services.database.db
            .selectFrom('payments')
            .select(['status', 'checkout_url'])
            .where('reference', '=', reference)
            .execute();
          assert.ok(
            stored.every((p) => p.status === 'failed' && p.checkout_url === null),
            JSON.stringify(stored),
          );
        } finally {
          await gw.sim('PUT', '/_sim/config', reset, provider);
        }
      }
    });

    test('lists and look-ups: by id, by reference, with cursor pagination', async () => {
      const ids: string[] = [];
      for (let i = 0; i < 3; i += 1) {
        const res = await gw.api('POST', '/v1/payments', {
          amount: 1000 + i,
          currency: 'NGN',
          reference: `list-${i}`,
          customer: { email: 'b@example.com' },
          redirect_url: 'https://merchant.example/r',
        });
        ids.push(res.body.id);
      }
      const byRef = await gw.api('GET', '/v1/payments?reference=list-1');
      assert.deepEqual(
        byRef.body.data.map((p: { id: string }) => p.id),
        [ids[1]],
      );
      const page1 = await gw.api('GET', '/v1/payments?limit=2');
      assert.equal(page1.body.data.length, 2);
      assert.equal(page1.body.has_more, true);
      const page2 = await gw.api('GET', `/v1/payments?limit=2&starting_after=${page1.body.data[1].id}`);
      const seen = [...page1.body.data, ...page2.body.data].map((p: { id: string }) => p.id);
      assert.equal(new Set(seen).size, seen.length, 'pages do not overlap');
      for (const id of ids) assert.ok(seen.includes(id));
      assert.equal((await gw.api('GET', '/v1/payments/pay_0000000000000000000000')).status, 404);
    });
  });
}

const [firstDialect] = await testDialects();
describe('FLUTTERWAVE_WEBHOOK_REQUIRE_SIGNATURE=true: only the HMAC authenticates a Flutterwave webhook', {
  skip: firstDialect?.skip,
}, () => {
  let gw: TestGateway;
  before(async () => {
    gw = await startTestGateway(firstDialect!, { env: { FLUTTERWAVE_WEBHOOK_REQUIRE_SIGNATURE: 'true' } });
  });
  after(async () => gw.close());

  test('a delivery with only the static verif-hash is refused; the signed one is accepted', async () => {
    assert.equal(gw.services.config.providers.flutterwave!.webhookRequireSignature, true);
    const secretHash = gw.services.config.providers.flutterwave!.test.credentials.secretHash!.reveal();
    const body = JSON.stringify({ event: 'charge.completed', data: { id: 77, tx_ref: 'pay_x', status: 'successful' } });
    const post = (headers: Record<string, string>) =>
      fetch(`${gw.url}/webhooks/flutterwave`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body,
      });
    const unsigned = await post({ 'verif-hash': secretHash });
    assert.equal(unsigned.status, 401);
    const signed = await post({ 'flutterwave-signature': flutterwaveSignature(body, secretHash) });
    assert.equal(signed.status, 200);
  });
});
