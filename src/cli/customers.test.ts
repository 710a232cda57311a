// `paywarden customers export|erase`, through the functions the commands call, on a gateway's
// own database and master key: the document, the erasure, the audit rows acted by `cli`, and the
// refusals of a badly named customer.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { testDialects } from '../../test/helpers/databases.ts';
import { startTestGateway, type TestGateway } from '../../test/helpers/gateway.ts';
import { customerDataFor, eraseCustomerFromCli, exportCustomerFromCli, selectorFrom } from './customers.ts';

const [sqlite] = await testDialects();

describe('customers export and erase from the command line', { skip: sqlite?.skip }, () => {
  let gw: TestGateway;
  before(async () => {
    gw = await startTestGateway(sqlite!);
    const created = await gw.api(
      'POST',
      '/v1/payments',
      {
        amount: 5000,
        currency: 'NGN',
        reference: 'cli-dat3',
        customer: { email: 'grace@example.com', name: 'Grace Hopper' },
        redirect_url: 'https://shop.example/thanks',
      },
      { 'idempotency-key': 'cli-dat3' },
    );
    assert.equal(created.status, 201);
  });
  after(async () => gw?.close());

  test('names one customer exactly', () => {
    assert.equal(typeof selectorFrom({}), 'string');
    assert.equal(typeof selectorFrom({ email: 'a@b.example', customer: 'cus_0000000000000000000000' }), 'string');
    assert.equal(typeof selectorFrom({ customer: 'nope' }), 'string');
    assert.deepEqual(selectorFrom({ email: 'a@b.example' }), { email: 'a@b.example' });
  });

  test('export prints the document; erase destroys the key; both audited as the command line', async () => {
    const db = gw.services.database.db;
    const service = await customerDataFor(gw.services.keysAtRest, db, gw.services.config.erasureJournalPath);
    const exported = JSON.parse(await exportCustomerFromCli(service, 'test', { email: 'grace@example.com' }));
    assert.equal(exported.payments[0].customer.name, 'Grace Hopper');
    assert.match(await eraseCustomerFromCli(service, 'test', { email: 'grace@example.com' }, 'ticket 7'), /^Erased 1/);
    assert.equal(
      await eraseCustomerFromCli(service, 'test', { email: 'nobody@example.com' }, 'x y z'),
      'No such customer.',
    );
    const rows = await db
      .selectFrom('audit_log')
      .select(['action', 'actor_type'])
      .where('action', 'in', ['customer.export', 'customer.erase'])
      .execute();
    assert.ok(rows.length >= 3);
    for (const row of rows) assert.equal(row.actor_type, 'cli');
    const list = await gw.api('GET', '/v1/payments?reference=cli-dat3');
    assert.equal(list.body.data[0].customer.name, '[erased]');
  });
});
