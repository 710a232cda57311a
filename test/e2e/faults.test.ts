// The shared fault suite, one parameterised suite for every provider on every database. Each test
// asserts the final state ("never gives value for a payment that did not happen"). Faults are
// injected through the simulators' common control API, on the real wire.
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { manualClock } from '../../src/clock.ts';
import { lateKwikPaisaDelivery, PROVIDER_KITS } from '../helpers/provider-kits.ts';
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

      test('a declined payment ends only when its checkout can no longer be paid; then its reference is free', async () => {
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
        if (kit.declineKeepsCheckoutOpen) {
          // The customer may still pay at the same checkout: nothing is decided yet.
          assert.equal(await statusOf(payment.id), 'pending');
          for (let hours = 0; hours < 25; hours += 1) {
            clock.advance(3_600_000);
            await gw.services.reconciler.sweep();
            await gw.services.worker.drain();
          }
        }
        assert.equal(await statusOf(payment.id), kit.afterDeclineAndExpiry);
        const retry = await gw.api('POST', '/v1/payments', newPayment(payment.reference));
        assert.equal(retry.status, 201);
        assert.notEqual(retry.body.id, payment.id);
      });

      if (kit.declineKeepsCheckoutOpen)
        test('declined, then paid at the same checkout: succeeded, with no failure in between', async () => {
          const payment = await createPayment();
          const declined = await payAtCheckout(payment.checkout_url, 'decline');
          assert.equal(declined.status, 200, 'the customer stays on the checkout');
          if (kit.webhookOnDecline) {
            await waitUntil(async () => (await webhooksFor(payment.id)).length === 1, 'the decline webhook');
            await gw.services.worker.drain();
          }
          clock.advance(10 * 60_000 + 1);
          await gw.services.reconciler.sweep();
          await gw.services.worker.drain();
          assert.equal(await statusOf(payment.id), 'pending', 'a first decline does not fail the payment');
          const already = (await webhooksFor(payment.id)).length;
          await payAtCheckout(payment.checkout_url);
          await waitUntil(async () => (await webhooksFor(payment.id)).length > already, 'the payment webhook');
          await gw.services.worker.drain();
          assert.equal(await statusOf(payment.id), 'succeeded');
          assert.deepEqual(await eventsFor(payment.id), ['payment.succeeded']);
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

      test("the provider's fee from its verification is on the payment and in its event, in minor units", async () => {
        const payment = await createPayment();
        const before = (await gw.api('GET', `/v1/payments/${payment.id}`)).body;
        assert.equal(before.provider_fee, null, 'not verified yet');
        await payAtCheckout(payment.checkout_url);
        await waitUntil(async () => (await webhooksFor(payment.id)).length >= 1, 'the payment webhook');
        await gw.services.worker.drain();
        const paid = (await gw.api('GET', `/v1/payments/${payment.id}`)).body;
        assert.equal(paid.status, 'succeeded');
        assert.equal(paid.provider_fee, kit.reportedFeeMinor ?? null);
        if (paid.provider_fee !== null) assert.ok(Number.isSafeInteger(paid.provider_fee));
        const row = await db()
          .selectFrom('payments')
          .selectAll()
          .where('id', '=', payment.id)
          .executeTakeFirstOrThrow();
        assert.equal(row.provider_fee_minor, kit.reportedFeeMinor ?? null);
        const events = await gw.services.privacy.openEvents(
          db(),
          await db().selectFrom('events').selectAll().where('object_id', '=', payment.id).execute(),
        );
        const succeeded = events.find((e) => e.type === 'payment.succeeded');
        assert.equal(JSON.parse(succeeded?.data_json ?? '{}').object?.provider_fee, kit.reportedFeeMinor ?? null);
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

      test('the provider not answering a checkout leaves the payment to resume: the same request made again gets it', async () => {
        await sim('POST', '/_sim/faults', { fault: 'http_503', times: 1 });
        const res = await gw.api('POST', '/v1/payments', newPayment(`unlucky-${kit.name}`));
        assert.equal(res.status, 502);
        assert.equal(res.body.error.code, 'provider_unavailable');
        // Even under another Idempotency-Key (test/e2e/checkout-resume.test.ts has the rest).
        const retry = await gw.api('POST', '/v1/payments', newPayment(`unlucky-${kit.name}`));
        assert.equal(retry.status, 201);
        assert.equal(await statusOf(retry.body.id), 'pending');
      });

      test('correctly signed events we do not act on are acknowledged with 200 and stored as ignored', async () => {
        const credentials = gw.services.config.providers[kit.name]!.test.credentials;
        // Bodies are sealed at rest: the rows are told apart by id (stored before and after).
        const unrelated = async () =>
          db()
            .selectFrom('provider_webhooks')
            .select(['id', 'status', 'event_type'])
            .where('provider', '=', kit.name)
            .where('provider_reference', 'is', null)
            .execute();
        const before = new Set((await unrelated()).map((row) => row.id));
        const deliveries = kit.signedUnactedEvents(credentials);
        for (const { headers, body } of deliveries) {
          const res = await fetch(`${gw.url}/webhooks/${kit.name}`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', ...headers },
            body,
          });
          assert.equal(res.status, 200, `${body.slice(0, 80)}: ${await res.clone().text()}`);
          // The provider's retry of the same delivery is a duplicate, still 200.
          const retry = await fetch(`${gw.url}/webhooks/${kit.name}`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', ...headers },
            body,
          });
          assert.equal(retry.status, 200);
          assert.equal(((await retry.json()) as { duplicate?: boolean }).duplicate, true);
        }
        await gw.services.worker.drain();
        const stored = (await unrelated()).filter((row) => !before.has(row.id));
        assert.equal(stored.length, deliveries.length, 'each stored once');
        for (const row of stored) assert.equal(row.status, 'ignored', row.event_type ?? '');
      });

      if (kit.signedPaymentWebhook !== undefined)
        test("a signed webhook naming payment B with A's transaction leaves B as it is and verifies A (alert)", async () => {
          const a = await createPayment();
          const b = await createPayment();
          await sim('POST', '/_sim/faults', { fault: 'no_webhook', tx_ref: a.id });
          await payAtCheckout(a.checkout_url);
          const txA =
            kit.name === 'stripe'
              ? (
                  await db()
                    .selectFrom('payments')
                    .select('provider_tx_id')
                    .where('id', '=', a.id)
                    .executeTakeFirstOrThrow()
                ).provider_tx_id!
              : String(
                  ((await sim('GET', '/_sim/transactions')) as Array<{ id: number; tx_ref: string }>).find(
                    (t) => t.tx_ref === a.id,
                  )!.id,
                );
          const credentials = gw.services.config.providers[kit.name]!.test.credentials;
          const { headers, body } = kit.signedPaymentWebhook!(credentials, b.id, txA);
          const res = await fetch(`${gw.url}/webhooks/${kit.name}`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', ...headers },
            body,
          });
          assert.equal(res.status, 200);
          await gw.services.worker.drain();
          assert.equal(await statusOf(b.id), 'pending', 'B is not in review: the transaction is not its');
          assert.deepEqual(await eventsFor(b.id), []);
          assert.equal(await statusOf(a.id), 'succeeded', 'the payment the provider names is verified');
          const [webhook] = await webhooksFor(b.id);
          assert.equal(webhook?.result, 'names_other_payment');
        });

      if (kit.feeBearerSetting !== undefined)
        test('fees passed to the customer: the charge exceeds the order, the payment succeeds, the fees are recorded', async () => {
          await sim('PUT', '/_sim/config', kit.feeBearerSetting);
          try {
            const payment = await createPayment();
            await payAtCheckout(payment.checkout_url);
            await waitUntil(async () => (await webhooksFor(payment.id)).length === 1, 'the webhook');
            await gw.services.worker.drain();
            assert.equal(await statusOf(payment.id), 'succeeded');
            const [verification] = await db()
              .selectFrom('verifications')
              .select(['outcome', 'detail_json'])
              .where('payment_id', '=', payment.id)
              .execute();
            assert.equal(verification?.outcome, 'succeeded');
            const detail = JSON.parse(verification!.detail_json);
            assert.equal(detail.amountMinor, kit.amount);
            assert.ok(detail.feesMinor > 0, JSON.stringify(detail));
            assert.equal(detail.chargedAmountMinor, kit.amount + detail.feesMinor);
            // The fee is the payment's own column too, whoever bore it.
            assert.equal((await gw.api('GET', `/v1/payments/${payment.id}`)).body.provider_fee, detail.feesMinor);
          } finally {
            await sim('PUT', '/_sim/config', { feeBearer: 'merchant' });
          }
        });

      if (kit.delayedMethod === true) {
        test('a delayed method that fails (async_payment_failed) ends as failed, not expired', async () => {
          const payment = await createPayment();
          await payAtCheckout(payment.checkout_url, 'debit');
          await waitUntil(async () => (await webhooksFor(payment.id)).length === 1, 'checkout.session.completed');
          await gw.services.worker.drain();
          assert.equal(await statusOf(payment.id), 'pending', 'complete but unpaid: settling');
          await sim('POST', `/_sim/transactions/${payment.id}/complete`, { status: 'failed' });
          await waitUntil(async () => (await webhooksFor(payment.id)).length === 2, 'async_payment_failed');
          await gw.services.worker.drain();
          assert.equal(await statusOf(payment.id), 'failed');
          assert.deepEqual(await eventsFor(payment.id), ['payment.failed']);
        });

        test('a delayed method that succeeds days later still succeeds: no expiry while the provider says processing', async () => {
          const payment = await createPayment();
          await payAtCheckout(payment.checkout_url, 'debit');
          await waitUntil(async () => (await webhooksFor(payment.id)).length === 1, 'checkout.session.completed');
          await gw.services.worker.drain();
          for (let hours = 0; hours < 72; hours += 1) {
            clock.advance(3_600_000);
            await gw.services.reconciler.sweep();
            await gw.services.worker.drain();
          }
          assert.equal(await statusOf(payment.id), 'pending', 'three days past creation, still not expired');
          await sim('POST', `/_sim/transactions/${payment.id}/complete`, { status: 'successful' });
          await waitUntil(async () => (await webhooksFor(payment.id)).length === 2, 'async_payment_succeeded');
          await gw.services.worker.drain();
          assert.equal(await statusOf(payment.id), 'succeeded');
          assert.deepEqual(await eventsFor(payment.id), ['payment.succeeded']);
        });
      }

      if (kit.name === 'kwikpaisa')
        test('a late but correctly signed retry is refused without counting against its source address', async () => {
          const credentials = gw.services.config.providers.kwikpaisa!.test.credentials;
          for (let i = 0; i < 35; i += 1) {
            const { headers, body } = lateKwikPaisaDelivery(credentials, 3600 + i);
            const res = await fetch(`${gw.url}/webhooks/kwikpaisa`, {
              method: 'POST',
              headers: { 'content-type': 'application/json', ...headers },
              body,
            });
            assert.equal(res.status, 401, `late delivery ${i}`);
          }
          const fresh = lateKwikPaisaDelivery(credentials, 0);
          const res = await fetch(`${gw.url}/webhooks/kwikpaisa`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', ...fresh.headers },
            body: fresh.body,
          });
          assert.equal(res.status, 200, 'the address is not blocked: the late ones were the provider');
        });
    });
  }
