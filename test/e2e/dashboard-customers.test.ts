// The dashboard's customer data page (DAT-3) on both databases: owners only (another role is
// refused, and the refusal audited); a customer found by email or id without the page showing
// the email; export and erasure behind a password entered within 5 minutes and a reason; the
// export a JSON download of everything about the customer; erasure only after a confirmation
// step repeating the id, then the customer's fields read [erased]; both audited as the operator.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { manualClock } from '../../src/clock.ts';
import { ERASED } from '../../src/privacy/seal.ts';
import { enrolOperator, type TestOperator } from '../helpers/dashboard.ts';
import { testDialects } from '../helpers/databases.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';

const STALE_MS = 6 * 60_000;
const token = () => randomBytes(6).toString('hex');

for (const dialect of await testDialects()) {
  describe(`dashboard customer data on ${dialect.name}`, { skip: dialect.skip }, () => {
    const clock = manualClock(Date.now());
    let gw: TestGateway;
    let owner: TestOperator;
    let admin: TestOperator;
    const ada = `ada.${token()}@example.com`;
    let adaPayment = '';
    let adaCustomer = '';
    let bobPayment = '';
    const db = () => gw.services.database.db;
    const fresh = () =>
      owner.client.post('/dashboard/reauth', { password: owner.password, return_to: '/dashboard/customers' });
    const pay = async (email: string) => {
      const created = await gw.api('POST', '/v1/payments', {
        amount: 7300,
        currency: 'NGN',
        reference: `dc-${token()}`,
        customer: { email, name: 'Ada Customer' },
        redirect_url: 'https://shop.example/thanks',
      });
      assert.equal(created.status, 201);
      return created.body.id as string;
    };

    before(async () => {
      gw = await startTestGateway(dialect, { clock });
      owner = await enrolOperator(gw);
      admin = await enrolOperator(gw, { role: 'admin' });
      adaPayment = await pay(ada);
      bobPayment = await pay(`bob.${token()}@example.com`);
    });
    after(() => gw?.close());

    test('owners only: the page and its forms refuse another role, audited as denied', async () => {
      assert.equal((await admin.client.get('/dashboard/customers')).status, 403);
      assert.ok(!(await admin.client.get('/dashboard/settings')).html.includes('/dashboard/customers'), 'no nav link');
      const refused = await admin.client.post('/dashboard/customers/find', { email: ada });
      assert.equal(refused.status, 403);
      const denied = await db()
        .selectFrom('audit_log')
        .select('result')
        .where('action', '=', 'dashboard.manage_customer_data')
        .where('actor_id', '=', admin.id)
        .execute();
      assert.deepEqual(
        denied.map((d) => d.result),
        ['denied'],
      );
      assert.match((await owner.client.get('/dashboard/settings')).html, /href="\/dashboard\/customers"/);
    });

    test('find by email: the customer id, the payment count, never the email on the page', async () => {
      const page = await owner.client.get('/dashboard/customers');
      assert.equal(page.status, 200);
      const found = await owner.client.post('/dashboard/customers/find', { email: ada.toUpperCase() });
      assert.equal(found.status, 200, found.html);
      adaCustomer = /<tr id="customer-(cus_[0-9A-Za-z]{22})">/.exec(found.html)?.[1] ?? '';
      assert.notEqual(adaCustomer, '');
      assert.match(found.html, /<td>1<\/td><td>active<\/td>/);
      assert.ok(!found.html.includes(ada) && !found.html.includes(ada.split('@')[0]!), 'no email shown');
      const none = await owner.client.post('/dashboard/customers/find', { email: `nobody.${token()}@example.com` });
      assert.match(none.html, /id="no-customer"/);
      const both = await owner.client.post('/dashboard/customers/find', { email: ada, customer_id: adaCustomer });
      assert.equal(both.status, 400);
    });

    test('export: a fresh password and a reason, then a JSON download of everything, audited', async () => {
      clock.advance(STALE_MS);
      const stale = await owner.client.post('/dashboard/customers/export', {
        customer_id: adaCustomer,
        reason: 'subject access request',
      });
      assert.equal(stale.status, 403);
      assert.match(stale.html, /Confirm your password/);
      await fresh();
      const noReason = await owner.client.post('/dashboard/customers/export', { customer_id: adaCustomer, reason: '' });
      assert.equal(noReason.status, 400);
      const download = await owner.client.post('/dashboard/customers/export', {
        customer_id: adaCustomer,
        reason: 'subject access request',
      });
      assert.equal(download.status, 200, download.html);
      assert.equal(download.headers.get('content-disposition'), `attachment; filename="${adaCustomer}-export.json"`);
      assert.match(download.headers.get('content-type') ?? '', /^application\/json/);
      const document = JSON.parse(download.html);
      assert.equal(document.object, 'customer_export');
      assert.deepEqual(
        document.payments.map((p: { id: string; customer: { email: string } }) => [p.id, p.customer.email]),
        [[adaPayment, ada]],
      );
      const audit = await db()
        .selectFrom('audit_log')
        .select(['actor_type', 'actor_id', 'details_json'])
        .where('action', '=', 'customer.export')
        .executeTakeFirstOrThrow();
      assert.deepEqual([audit.actor_type, audit.actor_id], ['operator', owner.id]);
      assert.match(audit.details_json, /subject access request/);
      assert.ok(!audit.details_json.includes(ada), 'the audit row names the customer by id only');
    });

    test('erase: a confirmation step repeating the id, then the fields read [erased]; audited', async () => {
      const reason = 'right to erasure, ticket 42';
      const asked = await owner.client.post('/dashboard/customers/erase', { customer_id: adaCustomer, reason });
      assert.equal(asked.status, 200, asked.html);
      assert.match(asked.html, /id="confirm-erase"/);
      assert.equal(
        (
          await db()
            .selectFrom('customer_keys')
            .select('erased_at')
            .where('id', '=', adaCustomer)
            .executeTakeFirstOrThrow()
        ).erased_at,
        null,
        'nothing erased before the confirmation',
      );
      const wrong = await owner.client.post('/dashboard/customers/erase', {
        customer_id: adaCustomer,
        reason,
        confirm: 'cus_somebodyelse',
      });
      assert.equal(wrong.status, 400);
      const done = await owner.client.post('/dashboard/customers/erase', {
        customer_id: adaCustomer,
        reason,
        confirm: adaCustomer,
      });
      assert.equal(done.status, 200, done.html);
      assert.match(done.html, /id="erased">Erased <code>cus_/);
      assert.equal((await gw.api('GET', `/v1/payments/${adaPayment}`)).body.customer.email, ERASED);
      assert.notEqual((await gw.api('GET', `/v1/payments/${bobPayment}`)).body.customer.email, ERASED);
      const audit = await db()
        .selectFrom('audit_log')
        .select(['actor_type', 'actor_id', 'details_json'])
        .where('action', '=', 'customer.erase')
        .executeTakeFirstOrThrow();
      assert.deepEqual([audit.actor_type, audit.actor_id], ['operator', owner.id]);
      assert.match(audit.details_json, /ticket 42/);
      const again = await owner.client.post('/dashboard/customers/find', { customer_id: adaCustomer });
      assert.match(again.html, /<td>erased /);
      assert.ok(!again.html.includes('id="erase-'), 'no erase form for an erased customer');
    });
  });
}
