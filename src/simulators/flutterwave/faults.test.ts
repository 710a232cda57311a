import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startHarness, type Harness } from './test-harness.ts';
import { flutterwaveSignature } from './wire.ts';

describe('Flutterwave simulator faults', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(() => h.close());
  beforeEach(async () => {
    await h.control.reset();
    await h.control.configure({ signatureHeaders: 'both', payloadShape: 'v3', notFoundHttpStatus: 400 });
    h.received.length = 0;
  });

  const verifyStatus = async () => (await h.v3('GET', '/v3/transactions/1/verify')).status;
  const paidCheckout = async () => {
    const checkout = await h.createCheckout();
    const tx = await h.control.complete(checkout.txRef);
    return { ...checkout, tx };
  };

  test('http_500 and http_503 answer the error envelope, then are spent', async () => {
    await h.control.addFault({ fault: 'http_500' });
    const failed = await h.v3('GET', '/v3/transactions/1/verify');
    assert.equal(failed.status, 500);
    assert.deepEqual(await failed.json(), {
      status: 'error',
      message: 'An error occurred. Please contact support',
      data: null,
    });
    assert.equal(await verifyStatus(), 400, 'one use by default');

    await h.control.addFault({ fault: 'http_503', times: 2 });
    const unavailable = await h.v3('POST', '/v3/payments', {
      tx_ref: 'during_outage',
      amount: 1,
      redirect_url: 'https://m.example',
      customer: { email: 'a@b.co' },
    });
    assert.equal(unavailable.status, 503);
    assert.equal(((await unavailable.json()) as any).message, 'An error occurred. Please contact support');
    assert.equal(await verifyStatus(), 503);
    assert.equal(await verifyStatus(), 400);
    assert.equal((await h.control.transactions()).length, 0);
  });

  test('http_429 carries Retry-After (value, else 1 s); times 0 lasts until cleared', async () => {
    await h.control.addFault({ fault: 'http_429', value: 7 });
    const limited = await h.v3('GET', '/v3/transactions/1/verify');
    assert.equal(limited.status, 429);
    assert.equal(limited.headers.get('retry-after'), '7');
    assert.equal(((await limited.json()) as any).status, 'error');

    await h.control.addFault({ fault: 'http_429', times: 0 });
    for (let i = 0; i < 3; i += 1) {
      const res = await h.v3('GET', '/v3/banks/NG');
      assert.equal(res.status, 429);
      assert.equal(res.headers.get('retry-after'), '1');
    }
    await h.control.clearFaults();
    assert.equal((await h.v3('GET', '/v3/banks/NG')).status, 200);
  });

  test('faults do not let a wrong key in: authentication comes first', async () => {
    await h.control.addFault({ fault: 'http_500', times: 0 });
    assert.equal((await h.v3('GET', '/v3/banks/NG', undefined, { key: 'FLWSECK_TEST-nope' })).status, 401);
  });

  test('delay holds the answer for `value` ms', async () => {
    await h.control.addFault({ fault: 'delay', value: 150 });
    const started = performance.now();
    assert.equal(await verifyStatus(), 400);
    assert.ok(performance.now() - started >= 140, 'delayed');
    const quick = performance.now();
    await verifyStatus();
    assert.ok(performance.now() - quick < 140, 'spent after one use');
  });

  test('timeout never answers: the client gives up, and clearing lets held requests go', async () => {
    await h.control.addFault({ fault: 'timeout', times: 0 });
    const started = performance.now();
    await assert.rejects(
      h.v3('GET', '/v3/transactions/1/verify', undefined, { signal: AbortSignal.timeout(200) }),
      /abort|timeout/i,
    );
    assert.ok(performance.now() - started >= 190);
    // A POST too: its body is read first, and only then held.
    await assert.rejects(
      h.v3(
        'POST',
        '/v3/payments',
        { tx_ref: 'held', amount: 1, redirect_url: 'https://m.example', customer: { email: 'a@b.co' } },
        { signal: AbortSignal.timeout(200) },
      ),
      /abort|timeout/i,
    );
    // A request held when the faults are cleared is released (its socket closed), not left hanging.
    const held = h.v3('GET', '/v3/banks/NG').then(
      (res) => `answered ${res.status}`,
      () => 'closed',
    );
    await new Promise((resolve) => setTimeout(resolve, 50));
    await h.control.clearFaults();
    assert.equal(await held, 'closed');
    assert.equal((await h.v3('GET', '/v3/banks/NG')).status, 200);
  });

  test('API faults scoped to one tx_ref leave other payments alone', async () => {
    const a = await h.createCheckout();
    const b = await h.createCheckout();
    await h.control.addFault({ fault: 'http_500', tx_ref: a.txRef, times: 0 });
    assert.equal((await h.v3('GET', `/v3/transactions/verify_by_reference?tx_ref=${a.txRef}`)).status, 500);
    assert.equal((await h.v3('GET', `/v3/transactions/verify_by_reference?tx_ref=${b.txRef}`)).status, 200);
  });

  test('wrong_amount and wrong_currency change what verify says, for the scoped payment only', async () => {
    const a = await paidCheckout();
    const b = await paidCheckout();
    await h.control.addFault({ fault: 'wrong_amount', tx_ref: a.txRef, times: 0 });
    await h.control.addFault({ fault: 'wrong_currency', tx_ref: b.txRef, times: 0 });
    await h.control.addFault({ fault: 'wrong_amount', tx_ref: b.txRef, value: 50 });
    const va: any = await (await h.v3('GET', `/v3/transactions/${a.tx.id}/verify`)).json();
    assert.equal(va.data.amount, 74.5, 'one major unit less by default');
    assert.equal(va.data.currency, 'NGN');
    const vb: any = await (await h.v3('GET', `/v3/transactions/verify_by_reference?tx_ref=${b.txRef}`)).json();
    assert.equal(vb.data.amount, 25.5);
    assert.equal(vb.data.currency, 'USD');
    const vbAgain: any = await (await h.v3('GET', `/v3/transactions/${b.tx.id}/verify`)).json();
    assert.equal(vbAgain.data.amount, 75.5, 'the value-50 fault was used once');
  });

  test('missing_currency leaves currency out of the verify answer, for the scoped payment and its uses only', async () => {
    const a = await paidCheckout();
    const b = await paidCheckout();
    await h.control.addFault({ fault: 'missing_currency', tx_ref: a.txRef, times: 1 });
    const va: any = await (await h.v3('GET', `/v3/transactions/${a.tx.id}/verify`)).json();
    assert.equal(va.status, 'success');
    assert.equal(Object.hasOwn(va.data, 'currency'), false);
    assert.equal(va.data.amount, 75.5, 'only the currency is taken away');
    const vb: any = await (await h.v3('GET', `/v3/transactions/${b.tx.id}/verify`)).json();
    assert.equal(vb.data.currency, 'NGN', 'another payment is untouched');
    const vaAgain: any = await (await h.v3('GET', `/v3/transactions/${a.tx.id}/verify`)).json();
    assert.equal(vaAgain.data.currency, 'NGN', 'the fault was used once');
  });

  test('duplicate_webhook delivers N identical copies (body and headers)', async () => {
    const checkout = await h.createCheckout();
    await h.control.addFault({ fault: 'duplicate_webhook', tx_ref: checkout.txRef, value: 3 });
    await h.press(checkout.link);
    await h.control.waitForWebhooks(3);
    assert.equal(h.received.length, 3);
    assert.equal(new Set(h.received.map((r) => r.rawBody)).size, 1);
    assert.equal(
      new Set(h.received.map((r) => `${r.headers['verif-hash']}|${r.headers['flutterwave-signature']}`)).size,
      1,
    );

    h.received.length = 0;
    const byDefault = await h.createCheckout();
    await h.control.addFault({ fault: 'duplicate_webhook' });
    await h.press(byDefault.link);
    await h.control.waitForWebhooks(8);
    assert.equal(h.received.length, 5, 'five copies by default');
  });

  test('out_of_order: an earlier failed attempt is reported after the success; verify by reference still says successful', async () => {
    const checkout = await h.createCheckout();
    await h.control.addFault({ fault: 'out_of_order', tx_ref: checkout.txRef });
    const paid = await h.press(checkout.link);
    const successId = Number(new URL(paid.headers.get('location') ?? '').searchParams.get('transaction_id'));
    await h.control.waitForWebhooks(2);
    const events = h.received.map((r) => JSON.parse(r.rawBody).data);
    assert.deepEqual(
      events.map((d) => d.status),
      ['successful', 'failed'],
    );
    assert.equal(events[0].id, successId);
    assert.notEqual(events[1].id, successId);
    assert.ok(events.every((d) => d.tx_ref === checkout.txRef));
    const latest: any = await (
      await h.v3('GET', `/v3/transactions/verify_by_reference?tx_ref=${checkout.txRef}`)
    ).json();
    assert.equal(latest.data.status, 'successful');
    const failedAttempt: any = await (await h.v3('GET', `/v3/transactions/${events[1].id}/verify`)).json();
    assert.equal(failedAttempt.data.status, 'failed');
  });

  test('bad_signature: both headers carry the wrong secret', async () => {
    const checkout = await h.createCheckout();
    await h.control.addFault({ fault: 'bad_signature', tx_ref: checkout.txRef });
    await h.press(checkout.link);
    await h.control.waitForWebhooks(1);
    const hook = h.received[0]!;
    assert.notEqual(hook.headers['verif-hash'], h.secretHash);
    assert.notEqual(hook.headers['flutterwave-signature'], flutterwaveSignature(hook.rawBody, h.secretHash));
  });

  test('no_webhook: nothing is sent, and only for the scoped payment', async () => {
    const silent = await h.createCheckout();
    const other = await h.createCheckout();
    await h.control.addFault({ fault: 'no_webhook', tx_ref: silent.txRef });
    await h.press(silent.link);
    await h.press(other.link);
    const log = await h.control.waitForWebhooks(1);
    assert.equal(log.length, 1);
    assert.equal(JSON.parse(log[0]!.body).data.tx_ref, other.txRef);
    await assert.rejects(h.control.waitForWebhooks(2, 100), /1 of 2 deliveries/);
    assert.equal(h.received.length, 1);
  });

  test('signatureHeaders variants and the flat payload shape', async () => {
    await h.control.configure({ signatureHeaders: 'flutterwave-signature' });
    await h.press((await h.createCheckout()).link);
    await h.control.waitForWebhooks(1);
    assert.equal(h.received[0]!.headers['verif-hash'], undefined);
    assert.equal(
      h.received[0]!.headers['flutterwave-signature'],
      flutterwaveSignature(h.received[0]!.rawBody, h.secretHash),
    );

    await h.control.configure({ signatureHeaders: 'verif-hash', payloadShape: 'flat' });
    const { txRef, link } = await h.createCheckout();
    await h.press(link, 'decline');
    await h.control.waitForWebhooks(2);
    const hook = h.received[1]!;
    assert.equal(hook.headers['flutterwave-signature'], undefined);
    assert.equal(hook.headers['verif-hash'], h.secretHash);
    const flat = JSON.parse(hook.rawBody);
    assert.equal(flat.event, undefined);
    assert.equal(flat.data, undefined);
    assert.equal(flat.txRef, txRef);
    assert.equal(flat.status, 'failed');
    assert.equal(flat.customer.fullName, 'Ada Okafor');
  });

  test('an unreachable webhook URL is logged with its error, and the checkout still redirects', async () => {
    await h.control.configure({ webhookUrl: 'http://127.0.0.1:9/nothing-listens' });
    const paid = await h.press((await h.createCheckout()).link);
    assert.equal(paid.status, 302);
    const [entry] = await h.control.waitForWebhooks(1);
    assert.equal(entry?.statusCode, null);
    assert.equal(typeof entry?.error, 'string');
  });
});
