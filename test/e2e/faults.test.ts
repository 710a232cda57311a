// The shared fault suite, one parameterised suite for every provider on every database. Each test
// asserts the final state ("never gives value for a payment that did not happen"). Faults are
// injected through the simulators' common control API, on the real wire.
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { manualClock } from '../../src/clock.ts';
import { PROVIDER_KITS } from '../helpers/provider-kits.ts';
import { testDialects } from '../helpers/databases.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { payAtCheckout, waitUntil } from '../helpers/checkout.ts';
import { flutterwaveSignature } from '../../src/providers/flutterwave/webhook.ts';

const dialects = await testDialects();
for (const kit of PROVIDER_KITS)
  for (const dialect of dialects) {
    describe(`${kit.name} payment faults on ${dialect.name}`, { skip: dialect.skip }, () => {
      let gw: TestGateway;
      const clock = manualClock(Date.now());
      let counter = 0;
      before(async () => {
        gw = await startTestGateway(dialect, { clock, start: { providerTimeoutMs: 300 } });
      });
      after(async () => gw.close());
      const sim = (method: string, path: string, body?: unknown): Promise<any> => gw.sim(method, path, body, kit.name);
      beforeEach(async () => {
        await sim('DELETE', '/_sim/faults');
      });

      const db = () => gw.services.database.db;
      const createPayment = async (overrides: Record<string, unknown> = {}) => {
        counter += 1;
        const res = await gw.api('POST', '/v1/payments', {
          ...newPayment(`fault-${kit.name}-${dialect.name}-${counter}`),
          ...overrides,
        });
        assert.equal(res.status, 201, JSON.stringify(res.body));
        return res.body as { id: string; checkout_url: string; reference: string };
      };
      const newPayment = (reference: string) => ({
        amount: kit.amount,
        currency: kit.currency,
        provider: kit.name,
        reference,
        customer: kit.customer,
        redirect_url: 'https://merchant.example/r',
      });
      const webhooksFor = async (paymentId: string) =>
        db().selectFrom('provider_webhooks').selectAll().where('provider_reference', '=', paymentId).execute();
      const statusOf = async (paymentId: string) =>
        (await db().selectFrom('payments').select('status').where('id', '=', paymentId).executeTakeFirstOrThrow())
          .status;
      const eventsFor = async (paymentId: string) =>
        (await db().selectFrom('events').select('type').where('object_id', '=', paymentId).execute()).map(
          (e) => e.type,
        );

      test('a forged signature is refused with 401 and stores nothing', async () => {
        const payment = await createPayment();
        for (const { headers, body } of kit.forged(payment.id)) {
          const res = await fetch(`${gw.url}/webhooks/${kit.name}`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', ...headers },
            body,
          });
          assert.equal(res.status, 401);
          assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'webhook_signature_invalid');
        }
        assert.equal((await webhooksFor(payment.id)).length, 0);
        await gw.services.worker.drain();
        assert.equal(await statusOf(payment.id), 'pending');
        // Counted for monitoring (MON-1, WHI-5).
        const metrics = await (await fetch(`${gw.url}/metrics`)).text();
        assert.match(
          metrics,
          new RegExp(`paywarden_provider_webhooks_total\\{provider="${kit.name}",result="bad_signature"\\} [1-9]`),
        );
        // The queue gauges come from the gateway's own database; nothing was due after the drain.
        assert.match(metrics, /^paywarden_jobs_oldest_ready_seconds 0$/m);
      });

      test('oversized and unknown-provider deliveries are refused before any work', async () => {
        const huge = await fetch(`${gw.url}/webhooks/${kit.name}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ pad: 'x'.repeat(300_000) }),
        });
        assert.equal(huge.status, 413);
        assert.equal(((await huge.json()) as { error: { code: string } }).error.code, 'body_too_large');
        const unknown = await fetch(`${gw.url}/webhooks/acme`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: '{}',
        });
        assert.equal(unknown.status, 404);
      });

      test('the same webhook delivered five times is stored and processed once', async () => {
        const payment = await createPayment();
        await sim('POST', '/_sim/faults', { fault: 'duplicate_webhook', tx_ref: payment.id, value: 5 });
        await payAtCheckout(payment.checkout_url);
        await waitUntil(
          async () =>
            (await sim('GET', '/_sim/webhooks')).filter((w: { body: string }) => w.body.includes(payment.id)).length >=
            5,
          'five deliveries',
        );
        await waitUntil(async () => (await webhooksFor(payment.id)).length === 1, 'the stored webhook');
        await gw.services.worker.drain();
        assert.equal((await webhooksFor(payment.id)).length, 1);
        assert.equal(await statusOf(payment.id), 'succeeded');
        assert.deepEqual(await eventsFor(payment.id), ['payment.succeeded']);
      });

      for (const [fault, reason] of [
        ['wrong_amount', 'mismatch:amount'],
        ['wrong_currency', 'mismatch:currency'],
      ] as const) {
        test(`${fault} in the verify answer is never success: requires_review`, async () => {
          const payment = await createPayment();
          await sim('POST', '/_sim/faults', { fault, tx_ref: payment.id, times: 0 });
          await payAtCheckout(payment.checkout_url);
          await waitUntil(async () => (await webhooksFor(payment.id)).length === 1, 'the webhook');
          await gw.services.worker.drain();
          const row = await db()
            .selectFrom('payments')
            .selectAll()
            .where('id', '=', payment.id)
            .executeTakeFirstOrThrow();
          assert.equal(row.status, 'requires_review');
          assert.equal(row.status_reason, reason);
          assert.deepEqual(await eventsFor(payment.id), ['payment.requires_review']);
        });
      }

      test('a verify answer without a currency is never success, and never an endless retry: requires_review', async () => {
        const payment = await createPayment();
        await sim('POST', '/_sim/faults', { fault: 'missing_currency', tx_ref: payment.id, times: 0 });
        await payAtCheckout(payment.checkout_url);
        await waitUntil(async () => (await webhooksFor(payment.id)).length === 1, 'the webhook');
        await gw.services.worker.drain();
        const row = await db()
          .selectFrom('payments')
          .selectAll()
          .where('id', '=', payment.id)
          .executeTakeFirstOrThrow();
        assert.equal(row.status, 'requires_review');
        assert.equal(row.status_reason, kit.majorUnits ? 'mismatch:currency,amount' : 'mismatch:currency');
        assert.deepEqual(await eventsFor(payment.id), ['payment.requires_review']);
        // The webhook's job ran to its end (an exception would have left it to be retried).
        const [webhook] = await webhooksFor(payment.id);
        assert.equal(webhook?.status, 'processed');
        assert.equal(webhook?.result, 'requires_review');
        const verifications = await db()
          .selectFrom('verifications')
          .select('outcome')
          .where('payment_id', '=', payment.id)
          .execute();
        assert.deepEqual(
          verifications.map((v) => v.outcome),
          ['mismatch'],
        );
      });

      if (kit.name === 'flutterwave') {
        test('a genuine webhook without a currency is stored and still leads to verification', async () => {
          const payment = await createPayment();
          // The simulator's own delivery is held back; the test sends one without a currency,
          // signed with the gateway's secret hash, as Flutterwave would.
          await sim('POST', '/_sim/faults', { fault: 'no_webhook', tx_ref: payment.id });
          await sim('POST', '/_sim/faults', { fault: 'missing_currency', tx_ref: payment.id, times: 0 });
          await payAtCheckout(payment.checkout_url);
          const transactions: Array<{ id: number; tx_ref: string; amount: number; status: string }> = await sim(
            'GET',
            '/_sim/transactions',
          );
          const tx = transactions.find((t) => t.tx_ref === payment.id);
          assert.ok(tx !== undefined);
          const body = JSON.stringify({
            event: 'charge.completed',
            data: { id: tx.id, tx_ref: tx.tx_ref, status: tx.status, amount: tx.amount },
          });
          const secretHash = gw.services.config.providers.flutterwave!.test.credentials.secretHash!.reveal();
          const res = await fetch(`${gw.url}/webhooks/flutterwave`, {
            method: 'POST',
            headers: {
              'content-type': 'application/json',
              'flutterwave-signature': flutterwaveSignature(body, secretHash),
            },
            body,
          });
          assert.equal(res.status, 200);
          await gw.services.worker.drain();
          const [webhook] = await webhooksFor(payment.id);
          assert.equal(webhook?.status, 'processed');
          assert.equal(webhook?.result, 'requires_review');
          assert.equal(await statusOf(payment.id), 'requires_review');
        });
      }

      test('provider 500 leaves the payment pending; the retry after backoff succeeds', async () => {
        const payment = await createPayment();
        await payAtCheckout(payment.checkout_url);
        await waitUntil(async () => (await webhooksFor(payment.id)).length === 1, 'the webhook');
        await sim('POST', '/_sim/faults', { fault: 'http_500', times: 2 });
        await gw.services.worker.drain();
        assert.equal(await statusOf(payment.id), 'pending');
        const verifications = await db()
          .selectFrom('verifications')
          .select('outcome')
          .where('payment_id', '=', payment.id)
          .execute();
        assert.ok(verifications.every((v) => v.outcome === 'indefinite') && verifications.length >= 1);
        clock.advance(60_000);
        await gw.services.worker.drain();
        clock.advance(120_000);
        await gw.services.worker.drain();
        assert.equal(await statusOf(payment.id), 'succeeded');
      });

      test('a provider timeout is not a failure: pending, then verified later', async () => {
        const payment = await createPayment();
        await payAtCheckout(payment.checkout_url);
        await waitUntil(async () => (await webhooksFor(payment.id)).length === 1, 'the webhook');
        await sim('POST', '/_sim/faults', { fault: 'timeout', times: 1 });
        await gw.services.worker.drain();
        assert.equal(await statusOf(payment.id), 'pending');
        await sim('DELETE', '/_sim/faults');
        clock.advance(60_000);
        await gw.services.worker.drain();
        assert.equal(await statusOf(payment.id), 'succeeded');
      });

      test('a webhook that never comes: reconciliation finds the payment on schedule', async () => {
        const payment = await createPayment();
        await sim('POST', '/_sim/faults', { fault: 'no_webhook', tx_ref: payment.id });
        await payAtCheckout(payment.checkout_url);
        await gw.services.worker.drain();
        assert.equal(await statusOf(payment.id), 'pending');
        assert.equal(await gw.services.reconciler.sweep(), 0, 'nothing due before the first check');
        clock.advance(10 * 60_000 + 1);
        assert.ok((await gw.services.reconciler.sweep()) >= 1);
        await gw.services.worker.drain();
        assert.equal(await statusOf(payment.id), 'succeeded');
      });

      test('a payment nobody pays expires after its expiry, with an event', async () => {
        const payment = await createPayment();
        for (let hours = 0; hours < 25; hours += 1) {
          clock.advance(3_600_000);
          await gw.services.reconciler.sweep();
          await gw.services.worker.drain();
        }
        assert.equal(await statusOf(payment.id), 'expired');
        assert.deepEqual(await eventsFor(payment.id), ['payment.expired']);
      });

      test('a declined payment fails, and only then may its reference be used again', async () => {
        const payment = await createPayment();
        const again = await gw.api('POST', '/v1/payments', newPayment(payment.reference));
        assert.equal(again.status, 409);
        assert.equal(again.body.error.code, 'reference_already_used');
        await payAtCheckout(payment.checkout_url, 'decline');
        if (kit.webhookOnDecline) {
          await waitUntil(async () => (await webhooksFor(payment.id)).length === 1, 'the webhook');
          await gw.services.worker.drain();
        } else {
          clock.advance(10 * 60_000 + 1);
          await gw.services.reconciler.sweep();
          await gw.services.worker.drain();
        }
        assert.equal(await statusOf(payment.id), 'failed');
        const retry = await gw.api('POST', '/v1/payments', newPayment(payment.reference));
        assert.equal(retry.status, 201);
        assert.notEqual(retry.body.id, payment.id);
      });

      test('a succeeded reference can never be paid again', async () => {
        const payment = await createPayment();
        await payAtCheckout(payment.checkout_url);
        await waitUntil(async () => (await webhooksFor(payment.id)).length === 1, 'the webhook');
        await gw.services.worker.drain();
        assert.equal(await statusOf(payment.id), 'succeeded');
        const again = await gw.api('POST', '/v1/payments', newPayment(payment.reference));
        assert.equal(again.status, 409);
      });

      test('out-of-order webhooks: a stale failure arriving after success changes nothing', async () => {
        const payment = await createPayment();
        await sim('POST', '/_sim/faults', { fault: 'out_of_order', tx_ref: payment.id });
        await payAtCheckout(payment.checkout_url);
        await waitUntil(async () => (await webhooksFor(payment.id)).length === 2, 'both webhooks');
        await gw.services.worker.drain();
        assert.equal(await statusOf(payment.id), 'succeeded');
        assert.deepEqual(await eventsFor(payment.id), ['payment.succeeded']);
      });

      test('the provider refusing to create a checkout fails the payment and frees its reference', async () => {
        await sim('POST', '/_sim/faults', { fault: 'http_503', times: 1 });
        const res = await gw.api('POST', '/v1/payments', newPayment(`unlucky-${kit.name}`));
        assert.equal(res.status, 502);
        assert.equal(res.body.error.code, 'provider_unavailable');
        const retry = await gw.api('POST', '/v1/payments', newPayment(`unlucky-${kit.name}`));
        assert.equal(retry.status, 201);
      });
    });
  }
