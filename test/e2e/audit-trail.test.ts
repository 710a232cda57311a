// The audit trail after a whole payment flow, on each database: the API's sensitive reads (a payment
// with its customer, a list of them, events carrying them) are recorded with the key, request id
// and address (LOG-3); no audit row holds the customer's email, name or phone in the clear, in any
// column; and the chain, checkpointed by the gateway's job, verifies (LOG-4).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { testDialects } from '../helpers/databases.ts';
import { startReceiver, startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { payAtCheckout, waitUntil } from '../helpers/checkout.ts';
import { writeCheckpoints } from '../../src/audit/checkpoints.ts';
import { keyringOf } from '../../src/audit/signing-key.ts';
import { verifyAuditLog } from '../../src/audit/verify.ts';

const customer = { email: 'adaeze.okonkwo@example.com', name: 'Adaeze Okonkwo', phone: '+2348031234567' };

for (const dialect of await testDialects()) {
  describe(`audit trail of a payment on ${dialect.name}`, { skip: dialect.skip }, () => {
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

    test('reads are audited, no personal data is in any audit row, and the chain verifies', async () => {
      await gw.api('POST', '/v1/webhook_endpoints', { url: receiver.url, events: ['payment.*'] });
      const created = await gw.api('POST', '/v1/payments', {
        amount: 250000,
        currency: 'NGN',
        reference: 'audit-trail-1',
        customer,
        redirect_url: 'https://merchant.example/r',
      });
      assert.equal(created.status, 201);
      const id = created.body.id as string;
      await payAtCheckout(created.body.checkout_url);
      await waitUntil(
        async () =>
          (
            await gw.services.database.db
              .selectFrom('provider_webhooks')
              .select('id')
              .where('provider_reference', '=', id)
              .execute()
          ).length === 1,
        'the provider webhook',
      );
      await gw.services.worker.drain();
      await receiver.waitFor(1);

      const read = await gw.api('GET', `/v1/payments/${id}`);
      assert.equal(read.body.customer.email, customer.email, 'the answer shows the customer');
      const listed = await gw.api('GET', '/v1/payments?limit=5');
      assert.ok(listed.body.data.some((p: { id: string }) => p.id === id));
      const events = await gw.api('GET', `/v1/events?object_id=${id}`);
      const eventId = events.body.data[0].id as string;
      await gw.api('GET', `/v1/events/${eventId}`);
      assert.equal((await gw.api('GET', `/v1/payments/${id}/receipt`)).status, 200);

      const db = gw.services.database.db;
      const reads = await db
        .selectFrom('audit_log')
        .selectAll()
        .where('action', 'in', ['payment.read', 'event.read'])
        .orderBy('created_at')
        .orderBy('id')
        .execute();
      assert.deepEqual(
        reads.map((r) => [r.action, r.object_id, r.actor_type, r.mode]),
        [
          ['payment.read', id, 'api_key', 'test'],
          ['payment.read', id, 'api_key', 'test'],
          ['event.read', eventId, 'api_key', 'test'],
          ['event.read', eventId, 'api_key', 'test'],
        ],
      );
      assert.equal(reads[0]!.request_id, read.headers.get('request-id'), 'the read names its request');
      assert.ok(reads.every((r) => r.ip === '127.0.0.1' && r.actor_id?.startsWith('key_')));
      const unread = await gw.api('GET', '/v1/payments/pay_0000000000000000000000');
      assert.equal(unread.status, 404);
      assert.equal(
        (await db.selectFrom('audit_log').select('id').where('object_id', '=', 'pay_0000000000000000000000').execute())
          .length,
        0,
        'nothing was shown, so nothing is recorded as read',
      );

      // An operator invitation names the invite, not the address it was sent to.
      const invited = await gw.services.operators.inviteFromCli({ email: 'invited.person@example.com', role: 'owner' });
      assert.equal(invited.ok, true);

      // Every column of every audit row, as stored, never holds the customer's details.
      const everything = JSON.stringify(await db.selectFrom('audit_log').selectAll().execute()).toLowerCase();
      for (const value of [
        customer.email,
        customer.name,
        customer.phone,
        customer.phone.slice(1),
        'okonkwo',
        'invited.person',
      ])
        assert.ok(!everything.includes(value.toLowerCase()), `an audit row holds ${value}`);
      assert.ok(everything.includes(id.toLowerCase()), 'audit rows name the payment instead');

      await writeCheckpoints({ ...gw.services.database, clock: gw.services.clock, signer: gw.services.auditSigner });
      const report = await verifyAuditLog({
        db,
        keyring: keyringOf([gw.services.auditSigner.publicKey]),
        nowMs: gw.services.clock.nowMs(),
      });
      assert.equal(report.ok, true, JSON.stringify(report.problems));
      assert.ok(report.chains.find((c) => c.chain === 'test')!.rowsChecked >= 8);
    });
  });
}
