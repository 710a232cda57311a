// Customer data rights (DAT-3) through the API on both databases: export gathers everything about
// one customer; erasure by crypto-shredding makes their personal data unreadable everywhere at
// once (payments, events, provider payloads, the email look-up) while the payments keep their
// amounts, statuses and references; other customers are untouched; audited without the email.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { payAtCheckout, waitUntil } from '../../test/helpers/checkout.ts';
import { testDialects } from '../../test/helpers/databases.ts';
import { startTestGateway, type TestGateway } from '../../test/helpers/gateway.ts';
import { ERASED } from './seal.ts';

const token = () => randomBytes(6).toString('hex');
const key = () => ({ 'idempotency-key': token() });

for (const dialect of await testDialects()) {
  describe(`customer export and erasure on ${dialect.name}`, { skip: dialect.skip }, () => {
    let gw: TestGateway;
    const ada = `ada.${token()}@example.com`;
    const bob = `bob.${token()}@example.com`;
    const pay = async (email: string, name: string) => {
      const created = await gw.api(
        'POST',
        '/v1/payments',
        {
          amount: 120000,
          currency: 'NGN',
          reference: `dat3-${token()}`,
          customer: { email, name, phone: '+2348012345678' },
          redirect_url: 'https://shop.example/thanks',
          metadata: { note: `note-${token()}` },
        },
        key(),
      );
      assert.equal(created.status, 201);
      return created.body as { id: string; checkout_url: string; reference: string };
    };
    let paid: { id: string; reference: string };
    let pending: { id: string };
    let other: { id: string };

    before(async () => {
      gw = await startTestGateway(dialect, { start: { runWorkers: true } });
      const first = await pay(ada, 'Ada Lovelace');
      await payAtCheckout(first.checkout_url);
      await waitUntil(
        async () => (await gw.api('GET', `/v1/payments/${first.id}`)).body.status === 'succeeded',
        'paid',
        15_000,
      );
      paid = first;
      pending = await pay(ada.toUpperCase(), 'Ada L.');
      other = await pay(bob, 'Bob Builder');
    });
    after(async () => gw?.close());

    test('export: every payment, event and provider payload of the customer, and nothing of others', async () => {
      const exported = await gw.api('POST', '/v1/customers/export', { email: ada }, key());
      assert.equal(exported.status, 200);
      assert.equal(exported.body.object, 'customer_export');
      assert.equal(exported.body.customers.length, 1, 'one customer, whatever the case of the email');
      assert.deepEqual(exported.body.payments.map((p: { id: string }) => p.id).sort(), [paid.id, pending.id].sort());
      assert.ok(exported.body.events.some((e: { type: string }) => e.type === 'payment.succeeded'));
      assert.ok(exported.body.provider_webhooks.length >= 1);
      assert.ok(!JSON.stringify(exported.body).includes(other.id), "another customer's payment is not in it");
      const byId = await gw.api('POST', '/v1/customers/export', { customer_id: exported.body.customers[0].id }, key());
      assert.equal(byId.body.payments.length, 2);
    });

    test('bad requests are refused with a stable code', async () => {
      for (const body of [
        {},
        { email: ada, customer_id: 'cus_0000000000000000000000' },
        { email: 'not-an-email' },
        { email: ada, extra: 1 },
      ]) {
        const answer = await gw.api('POST', '/v1/customers/export', body, key());
        assert.ok([400, 422].includes(answer.status), `${JSON.stringify(body)} -> ${answer.status}`);
        assert.match(answer.body.error.code, /^parameter_|invalid_request/);
      }
      const noReason = await gw.api('POST', '/v1/customers/erase', { email: ada }, key());
      assert.ok([400, 422].includes(noReason.status));
      const hostileReason = await gw.api(
        'POST',
        '/v1/customers/erase',
        { email: ada, reason: 'gdpr\u202erequest' },
        key(),
      );
      assert.ok([400, 422].includes(hostileReason.status), 'format characters refused in the reason');
    });

    test('erasure: unreadable everywhere at once, accounting kept, others untouched, audited without the email', async () => {
      const before = (await gw.api('GET', `/v1/payments/${paid.id}`)).body;
      const erased = await gw.api('POST', '/v1/customers/erase', { email: ada, reason: 'customer request 42' }, key());
      assert.equal(erased.status, 200);
      assert.equal(erased.body.erased.length, 1);
      assert.deepEqual([...erased.body.payments].sort(), [paid.id, pending.id].sort());

      const after = (await gw.api('GET', `/v1/payments/${paid.id}`)).body;
      assert.deepEqual(after.customer, { email: ERASED, name: ERASED, phone: ERASED }, 'shown as erased');
      assert.deepEqual(after.metadata, {});
      for (const field of ['id', 'status', 'amount', 'currency', 'reference', 'provider', 'created_at'])
        assert.deepEqual(after[field], before[field], `${field} is kept for accounting`);

      const events = await gw.api('GET', `/v1/events?object_id=${paid.id}`);
      assert.ok(events.body.data.length >= 1);
      for (const e of events.body.data) assert.deepEqual(e.data, { erased: true });
      const webhooks = await gw.services.database.db
        .selectFrom('provider_webhooks')
        .select(['id', 'body'])
        .where('provider_reference', '=', paid.id)
        .execute();
      for (const w of webhooks)
        assert.equal(await gw.services.systemKeys.open(w.body, `provider_webhooks.body:${w.id}`), '{"erased":true}');
      assert.deepEqual(await gw.services.dashboardQueries.searchPayments('test', ada), [], 'the email finds nothing');

      const bobs = (await gw.api('GET', `/v1/payments/${other.id}`)).body;
      assert.equal(bobs.customer.email, bob, 'another customer is untouched');

      const again = await gw.api('POST', '/v1/customers/erase', { email: ada, reason: 'again' }, key());
      assert.deepEqual(again.body.erased, [], 'erasing twice destroys nothing more');

      const audit = await gw.services.database.db
        .selectFrom('audit_log')
        .selectAll()
        .where('action', 'in', ['customer.erase', 'customer.export'])
        .execute();
      assert.ok(audit.some((a) => a.action === 'customer.erase' && a.details_json.includes('customer request 42')));
      for (const row of audit) assert.ok(!JSON.stringify(row).includes(ada.split('@')[0]!), 'no email in the audit');
    });

    test('the same email paying after erasure is a new customer, readable', async () => {
      const fresh = await pay(ada, 'Ada Again');
      const read = (await gw.api('GET', `/v1/payments/${fresh.id}`)).body;
      assert.equal(read.customer.email, ada);
      const exported = await gw.api('POST', '/v1/customers/export', { email: ada }, key());
      assert.equal(exported.body.customers.length, 2, 'the erased customer and the new one');
      assert.equal(exported.body.payments.length, 3);
      const readable = exported.body.payments.filter((p: { customer: { email: string } }) => p.customer.email === ada);
      assert.deepEqual(
        readable.map((p: { id: string }) => p.id),
        [fresh.id],
      );
    });
  });
}
