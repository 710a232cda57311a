// Personal data at rest (DAT-1): after a whole payment (created, paid, webhook in, verified,
// event delivered, idempotent replay), the database itself, read directly (the SQLite file and
// its WAL, every table's rows on PostgreSQL), holds no customer email, name, phone or metadata
// value in the clear; the API and the dashboard still show them, and the email still finds the
// payment through its blind index.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { payAtCheckout } from '../../test/helpers/checkout.ts';
import { testDialects } from '../../test/helpers/databases.ts';
import { storedText } from '../../test/helpers/stored-text.ts';
import { startReceiver, startTestGateway, type TestGateway } from '../../test/helpers/gateway.ts';
import { createFieldCipher } from '../crypto/encryption.ts';
import { Secret } from '../crypto/secret.ts';
import { LEGACY_WRAPPER_NAME, masterKeyWrapper } from './key-wrapper.ts';
import { blindIndex, ERASED, open, seal } from './seal.ts';
import { BENEFICIARY_COLUMNS, sealInTheClear } from './sealed-columns.ts';
import { openBeneficiary } from '../beneficiaries/beneficiary-fields.ts';

const token = () => randomBytes(6).toString('hex');

for (const dialect of await testDialects()) {
  describe(`personal data at rest on ${dialect.name}`, { skip: dialect.skip }, () => {
    let gw: TestGateway;
    const email = `ada.${token()}@example.com`;
    const name = `Ada Q${token()}`;
    const phone = `+234${String(Date.now()).slice(-9)}`;
    const meta = `order-note-${token()}`;
    let paymentId = '';
    const payeeEmail = `payee.${token()}@example.com`;
    const payeeMeta = `vendor-${token()}`;
    const payeeGiven = `Given Payee ${token()}`;
    let payee: { id: string; account_name: string };

    before(async () => {
      gw = await startTestGateway(dialect, { start: { runWorkers: true } });
      const receiver = await startReceiver();
      await gw.api(
        'POST',
        '/v1/webhook_endpoints',
        { url: receiver.url, events: ['*'] },
        { 'idempotency-key': token() },
      );
      const body = {
        amount: 250000,
        currency: 'NGN',
        reference: `dat1-${token()}`,
        customer: { email, name, phone },
        redirect_url: 'https://shop.example/thanks',
        metadata: { note: meta },
      };
      const key = token();
      const created = await gw.api('POST', '/v1/payments', body, { 'idempotency-key': key });
      assert.equal(created.status, 201);
      // The answer opens what was just sealed (withPersonalData), exactly as a later read does.
      assert.deepEqual(created.body.customer, { email, name, phone });
      assert.deepEqual(created.body.metadata, { note: meta });
      paymentId = created.body.id;
      const read = await gw.api('GET', `/v1/payments/${paymentId}`);
      assert.deepEqual(read.body.customer, created.body.customer);
      assert.deepEqual(read.body.metadata, created.body.metadata);
      const replay = await gw.api('POST', '/v1/payments', body, { 'idempotency-key': key });
      assert.equal(replay.body.customer.email, email, 'the replayed answer opens again');
      const saved = await gw.api('POST', '/v1/beneficiaries', {
        type: 'bank_account',
        currency: 'NGN',
        country: 'NG',
        bank_code: '044',
        account_number: '0690000031',
        name: payeeGiven,
        email: payeeEmail,
        metadata: { vendor: payeeMeta },
      });
      assert.equal(saved.status, 201, JSON.stringify(saved.body));
      payee = saved.body;
      assert.equal(saved.body.email, payeeEmail);
      await payAtCheckout(created.body.checkout_url);
      await receiver.waitFor(1, 15_000);
      await receiver.close();
    });
    after(async () => gw?.close());

    test('the API, the events and the dashboard search still see the data', async () => {
      const read = await gw.api('GET', `/v1/payments/${paymentId}`);
      assert.equal(read.body.status, 'succeeded');
      assert.deepEqual(read.body.customer, { email, name, phone });
      assert.deepEqual(read.body.metadata, { note: meta });
      const events = await gw.api('GET', `/v1/events?object_id=${paymentId}`);
      assert.equal(events.body.data[0].data.object.customer.email, email);
      const found = await gw.services.dashboardQueries.searchPayments('test', email.toUpperCase());
      assert.deepEqual(
        found.map((p) => p.id),
        [paymentId],
        'found by email through the blind index, case-insensitively',
      );
      assert.equal(found[0]?.customer_email, email);
      const ben = await gw.api('GET', `/v1/beneficiaries/${payee.id}`);
      assert.deepEqual(
        [ben.body.account_name, ben.body.email, ben.body.metadata],
        [payee.account_name, payeeEmail, { vendor: payeeMeta }],
      );
      const listed = await gw.api('GET', '/v1/beneficiaries?limit=5');
      assert.equal(listed.body.data.find((b: { id: string }) => b.id === payee.id)?.email, payeeEmail);
    });

    test('beneficiaries: sealed bound to row and column; rows stored in the clear before are sealed at start', async () => {
      const db = gw.services.database.db;
      const row = await db.selectFrom('beneficiaries').selectAll().where('id', '=', payee.id).executeTakeFirstOrThrow();
      for (const column of ['account_name', 'given_name', 'email', 'metadata_json'] as const)
        assert.match(row[column] ?? '', /^s1\./, column);
      assert.equal(
        (await openBeneficiary(gw.services.systemKeys, row)).given_name,
        payeeGiven,
        'the merchant-given name opens for the name check',
      );
      // Moved to another column, the name no longer opens.
      await assert.rejects(gw.services.systemKeys.open(row.account_name, `beneficiaries.email:${payee.id}`));
      const legacyId = `ben_${randomBytes(11).toString('hex').slice(0, 22)}`;
      const legacyName = `Old Payee ${token()}`;
      await db
        .insertInto('beneficiaries')
        .values({
          ...row,
          id: legacyId,
          account_sealed: createFieldCipher(gw.services.keysAtRest.purposeKeys).encrypt(
            '0690000031',
            `beneficiary:${legacyId}`,
          ),
          account_name: legacyName,
          given_name: null,
          email: null,
          metadata_json: '{}',
        })
        .execute();
      assert.equal(await sealInTheClear(db, gw.services.systemKeys, BENEFICIARY_COLUMNS), 2, 'the name and metadata');
      const sealed = await db
        .selectFrom('beneficiaries')
        .selectAll()
        .where('id', '=', legacyId)
        .executeTakeFirstOrThrow();
      assert.match(sealed.account_name, /^s1\./);
      assert.equal((await gw.api('GET', `/v1/beneficiaries/${legacyId}`)).body.account_name, legacyName);
      assert.equal(await sealInTheClear(db, gw.services.systemKeys, BENEFICIARY_COLUMNS), 0, 'idempotent');
    });

    test('read directly, the database holds none of it in the clear', async () => {
      const secrets = [
        email,
        name,
        phone,
        meta,
        email.split('@')[0]!,
        payeeEmail,
        payeeMeta,
        payee.account_name,
        payeeGiven,
      ];
      const stored = await storedText(gw.services.database, gw.services.config.databaseUrl);
      assert.ok(stored.includes(paymentId), 'the test reads the right file or schema');
      for (const secret of secrets) assert.ok(!stored.includes(secret), `${secret} is stored in the clear`);
    });
  });
}

describe('sealing', () => {
  test('bound to its row and column; tampering and another key are refused; erased reads as erased', () => {
    const key = randomBytes(32);
    const sealed = seal(key, 'ada@example.com', 'payments.customer_email:pay_1');
    assert.match(sealed, /^p1\./);
    assert.equal(open(key, sealed, 'payments.customer_email:pay_1'), 'ada@example.com');
    assert.throws(() => open(key, sealed, 'payments.customer_email:pay_2'), 'moved to another row');
    assert.throws(() => open(key, sealed, 'payments.customer_name:pay_1'), 'moved to another column');
    assert.throws(() => open(randomBytes(32), sealed, 'payments.customer_email:pay_1'), 'another key');
    const parts = sealed.split('.');
    const flipped = Buffer.from(parts[2]!, 'base64url');
    flipped[0]! ^= 1;
    parts[2] = flipped.toString('base64url');
    assert.throws(() => open(key, parts.join('.'), 'payments.customer_email:pay_1'), 'tampered');
    assert.equal(open(null, sealed, 'payments.customer_email:pay_1'), ERASED);
  });

  test('blind index: keyed, normalised, purpose-separated', () => {
    const k = randomBytes(32);
    assert.equal(blindIndex(k, 'email', ' Ada@Example.com '), blindIndex(k, 'email', 'ada@example.com'));
    assert.notEqual(blindIndex(k, 'email', 'ada@example.com'), blindIndex(randomBytes(32), 'email', 'ada@example.com'));
    assert.notEqual(blindIndex(k, 'email', 'x'), blindIndex(k, 'phone', 'x'));
  });

  test('key wrapping: bound to its row, refused under another master key', () => {
    const first = new Secret(randomBytes(32).toString('base64'));
    const wrapper = masterKeyWrapper(first);
    const dataKey = randomBytes(32);
    const wrapped = wrapper.wrap(dataKey, 'customer_keys:cus_1');
    assert.deepEqual(wrapper.unwrap(wrapped, 'customer_keys:cus_1', wrapper.keyName), dataKey);
    assert.throws(() => wrapper.unwrap(wrapped, 'customer_keys:cus_2', wrapper.keyName));
    const other = masterKeyWrapper(new Secret(randomBytes(32).toString('base64')));
    assert.throws(() => other.unwrap(wrapped, 'customer_keys:cus_1', wrapper.keyName), /not configured/);
    assert.throws(() => other.unwrap(wrapped, 'customer_keys:cus_1', LEGACY_WRAPPER_NAME));
    // During a rotation the previous version still opens what it wrapped; the legacy name finds it.
    const rotating = masterKeyWrapper(new Secret(randomBytes(32).toString('base64')), [first]);
    assert.notEqual(rotating.keyName, wrapper.keyName);
    assert.deepEqual(rotating.unwrap(wrapped, 'customer_keys:cus_1', wrapper.keyName), dataKey);
    assert.deepEqual(rotating.unwrap(wrapped, 'customer_keys:cus_1', LEGACY_WRAPPER_NAME), dataKey);
  });
});
