// Signed receipts end to end on each database (COL-6), for payments and payouts: none before
// success (409, stable code), a receipt after it that the merchants' helper and `paywarden receipts verify` accept and refuse
// once changed; after a rotation new receipts carry the new key id and old ones still verify.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { testDialects } from '../helpers/databases.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { payAtCheckout, waitUntil } from '../helpers/checkout.ts';
import { verifyReceiptText } from '../../src/cli/receipt-commands.ts';
// @ts-expect-error: a plain .mjs file for merchants, without type declarations
import { verifyReceipt as merchantVerify } from '../../docs/receipts/verify-receipt.mjs';

const verifyAsMerchant = merchantVerify as (signed: unknown, keys: Record<string, string>) => boolean;

for (const dialect of await testDialects()) {
  describe(`signed receipts on ${dialect.name}`, { skip: dialect.skip }, () => {
    let gw: TestGateway;
    before(async () => {
      gw = await startTestGateway(dialect);
    });
    after(async () => gw.close());

    test('receipt of a succeeded payment: 409 before, signed after, verified, rotated', async () => {
      const created = await gw.api('POST', '/v1/payments', {
        amount: 150005,
        currency: 'NGN',
        reference: 'receipt-1',
        customer: { email: 'receipt@example.com' },
        redirect_url: 'https://merchant.example/r',
      });
      assert.equal(created.status, 201);
      const id = created.body.id as string;
      const early = await gw.api('GET', `/v1/payments/${id}/receipt`);
      assert.equal(early.status, 409);
      assert.equal(early.body.error.code, 'receipt_unavailable');
      const missing = await gw.api('GET', '/v1/payments/pay_0000000000000000000000/receipt');
      assert.equal(missing.status, 404);
      assert.equal(missing.body.error.code, 'not_found');

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

      const answer = await gw.api('GET', `/v1/payments/${id}/receipt`);
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      const signed = answer.body;
      assert.deepEqual(
        { ...signed.receipt, key_id: 'x', succeeded_at: 'x', provider_transaction_id: 'x' },
        {
          object: 'receipt',
          version: 1,
          object_type: 'payment',
          object_id: id,
          livemode: false,
          key_id: 'x',
          status: 'succeeded',
          amount: 150005,
          currency: 'NGN',
          reference: 'receipt-1',
          provider: 'flutterwave',
          provider_transaction_id: 'x',
          succeeded_at: 'x',
        },
      );
      assert.match(signed.receipt.key_id, /^rk_/);
      assert.match(signed.signature, /^[0-9a-f]{64}$/);
      const again = await gw.api('GET', `/v1/payments/${id}/receipt`);
      assert.deepEqual(again.body, signed, 'the same receipt each time');

      const keys = gw.services.receipts.keys;
      const firstKey = await keys.byId(signed.receipt.key_id);
      assert.ok(firstKey);
      const merchantKeys = { [firstKey.id]: firstKey.secret.reveal() };
      assert.equal(verifyAsMerchant(signed, merchantKeys), true);
      assert.equal((await verifyReceiptText(gw.services.receipts, JSON.stringify(signed))).ok, true);
      const forged = { ...signed, receipt: { ...signed.receipt, amount: 1500050 } };
      assert.equal(verifyAsMerchant(forged, merchantKeys), false);
      assert.match((await verifyReceiptText(gw.services.receipts, JSON.stringify(forged))).text, /does not match/);
      const asLive = { ...signed, receipt: { ...signed.receipt, livemode: true } };
      assert.match((await verifyReceiptText(gw.services.receipts, JSON.stringify(asLive))).text, /no key/);
      assert.equal((await verifyReceiptText(gw.services.receipts, 'nope')).ok, false);

      const rotated = await keys.rotate('test', { actorType: 'cli', actorId: null });
      const after = (await gw.api('GET', `/v1/payments/${id}/receipt`)).body;
      assert.equal(after.receipt.key_id, rotated.id, 'the new key signs');
      assert.notEqual(after.signature, signed.signature);
      assert.equal(verifyAsMerchant(after, { [rotated.id]: rotated.secret.reveal() }), true);
      assert.equal(
        (await verifyReceiptText(gw.services.receipts, JSON.stringify(signed))).ok,
        true,
        'old still verifies',
      );
      assert.equal((await verifyReceiptText(gw.services.receipts, JSON.stringify(after))).ok, true);
      assert.equal(verifyAsMerchant(after, merchantKeys), false, 'the old key does not verify the new receipt');

      // The key is sealed at rest: the stored value is not the key.
      const stored = await gw.services.database.db.selectFrom('receipt_keys').selectAll().execute();
      assert.equal(stored.length, 2);
      for (const row of stored)
        assert.ok(!row.sealed_key.includes(firstKey.secret.reveal()) && row.sealed_key.startsWith('v1.'));
      const audited = await gw.services.database.db
        .selectFrom('audit_log')
        .select(['action', 'actor_type'])
        .where('object_type', '=', 'receipt_key')
        .orderBy('position')
        .execute();
      // Both creations audited, in the order they happened: the first key by the system, the
      // rotation by the command line.
      assert.deepEqual(audited, [
        { action: 'receipt_key.created', actor_type: 'system' },
        { action: 'receipt_key.created', actor_type: 'cli' },
      ]);
    });
    test('receipt of a succeeded payout: 409 while pending, signed once paid, same keys', async () => {
      const beneficiary = await gw.api('POST', '/v1/beneficiaries', {
        type: 'bank_account',
        currency: 'NGN',
        country: 'NG',
        bank_code: '044',
        account_number: '0690000031',
      });
      assert.equal(beneficiary.status, 201, JSON.stringify(beneficiary.body));
      const created = await gw.api('POST', '/v1/payouts', {
        amount: 250_050,
        currency: 'NGN',
        beneficiary: beneficiary.body.id,
        reference: `receipt-payout-${Date.now()}`,
      });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      const id = created.body.id as string;
      const early = await gw.api('GET', `/v1/payouts/${id}/receipt`);
      assert.deepEqual([early.status, early.body.error.code], [409, 'receipt_unavailable']);
      assert.equal((await gw.api('GET', '/v1/payouts/po_0000000000000000000000/receipt')).status, 404);
      for (let i = 0; i < 100; i += 1) {
        await gw.services.worker.drain();
        if ((await gw.api('GET', `/v1/payouts/${id}`)).body.status === 'succeeded') break;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      const answer = await gw.api('GET', `/v1/payouts/${id}/receipt`);
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      const { receipt } = answer.body;
      assert.deepEqual(
        [
          receipt.object_type,
          receipt.object_id,
          receipt.status,
          receipt.amount,
          receipt.currency,
          receipt.beneficiary_id,
        ],
        ['payout', id, 'succeeded', 250_050, 'NGN', beneficiary.body.id],
      );
      const key = await gw.services.receipts.keys.byId(receipt.key_id);
      assert.ok(key);
      assert.equal(verifyAsMerchant(answer.body, { [key.id]: key.secret.reveal() }), true);
      assert.equal((await verifyReceiptText(gw.services.receipts, JSON.stringify(answer.body))).ok, true);
      const forged = { ...answer.body, receipt: { ...receipt, beneficiary_id: 'ben_0000000000000000000000' } };
      assert.equal(verifyAsMerchant(forged, { [key.id]: key.secret.reveal() }), false);

      // LOG-3: reading the beneficiary (a person's account name) through the API is audited.
      await gw.api('GET', `/v1/beneficiaries/${beneficiary.body.id}`);
      await gw.api('GET', '/v1/beneficiaries?limit=100');
      const reads = await gw.services.database.db
        .selectFrom('audit_log')
        .select(['action', 'actor_type'])
        .where('object_id', '=', beneficiary.body.id)
        .where('action', '=', 'beneficiary.read')
        .execute();
      assert.deepEqual(reads, [
        { action: 'beneficiary.read', actor_type: 'api_key' },
        { action: 'beneficiary.read', actor_type: 'api_key' },
      ]);
    });
  });
}
