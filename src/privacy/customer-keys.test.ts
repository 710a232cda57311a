// Loading customers' keys (customer-keys.ts `load`) on both databases: one statement gives every
// kept version; inside a transaction the answer is kept for the rest of it (a payment's transition
// opens the payment and seals its event with the same key), forgotten when the same transaction
// rotates or erases the key, and never kept across transactions or outside one.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { testDialects } from '../../test/helpers/databases.ts';
import { startTestGateway, type TestGateway } from '../../test/helpers/gateway.ts';

const token = () => randomBytes(6).toString('hex');

for (const dialect of await testDialects()) {
  describe(`loading customer keys on ${dialect.name}`, { skip: dialect.skip }, () => {
    let gw: TestGateway;
    const db = () => gw.services.database.db;
    const keys = () => gw.services.privacy.customerKeys;

    /** A new customer, made by their first payment. */
    const customer = async () => {
      const created = await gw.api('POST', '/v1/payments', {
        amount: 2500,
        currency: 'NGN',
        reference: `ckl-${token()}`,
        customer: { email: `ckl.${token()}@example.com` },
        redirect_url: 'https://shop.example/thanks',
      });
      assert.equal(created.status, 201);
      const row = await db()
        .selectFrom('payments')
        .select('customer_id')
        .where('id', '=', created.body.id)
        .executeTakeFirstOrThrow();
      return row.customer_id!;
    };
    /** Makes a re-read of the customer's key fail: its wrapped key no longer matches the version. */
    const breakStoredVersion = (trx: ReturnType<typeof db>, id: string) =>
      trx.updateTable('customer_keys').set({ key_version: 99 }).where('id', '=', id).execute();

    before(async () => {
      gw = await startTestGateway(dialect);
    });
    after(async () => gw?.close());

    test('every kept version in one load, the current one marked', async () => {
      const id = await customer();
      await db()
        .transaction()
        .execute(async (trx) => {
          assert.equal(await keys().rotate(trx, id), 2);
        });
      await db()
        .transaction()
        .execute(async (trx) => {
          assert.equal(await keys().rotate(trx, id), 3);
        });
      const loaded = (await keys().load(db(), [id, 'cus_unknown'])).get(id);
      assert.equal(loaded?.current, 3);
      assert.deepEqual([...loaded!.keys.keys()].sort(), [1, 2, 3]);
      assert.equal(new Set([...loaded!.keys.values()].map((k) => k.toString('hex'))).size, 3, 'three distinct keys');
      assert.equal((await keys().load(db(), ['cus_unknown'])).get('cus_unknown'), null);
    });

    test('inside a transaction the first load is kept; rotate and erase in it are seen', async () => {
      const id = await customer();
      await db()
        .transaction()
        .execute(async (trx) => {
          const first = (await keys().load(trx, [id])).get(id);
          assert.equal(first?.current, 1);
          // A re-read would now fail to unwrap (version 99 is not what the key was wrapped for).
          await breakStoredVersion(trx, id);
          assert.equal((await keys().load(trx, [id])).get(id), first, 'the same keyring, not read again');
          await trx.updateTable('customer_keys').set({ key_version: 1 }).where('id', '=', id).execute();
          assert.equal(await keys().rotate(trx, id), 2);
          const rotated = (await keys().load(trx, [id])).get(id);
          assert.equal(rotated?.current, 2, 'the rotation in the same transaction is seen');
          assert.deepEqual([...rotated!.keys.keys()].sort(), [1, 2]);
          assert.equal(await keys().erase(trx, id, 'test'), true);
          assert.equal((await keys().load(trx, [id])).get(id), null, 'the erasure in the same transaction is seen');
        });
    });

    test('nothing is kept outside a transaction or into the next one', async () => {
      const id = await customer();
      assert.equal((await keys().load(db(), [id])).get(id)?.current, 1);
      await db()
        .transaction()
        .execute(async (trx) => {
          assert.equal((await keys().load(trx, [id])).get(id)?.current, 1);
        });
      // Rotated by another transaction (another process, the command line): the next loads see it.
      await db()
        .transaction()
        .execute(async (trx) => {
          await keys().rotate(trx, id);
        });
      assert.equal((await keys().load(db(), [id])).get(id)?.current, 2, 'outside a transaction');
      await db()
        .transaction()
        .execute(async (trx) => {
          assert.equal((await keys().load(trx, [id])).get(id)?.current, 2, 'in the next transaction');
        });
      await assert.rejects(
        db()
          .transaction()
          .execute(async (trx) => {
            await breakStoredVersion(trx, id);
            await keys().load(trx, [id]);
          }),
        'a transaction that has not loaded the key reads it (and here fails to unwrap it)',
      );
    });
  });
}
