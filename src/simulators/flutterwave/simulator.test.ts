import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ControlApiError } from './control-client.ts';
import { buildFlutterwaveSimulator } from './simulator.ts';
import { fakeSecretKey, startHarness, type Harness } from './test-harness.ts';
import { flutterwaveSignature } from './wire.ts';

describe('Flutterwave simulator over HTTP', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(() => h.close());
  beforeEach(async () => {
    await h.control.reset();
    await h.control.configure({
      webhookUrl: `${h.receiverUrl}/hook`,
      signatureHeaders: 'both',
      payloadShape: 'v3',
      notFoundHttpStatus: 400,
      unpaidVerify: 'pending',
    });
    h.received.length = 0;
  });

  test('create, hosted checkout, pay, redirect, signed webhook, verify by id and by reference', async () => {
    const { txRef, link, json, response } = await h.createCheckout({
      customer: { email: 'ada@example.com', name: '<script>x</script>' },
      meta: { order: 'o_1' },
    });
    assert.equal(response.status, 200);
    assert.deepEqual(Object.keys(json), ['status', 'message', 'data']);
    assert.equal(json.status, 'success');
    assert.equal(json.message, 'Hosted Link');
    assert.match(link, new RegExp(`^${h.url}/checkout/[0-9a-f]{24}$`), 'the link points at the listening address');

    const page = await fetch(link);
    assert.equal(page.status, 200);
    const csp = page.headers.get('content-security-policy') ?? '';
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /form-action 'self' https:\/\/merchant\.example/);
    assert.match(csp, /frame-ancestors 'none'/);
    const html = await page.text();
    assert.ok(html.includes('&#60;script&#62;x&#60;/script&#62;'), 'the customer name is printed escaped');
    assert.ok(!/<script|<style|style=|on\w+=/i.test(html), 'no script or style at all');
    assert.match(html, /NGN 75\.50/);
    assert.match(html, /ada@example\.com/);
    assert.match(
      html,
      /<form method="post" action="\/checkout\/[0-9a-f]+\/pay"><button type="submit" id="pay">Pay<\/button><\/form>/,
    );
    assert.match(
      html,
      /<form method="post" action="\/checkout\/[0-9a-f]+\/decline"><button type="submit" id="decline">Decline<\/button><\/form>/,
    );

    const paid = await h.press(link);
    assert.equal(paid.status, 302);
    const location = new URL(paid.headers.get('location') ?? '');
    assert.equal(`${location.origin}${location.pathname}`, 'https://merchant.example/back');
    assert.equal(location.searchParams.get('order'), '1', "the merchant's own query survives");
    assert.equal(location.searchParams.get('status'), 'successful');
    assert.equal(location.searchParams.get('tx_ref'), txRef);
    const txId = Number(location.searchParams.get('transaction_id'));
    assert.ok(txId >= 285959875);

    const [entry] = await h.control.waitForWebhooks(1, 2000);
    assert.equal(entry?.statusCode, 200);
    assert.equal(entry?.url, `${h.receiverUrl}/hook`);
    assert.equal(h.received.length, 1);
    const hook = h.received[0]!;
    assert.equal(hook.path, '/hook');
    assert.equal(hook.headers['content-type'], 'application/json');
    assert.equal(hook.headers['verif-hash'], h.secretHash);
    assert.equal(
      hook.headers['flutterwave-signature'],
      flutterwaveSignature(hook.rawBody, h.secretHash),
      'HMAC over the exact bytes received',
    );
    assert.equal(entry?.body, hook.rawBody);
    const event = JSON.parse(hook.rawBody);
    assert.equal(event.event, 'charge.completed');
    assert.equal(event['event.type'], 'CARD_TRANSACTION');
    assert.equal(event.data.id, txId);
    assert.equal(event.data.status, 'successful');
    assert.equal(event.data.amount, 75.5);
    assert.equal(event.data.customer.email, 'ada@example.com');

    for (const path of [`/v3/transactions/${txId}/verify`, `/v3/transactions/verify_by_reference?tx_ref=${txRef}`]) {
      const res = await h.v3('GET', path);
      assert.equal(res.status, 200);
      const verified: any = await res.json();
      assert.equal(verified.status, 'success');
      assert.equal(verified.message, 'Transaction fetched successfully');
      assert.equal(verified.data.id, txId);
      assert.equal(verified.data.tx_ref, txRef);
      assert.equal(verified.data.status, 'successful');
      assert.equal(verified.data.amount, 75.5);
      assert.equal(verified.data.charged_amount, 75.5);
      assert.equal(verified.data.currency, 'NGN');
      assert.equal(verified.data.payment_type, 'card');
      assert.equal(typeof verified.data.flw_ref, 'string');
      assert.equal(verified.data.app_fee, 1.06);
      assert.equal(verified.data.amount_settled, 74.44);
      assert.deepEqual(verified.data.meta, { order: 'o_1' });
      assert.equal(verified.data.customer.name, '<script>x</script>');
    }

    const again = await h.press(link);
    assert.equal(again.status, 409, 'a checkout is paid once');
    assert.match(again.headers.get('content-type') ?? '', /text\/html/);
    assert.match(await again.text(), /This checkout is paid/);
    assert.equal((await h.control.transactions()).length, 1, 'no second charge');
  });

  test('an unpaid checkout verifies as pending; a decline is a failed attempt and the checkout stays payable', async () => {
    const { txRef, link } = await h.createCheckout();
    const pending: any = await (await h.v3('GET', `/v3/transactions/verify_by_reference?tx_ref=${txRef}`)).json();
    assert.equal(pending.status, 'success');
    assert.equal(pending.data.status, 'pending');
    assert.equal(pending.data.amount, 75.5);
    const byId: any = await (await h.v3('GET', `/v3/transactions/${pending.data.id}/verify`)).json();
    assert.equal(byId.data.status, 'pending');

    // Flutterwave's hosted checkout keeps the customer on the page after a declined card.
    const declined = await h.press(link, 'decline');
    assert.equal(declined.status, 200);
    assert.match(await declined.text(), /id="declined">Your card was declined/);
    const failed: any = await (await h.v3('GET', `/v3/transactions/${pending.data.id}/verify`)).json();
    assert.equal(failed.data.status, 'failed');
    await h.control.waitForWebhooks(1);
    assert.equal(JSON.parse(h.received[0]!.rawBody).data.status, 'failed');
    const stillFailed: any = await (await h.v3('GET', `/v3/transactions/verify_by_reference?tx_ref=${txRef}`)).json();
    assert.equal(stillFailed.data.status, 'failed', 'only a failed attempt so far');

    // The retry pays, under a new transaction id; the reference now verifies as the success.
    const paid = await h.press(link);
    assert.equal(paid.status, 302);
    const location = new URL(paid.headers.get('location') ?? '');
    assert.equal(location.searchParams.get('status'), 'successful');
    const paidId = Number(location.searchParams.get('transaction_id'));
    assert.notEqual(paidId, pending.data.id);
    const byRef: any = await (await h.v3('GET', `/v3/transactions/verify_by_reference?tx_ref=${txRef}`)).json();
    assert.equal(byRef.data.status, 'successful');
    assert.equal(byRef.data.id, paidId);
    assert.equal((await h.press(link)).status, 409, 'a paid checkout is closed');

    // max_retry_attempt bounds the declines; session_duration ends the checkout.
    const bounded = await h.createCheckout({ max_retry_attempt: 1 });
    await h.press(bounded.link, 'decline');
    assert.equal((await h.press(bounded.link)).status, 409, 'closed after its one allowed decline');
    const refused: any = await (
      await h.v3('POST', '/v3/payments', {
        tx_ref: 'long',
        amount: 1,
        redirect_url: 'https://m.example',
        customer: { email: 'a@b.co' },
        session_duration: 1441,
      })
    ).json();
    assert.match(refused.message, /session_duration/);

    await h.control.configure({ unpaidVerify: 'not_found' });
    const other = await h.createCheckout();
    const missing = await h.v3('GET', `/v3/transactions/verify_by_reference?tx_ref=${other.txRef}`);
    assert.equal(missing.status, 400);
    assert.deepEqual(await missing.json(), {
      status: 'error',
      message: 'No transaction was found for this id',
      data: null,
    });
  });

  test('authentication, validation, duplicates and not-found answers', async () => {
    for (const key of [fakeSecretKey(), '', `${h.secretKey}x`, h.secretKey.slice(0, -1)]) {
      const res = await h.v3('GET', '/v3/transactions/1/verify', undefined, { key });
      assert.equal(res.status, 401);
      assert.deepEqual(await res.json(), { status: 'error', message: 'Invalid authorization key', data: null });
    }
    assert.equal((await fetch(`${h.url}/v3/banks/NG`)).status, 401, 'no header at all');

    const missing = await h.v3('GET', '/v3/transactions/123/verify');
    assert.equal(missing.status, 400);
    assert.deepEqual(await missing.json(), {
      status: 'error',
      message: 'No transaction was found for this id',
      data: null,
    });
    const doubled = await h.v3('GET', '//v3/transactions/123/verify');
    assert.equal(doubled.status, 400, 'a doubled leading slash is routed, as the SDK needs');
    await h.control.configure({ notFoundHttpStatus: 200 });
    const twoHundred = await h.v3('GET', '/v3/transactions/123/verify');
    assert.equal(twoHundred.status, 200);
    assert.equal(((await twoHundred.json()) as any).status, 'error');

    const { txRef } = await h.createCheckout();
    const duplicate = await h.v3('POST', '/v3/payments', {
      tx_ref: txRef,
      amount: 1,
      redirect_url: 'https://m.example',
      customer: { email: 'a@b.co' },
    });
    assert.equal(duplicate.status, 400);
    assert.deepEqual(await duplicate.json(), {
      status: 'error',
      message: 'Duplicate transaction reference',
      data: null,
    });

    const valid = { tx_ref: 'fresh', amount: 10, redirect_url: 'https://m.example/r', customer: { email: 'a@b.co' } };
    for (const [change, message] of [
      [{ tx_ref: undefined }, /tx_ref/],
      [{ amount: -1 }, /amount/],
      [{ amount: '10 naira' }, /amount/],
      // Kept as integer kobo: a third decimal has no minor unit to go into, so it is refused, never rounded.
      [{ amount: '10.005' }, /amount/],
      [{ amount: 10.5, currency: 'JPY' }, /amount/],
      [{ currency: 'NAIRA' }, /currency/],
      [{ currency: 'XTS' }, /currency/],
      [{ redirect_url: 'javascript:alert(1)' }, /redirect_url/],
      [{ customer: { name: 'no email' } }, /customer\.email/],
    ] as const) {
      const res = await h.v3('POST', '/v3/payments', { ...valid, ...change });
      assert.equal(res.status, 400, JSON.stringify(change));
      const body: any = await res.json();
      assert.equal(body.status, 'error');
      assert.equal(body.data, null);
      assert.match(body.message, message);
    }
    const defaults: any = await (await h.v3('POST', '/v3/payments', valid)).json();
    assert.equal(defaults.status, 'success');
    const pending: any = await (await h.v3('GET', '/v3/transactions/verify_by_reference?tx_ref=fresh')).json();
    assert.equal(pending.data.currency, 'NGN', 'currency defaults to NGN');
  });

  test('JSON is read with or without a content type; broken JSON answers in the error envelope', async () => {
    // Bytes, not a string: fetch would label a string text/plain.
    const bytes = new TextEncoder().encode(
      JSON.stringify({
        tx_ref: 'untyped',
        amount: 5,
        redirect_url: 'https://m.example',
        customer: { email: 'a@b.co' },
      }),
    );
    const noType = await fetch(`${h.url}/v3/payments`, {
      method: 'POST',
      headers: { authorization: `Bearer ${h.secretKey}` },
      body: bytes,
    });
    assert.equal(noType.status, 200);
    const broken = await fetch(`${h.url}/v3/payments`, {
      method: 'POST',
      headers: { authorization: `Bearer ${h.secretKey}`, 'content-type': 'application/json' },
      body: '{"tx_ref":',
    });
    assert.equal(broken.status, 400);
    assert.equal(((await broken.json()) as any).status, 'error');
    const poisoned = await fetch(`${h.url}/v3/payments`, {
      method: 'POST',
      headers: { authorization: `Bearer ${h.secretKey}`, 'content-type': 'application/json' },
      body: '{"__proto__":{"x":1}}',
    });
    assert.equal(poisoned.status, 400, 'prototype keys are refused by the parser');
    const emptyPost = await fetch(`${h.url}/_sim/reset`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(emptyPost.status, 200, 'an empty JSON body is no body');
  });

  test('control API: headless completion, resend, config validation, wait timeout, reset', async () => {
    const { txRef } = await h.createCheckout();
    const tx = await h.control.complete(txRef, 'successful');
    assert.equal(tx.tx_ref, txRef);
    assert.equal(tx.status, 'successful');
    assert.match(tx.redirect_url, /status=successful/);
    await h.control.waitForWebhooks(1);
    const resent = await h.control.resend(tx.id);
    assert.equal(resent.body, h.received[0]!.rawBody, 'a resend is the same event again');
    await h.control.waitForWebhooks(2);
    assert.equal(h.received.length, 2);

    await assert.rejects(
      h.control.complete(txRef, 'successful'),
      (e: unknown) => e instanceof ControlApiError && e.status === 409,
    );
    await assert.rejects(
      h.control.complete('nobody', 'successful'),
      (e: unknown) => e instanceof ControlApiError && e.status === 404,
    );
    await assert.rejects(h.control.configure({ payloadShape: 'xml' as 'v3' }), /payloadShape: v3 \| flat/);
    await assert.rejects(h.control.addFault({ fault: 'meteor' as 'delay' }), /fault must be one of/);
    const started = Date.now();
    await assert.rejects(
      h.control.waitForWebhooks(5, 100),
      (e: unknown) => e instanceof ControlApiError && e.status === 408,
    );
    assert.ok(Date.now() - started < 1000);

    await h.control.reset();
    assert.deepEqual(await h.control.transactions(), []);
    assert.deepEqual(await h.control.webhooks(), []);
    const gone = await h.v3('GET', `/v3/transactions/${tx.id}/verify`);
    assert.equal(gone.status, 400);
    // The look-ups by reference and by reserved id are cleared with the rest.
    const goneByReference = await h.v3('GET', `/v3/transactions/verify_by_reference?tx_ref=${txRef}`);
    assert.equal(goneByReference.status, 400);
  });
});

describe('Flutterwave simulator built without listening', () => {
  test('the clock stamps created_at; publicBaseUrl makes the links; the control API answers loopback only', async () => {
    const secretKey = fakeSecretKey();
    const app = buildFlutterwaveSimulator({
      secretKey,
      secretHash: 'h',
      publicBaseUrl: 'https://sim.example/',
      now: () => Date.UTC(2026, 0, 2, 3, 4, 5),
    });
    try {
      const auth = { authorization: `Bearer ${secretKey}` };
      const created = await app.inject({
        method: 'POST',
        url: '/v3/payments',
        headers: auth,
        payload: { tx_ref: 't1', amount: 1, redirect_url: 'https://m.example', customer: { email: 'a@b.co' } },
      });
      assert.match(created.json().data.link, /^https:\/\/sim\.example\/checkout\/[0-9a-f]{24}$/);
      const completed = await app.inject({
        method: 'POST',
        url: '/_sim/transactions/t1/complete',
        payload: { status: 'successful' },
      });
      assert.equal(completed.json().created_at, '2026-01-02T03:04:05.000Z');
      const verified = await app.inject({
        method: 'GET',
        url: '/v3/transactions/verify_by_reference?tx_ref=t1',
        headers: { ...auth, 'content-type': 'application/json' },
      });
      assert.equal(verified.json().data.created_at, '2026-01-02T03:04:05.000Z');
      const remote = await app.inject({ method: 'GET', url: '/_sim/webhooks', remoteAddress: '192.0.2.10' });
      assert.equal(remote.statusCode, 403);
      const remoteFault = await app.inject({
        method: 'POST',
        url: '/_sim/faults',
        remoteAddress: '192.0.2.10',
        payload: { fault: 'http_500' },
      });
      assert.equal(remoteFault.statusCode, 403);
      assert.equal(
        (await app.inject({ method: 'GET', url: '/v3/banks/NG', headers: auth })).statusCode,
        200,
        'no fault was added',
      );
    } finally {
      await app.close();
    }
  });
});

describe('Flutterwave simulator: session_duration', () => {
  test('a checkout past its session_duration cannot be paid (409, the page says expired); verify still answers', async () => {
    let nowMs = Date.parse('2026-06-01T12:00:00Z');
    const h = await startHarness({ now: () => nowMs });
    try {
      const { txRef, link } = await h.createCheckout({ session_duration: 30 });
      nowMs += 29 * 60_000;
      assert.equal((await h.press(link, 'decline')).status, 200, 'still open at 29 minutes');
      nowMs += 2 * 60_000;
      const late = await h.press(link);
      assert.equal(late.status, 409);
      assert.match(await late.text(), /This checkout is expired/);
      const verified: any = await (await h.v3('GET', `/v3/transactions/verify_by_reference?tx_ref=${txRef}`)).json();
      assert.equal(verified.data.status, 'failed', 'the one attempt made');
      const open = await h.createCheckout();
      nowMs += 7 * 86_400_000;
      assert.equal(
        (await h.press(open.link)).status,
        302,
        'without session_duration the checkout does not expire here',
      );
    } finally {
      await h.close();
    }
  });
});
