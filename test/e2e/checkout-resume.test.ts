// A payment committed without its checkout (the process stopped before or while asking the
// provider, or the provider's answer never came) is resumed by the merchant's retry of the same
// request, and expires visibly when nobody retries. Every provider kit, both databases, the
// providers reached only through their simulators (src/payments/checkout-creation.ts).
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { manualClock } from '../../src/clock.ts';
import { LOCK_MS } from '../../src/idempotency/idempotency.ts';
import { PROVIDER_KITS } from '../helpers/provider-kits.ts';
import { testDialects } from '../helpers/databases.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { payAtCheckout, waitUntil } from '../helpers/checkout.ts';

const dialects = await testDialects();
for (const kit of PROVIDER_KITS)
  for (const dialect of dialects) {
    describe(`${kit.name} payment without a checkout on ${dialect.name}`, { skip: dialect.skip }, () => {
      let gw: TestGateway;
      const clock = manualClock(Date.now());
      let counter = 0;
      // The test seam: a payment whose id is in `stopped` stops between its commit and its
      // checkout call, as a process killed there would, until the test lets it go.
      const stopped = new Map<string, () => void>();
      let stopNext = false;
      before(async () => {
        gw = await startTestGateway(dialect, {
          clock,
          start: {
            providerTimeoutMs: 1_000,
            afterPaymentCommit: async (paymentId) => {
              if (!stopNext) return;
              stopNext = false;
              await new Promise<void>((resolve) => stopped.set(paymentId, resolve));
            },
          },
        });
      });
      after(async () => {
        for (const release of stopped.values()) release();
        await gw.close();
      });
      const sim = (method: string, path: string, body?: unknown): Promise<any> => gw.sim(method, path, body, kit.name);
      beforeEach(async () => {
        await sim('DELETE', '/_sim/faults');
      });

      const db = () => gw.services.database.db;
      const newPayment = () => {
        counter += 1;
        return {
          amount: kit.amount,
          currency: kit.currency,
          provider: kit.name,
          reference: `resume-${kit.name}-${dialect.name}-${counter}`,
          customer: kit.customer,
          redirect_url: 'https://merchant.example/r',
          metadata: { order: String(counter), cart: 'b' },
        };
      };
      const post = (body: unknown, key: string) => gw.api('POST', '/v1/payments', body, { 'idempotency-key': key });
      /** Checkouts the simulator made for one payment (Paystack spells our ids with dashes). */
      const checkoutsFor = async (paymentId: string) =>
        ((await sim('GET', '/_sim/checkouts')) as Array<{ reference: string }>).filter(
          (c) => c.reference === paymentId || c.reference === paymentId.replaceAll('_', '-'),
        ).length;
      const row = (id: string) =>
        db().selectFrom('payments').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
      const byReference = (reference: string) =>
        db().selectFrom('payments').selectAll().where('reference', '=', reference).orderBy('created_at').execute();
      const eventsFor = async (paymentId: string) =>
        (await db().selectFrom('events').select('type').where('object_id', '=', paymentId).execute()).map(
          (e) => e.type,
        );
      /** Pays at the hosted checkout and lets the webhook and verification run. */
      const payAndSettle = async (payment: { id: string; checkout_url: string }) => {
        const paid = await payAtCheckout(payment.checkout_url);
        assert.ok(paid.status < 400, `checkout answered ${paid.status}`);
        await waitUntil(
          async () =>
            (
              await db()
                .selectFrom('provider_webhooks')
                .select('id')
                .where('provider_reference', '=', payment.id)
                .execute()
            ).length > 0,
          'the payment webhook',
        );
        await gw.services.worker.drain();
        assert.equal((await row(payment.id)).status, 'succeeded');
      };

      test('a process stopped between the commit and the checkout call: the retry with the same key makes the one checkout, and it is paid', async () => {
        const body = newPayment();
        const key = randomUUID();
        stopNext = true;
        const first = post(body, key).catch(() => undefined);
        await waitUntil(() => stopped.size > 0, 'the stopped request');
        const [orphanId, letGo] = [...stopped.entries()].at(-1)!;
        const orphan = await row(orphanId);
        assert.equal(orphan.status, 'pending');
        assert.equal(orphan.checkout_url, null);
        assert.equal(await checkoutsFor(orphanId), 0, 'the provider was never asked');

        // Its Idempotency-Key is locked while the stopped request could still answer.
        const early = await post(body, key);
        assert.equal(early.status, 409);
        assert.equal(early.body.error.code, 'idempotency_key_in_flight');
        clock.advance(LOCK_MS + 1);
        const retry = await post(body, key);
        assert.equal(retry.status, 201, JSON.stringify(retry.body));
        assert.equal(retry.body.id, orphanId, 'the same payment, resumed');
        assert.equal(retry.body.reference, body.reference);
        assert.match(retry.body.checkout_url, /^https?:\/\//);
        assert.match(retry.body.client_secret, /^pcs_/);
        assert.equal(await checkoutsFor(orphanId), 1);
        // The client secret of this answer opens the payment (the lost answer's never reached anyone).
        const secretOk = gw.services.clientSecrets.matches(
          orphanId,
          (await row(orphanId)).client_secret_hash,
          retry.body.client_secret,
        );
        assert.ok(secretOk);
        // The same key again is a replay of that answer.
        const replay = await post(body, key);
        assert.equal(replay.headers.get('idempotent-replayed'), 'true');
        assert.equal(replay.body.checkout_url, retry.body.checkout_url);

        // The stopped request comes back to life after the takeover: it no longer holds the
        // claim, records nothing, fails nothing; the payment keeps the one checkout.
        letGo();
        stopped.delete(orphanId);
        await first;
        const after = await row(orphanId);
        assert.equal(after.status, 'pending');
        assert.equal(after.checkout_url, retry.body.checkout_url);
        assert.ok(
          (await checkoutsFor(orphanId)) === 1 || kit.name === 'stripe',
          'no second checkout (Stripe answers the same session again under our key)',
        );
        if (kit.name === 'stripe') assert.equal(await checkoutsFor(orphanId), 1);
        assert.equal((await byReference(body.reference)).length, 1, 'one payment for the order');

        await payAndSettle(retry.body);
        assert.deepEqual(await eventsFor(orphanId), ['payment.succeeded']);
        const audit = await db()
          .selectFrom('audit_log')
          .select('action')
          .where('object_id', '=', orphanId)
          .where('action', '=', 'payment.checkout_resume')
          .execute();
        assert.equal(audit.length, 1, 'the takeover is audited');
      });

      test('a process stopped after the checkout was recorded and before its answer was kept: the retry with the same key gets that payment, another key does not', async () => {
        const body = newPayment();
        const key = randomUUID();
        const first = await post(body, key);
        assert.equal(first.status, 201, JSON.stringify(first.body));
        // What a process killed between recording the checkout and keeping its answer leaves: the
        // key's row still in flight under the dead request's lock, nothing answered to anyone.
        await db()
          .updateTable('idempotency_keys')
          .set({ state: 'in_flight', response_status: null, response_body: null })
          .where('idem_key', '=', key)
          .execute();
        clock.advance(LOCK_MS + 1);

        const retry = await post(body, key);
        assert.equal(retry.status, 201, JSON.stringify(retry.body));
        assert.equal(retry.headers.get('idempotent-replayed'), null);
        assert.equal(retry.body.id, first.body.id, 'the payment already made');
        assert.equal(retry.body.checkout_url, first.body.checkout_url);
        assert.equal(retry.body.customer.email, body.customer.email);
        assert.equal(await checkoutsFor(first.body.id), 1, 'the provider was asked once');
        assert.equal((await byReference(body.reference)).length, 1);
        // The dead request's secret reached nobody: this answer's opens the payment, its does not.
        const hash = (await row(first.body.id)).client_secret_hash;
        assert.ok(gw.services.clientSecrets.matches(first.body.id, hash, retry.body.client_secret));
        assert.ok(!gw.services.clientSecrets.matches(first.body.id, hash, first.body.client_secret));
        const audit = await db()
          .selectFrom('audit_log')
          .select('action')
          .where('object_id', '=', first.body.id)
          .where('action', '=', 'payment.answer_resent')
          .execute();
        assert.equal(audit.length, 1, 'the second answer is audited');
        const replay = await post(body, key);
        assert.equal(replay.headers.get('idempotent-replayed'), 'true');
        assert.equal(replay.body.client_secret, retry.body.client_secret);

        // Another key may come from whoever did get an answer: refused, and its secret kept.
        const other = await post(body, randomUUID());
        assert.equal(other.status, 409);
        assert.equal(other.body.error.code, 'reference_already_used');
        // Neither is another request under that key (a changed field) answered the payment.
        const changedKey = randomUUID();
        assert.equal((await post({ ...body, amount: body.amount + 1 }, changedKey)).status, 409);
        assert.equal((await row(first.body.id)).client_secret_hash, hash);
        await payAndSettle(retry.body);
        assert.deepEqual(await eventsFor(first.body.id), ['payment.succeeded']);
      });

      test('the provider does not answer: the payment stays pending without a checkout, and the retry with the same key resumes it', async () => {
        const body = newPayment();
        const key = randomUUID();
        await sim('POST', '/_sim/faults', { fault: 'http_503', times: 1 });
        const first = await post(body, key);
        assert.equal(first.status, 502);
        assert.equal(first.body.error.code, 'provider_unavailable');
        const [orphan] = await byReference(body.reference);
        assert.equal(orphan?.status, 'pending', 'unknown is not failed');
        assert.equal(orphan?.checkout_url, null);
        assert.equal(orphan?.checkout_claimed_until, null, 'the claim is let go at once');

        const retry = await post(body, key);
        assert.equal(retry.status, 201, JSON.stringify(retry.body));
        assert.equal(retry.body.id, orphan.id);
        assert.equal(await checkoutsFor(orphan.id), 1);
        assert.equal((await byReference(body.reference)).length, 1);
        await payAndSettle(retry.body);
      });

      test('the provider made the checkout and its answer was lost: the retry never makes a second one for the same payment', async () => {
        const body = newPayment();
        const key = randomUUID();
        await sim('POST', '/_sim/faults', { fault: 'lost_answer_reset', times: 1 });
        const first = await post(body, key);
        assert.equal(first.status, 502);
        const [orphan] = await byReference(body.reference);
        assert.equal(orphan?.checkout_url, null);
        assert.equal(await checkoutsFor(orphan!.id), 1, 'the provider holds the reference');

        const retry = await post(body, key);
        assert.equal(retry.status, 201, JSON.stringify(retry.body));
        const payments = await byReference(body.reference);
        if (kit.name === 'stripe') {
          // Stripe keeps the answer under our Idempotency-Key (the payment id): the same session.
          assert.equal(retry.body.id, orphan!.id);
          assert.equal(payments.length, 1);
        } else {
          // The others refuse the repeated reference and no answer of theirs carries the lost
          // link: verify says nobody paid, so the orphan fails (checkout_lost) and the order is
          // made again under a new id, with its own checkout.
          assert.notEqual(retry.body.id, orphan!.id);
          const old = await row(orphan!.id);
          assert.equal(old.status, 'failed');
          assert.equal(old.status_reason, 'checkout_lost');
          assert.deepEqual(await eventsFor(orphan!.id), ['payment.failed']);
          assert.equal(payments.length, 2);
        }
        assert.equal(await checkoutsFor(orphan!.id), 1, 'never a second checkout under one reference');
        assert.equal(await checkoutsFor(retry.body.id), 1);
        await payAndSettle(retry.body);
      });

      if (kit.name === 'stripe')
        test('Stripe answered a 500 it keeps under our key: the payment fails, and the retry makes another', async () => {
          const body = newPayment();
          const key = randomUUID();
          await sim('POST', '/_sim/faults', { fault: 'lost_answer_500', times: 1 });
          assert.equal((await post(body, key)).status, 502);
          const [orphan] = await byReference(body.reference);
          assert.equal(orphan?.status, 'pending');
          // The retry gets the saved 500 again (Idempotent-Replayed): no session will ever come
          // from that key, and nobody holds the link of one made under it.
          const second = await post(body, key);
          assert.equal(second.status, 502);
          assert.equal(second.body.error.code, 'provider_rejected');
          const failed = await row(orphan!.id);
          assert.equal(failed.status, 'failed');
          assert.equal(failed.status_reason, 'provider_rejected_checkout');
          const third = await post(body, key);
          assert.equal(third.status, 201, JSON.stringify(third.body));
          assert.notEqual(third.body.id, orphan!.id);
          assert.equal(await checkoutsFor(third.body.id), 1);
          await payAndSettle(third.body);
        });

      test('two retries at once: one asks the provider, the other is told the checkout is in progress', async () => {
        const body = newPayment();
        await sim('POST', '/_sim/faults', { fault: 'http_503', times: 1 });
        assert.equal((await post(body, randomUUID())).status, 502);
        const [orphan] = await byReference(body.reference);
        // The provider takes its time over the next call, so both retries meet.
        await sim('POST', '/_sim/faults', { fault: 'delay', times: 1, value: 500 });
        const keys = [randomUUID(), randomUUID()] as const;
        const [a, b] = await Promise.all([post(body, keys[0]), post(body, keys[1])]);
        const statuses = [a.status, b.status].sort();
        assert.deepEqual(statuses, [201, 409], JSON.stringify([a.body, b.body]));
        const refused = a.status === 409 ? a : b;
        assert.equal(refused.body.error.code, 'checkout_in_progress');
        assert.equal(refused.headers.get('retry-after'), '2');
        assert.equal(await checkoutsFor(orphan!.id), 1);
        // The 409 was not kept under its key (it asks for a retry): the retry runs again, and finds
        // the payment with its checkout, like any other request under that reference.
        const later = await post(body, keys[a.status === 409 ? 0 : 1]);
        assert.equal(later.headers.get('idempotent-replayed'), null);
        assert.equal(later.status, 409);
        assert.equal(later.body.error.code, 'reference_already_used');
      });

      test('another request under the reference of a payment without a checkout is refused, and resumes nothing', async () => {
        const body = newPayment();
        await sim('POST', '/_sim/faults', { fault: 'http_503', times: 1 });
        assert.equal((await post(body, randomUUID())).status, 502);
        for (const changed of [
          { ...body, amount: body.amount + 100 },
          { ...body, customer: { ...body.customer, email: 'someone-else@example.com' } },
          { ...body, metadata: { order: 'other' } },
        ]) {
          const res = await post(changed, randomUUID());
          assert.equal(res.status, 409);
          assert.equal(res.body.error.code, 'reference_already_used');
        }
        const [orphan] = await byReference(body.reference);
        assert.equal(await checkoutsFor(orphan!.id), 0);
        // Metadata in another key order is the same request.
        const reordered = await post({ ...body, metadata: { cart: 'b', order: body.metadata.order } }, randomUUID());
        assert.equal(reordered.status, 201);
        assert.equal(reordered.body.id, orphan!.id);
      });

      test('a payment without a checkout that nobody resumes expires at its expiry, visibly, without asking the provider', async () => {
        const body = newPayment();
        await sim('POST', '/_sim/faults', { fault: 'http_503', times: 1 });
        assert.equal((await post(body, randomUUID())).status, 502);
        const [orphan] = await byReference(body.reference);
        const expirySeconds = gw.services.config.paymentExpirySeconds;
        // Checks before its expiry leave it as it is, and ask no provider (no verification).
        clock.advance(11 * 60_000);
        assert.ok((await gw.services.reconciler.sweep()) >= 1);
        await gw.services.worker.drain();
        assert.equal((await row(orphan!.id)).status, 'pending');
        const verifications = () =>
          db().selectFrom('verifications').select('id').where('payment_id', '=', orphan!.id).execute();
        assert.equal((await verifications()).length, 0);
        clock.advance(expirySeconds * 1000);
        for (let round = 0; round < 6 && (await row(orphan!.id)).status === 'pending'; round += 1) {
          await gw.services.reconciler.sweep();
          await gw.services.worker.drain();
        }
        const expired = await row(orphan!.id);
        assert.equal(expired.status, 'expired');
        assert.equal(expired.status_reason, 'checkout_never_created');
        assert.deepEqual(await eventsFor(orphan!.id), ['payment.expired']);
        assert.equal((await verifications()).length, 0);
        // The reference is free: the order can be made again.
        const again = await post(body, randomUUID());
        assert.equal(again.status, 201);
        assert.notEqual(again.body.id, orphan!.id);
      });
    });
  }
