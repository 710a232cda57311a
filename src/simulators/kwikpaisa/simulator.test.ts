import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { createHmac, randomBytes } from 'node:crypto';
import { Secret } from '../../crypto/secret.ts';
import { verifyKwikPaisaSignature } from '../../providers/kwikpaisa/webhook.ts';
import { startKwikPaisaSimulator } from './simulator.ts';
import { kwikPaisaSignature, sortedJson } from './wire.ts';

describe('KwikPaisa simulator', () => {
  const apiKey = `pk_test_${randomBytes(8).toString('hex')}`;
  const secretKey = `sk_test_${randomBytes(16).toString('hex')}`;
  const secrets = [{ mode: 'test' as const, secretKey: new Secret(secretKey) }];
  const nowSeconds = () => Math.floor(Date.now() / 1000);
  const received: Array<{ body: string; headers: IncomingHttpHeaders; verified: boolean }> = [];
  // The receiver checks every delivery itself, as a merchant would: HMAC over body + X-TIMESTAMP.
  const receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const verified = verifyKwikPaisaSignature(raw, req.headers, secrets, nowSeconds()).ok;
      received.push({ body: raw.toString('utf8'), headers: req.headers, verified });
      res.statusCode = verified ? 200 : 401;
      res.end();
    });
  });
  let sim: Awaited<ReturnType<typeof startKwikPaisaSimulator>>;
  let counter = 0;

  before(async () => {
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    sim = await startKwikPaisaSimulator({
      apiKey,
      secretKey,
      webhookUrl: `http://127.0.0.1:${(receiver.address() as { port: number }).port}/hook`,
    });
  });
  after(async () => {
    await sim.close();
    receiver.close();
  });
  beforeEach(async () => {
    await control('POST', '/_sim/reset');
    await control('PUT', '/_sim/config', {
      requestSignatureSort: 'any',
      webhookBodySort: 'recursive',
      timestampToleranceSeconds: 300,
      webhookTimestampOffsetSeconds: 0,
    });
    received.length = 0;
  });

  const control = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${sim.url}${path}`, {
      method,
      ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
    });
    return res.json() as Promise<any>;
  };
  /** A signed v3 call, built by hand: `payload` is what is signed, `sent` what goes on the wire. */
  const api = (
    path: string,
    body: unknown,
    opts: {
      key?: string;
      secret?: string;
      timestamp?: string;
      sort?: 'recursive' | 'top-level' | 'none';
      signal?: AbortSignal;
      omit?: string;
    } = {},
  ) => {
    const payload = sortedJson(body, opts.sort ?? 'recursive');
    const timestamp = opts.timestamp ?? String(nowSeconds());
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      accept: 'application/json',
      'x-api-key': opts.key ?? apiKey,
      'x-timestamp': timestamp,
      'x-signature': kwikPaisaSignature(payload, timestamp, opts.secret ?? secretKey),
    };
    if (opts.omit !== undefined) delete headers[opts.omit];
    return fetch(`${sim.url}${path}`, {
      method: 'POST',
      headers,
      body: JSON.stringify(body),
      ...(opts.signal === undefined ? {} : { signal: opts.signal }),
    });
  };
  const orderBody = (orderId: string, overrides: Record<string, unknown> = {}) => ({
    order_id: orderId,
    order_amount: 105,
    order_currency: 'INR',
    order_note: 'Additional order info',
    service_type: 'DIGITAL',
    customer: { name: '<script>alert(1)</script>', email: 'ajay@example.com', phone: '9876543210' },
    return_url: 'https://merchant.example/return',
    ...overrides,
  });
  const createOrder = async (overrides: Record<string, unknown> = {}) => {
    counter += 1;
    const orderId = `pay_sim_${counter}`;
    const res = await api('/api/v3/pg/order/create', orderBody(orderId, overrides));
    const json = (await res.json()) as any;
    return { orderId, link: json.return_data?.payment_link as string, res, json };
  };
  const status = async (orderId: string | number) =>
    (await api('/api/v3/pg/order/status', { order_id: orderId })).json() as Promise<any>;
  const pay = (link: string, button: 'pay' | 'decline' = 'pay') =>
    fetch(`${link}/${button}`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: '',
    });
  const waitForWebhooks = async (count: number) => {
    const deadline = Date.now() + 3000;
    while (received.length < count) {
      if (Date.now() > deadline) throw new Error(`got ${received.length} webhooks, expected ${count}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  };

  test('its signing matches the published §7 vector', () => {
    const payload = sortedJson({ order_id: '123456', amount: '100' }, 'recursive');
    assert.equal(payload, '{"amount":"100","order_id":"123456"}');
    assert.equal(
      kwikPaisaSignature(payload, '1778659835', 'sk_' + 'test_secret'),
      'f8198a2e31ae7872ada3347ed2422d536a48700e1ca25ec501659ee171ed5382',
    );
  });

  test('create, hosted checkout, pay, redirect, signed webhook, order status', async () => {
    const { orderId, link, res, json } = await createOrder();
    assert.equal(res.status, 200);
    assert.equal(json.code, '200');
    assert.equal(json.status, 'success');
    assert.equal(json.return_data.order_status, 'UN_PAID');
    assert.match(json.return_data.kwikX_order_id, /^kp_[0-9a-f-]{36}$/);
    const unpaid = await status(orderId);
    assert.equal(unpaid.return_data.order_status, 'UN_PAID');
    assert.equal(unpaid.return_data.paid_at, null);

    const page = await fetch(link);
    const html = await page.text();
    assert.equal(
      page.headers.get('content-security-policy'),
      "default-src 'none'; form-action 'self' https://merchant.example; frame-ancestors 'none'; base-uri 'none'",
    );
    assert.ok(
      html.includes('&#60;script&#62;alert(1)&#60;/script&#62;') && !html.includes('<script'),
      'customer name is escaped, and there is no script',
    );
    assert.ok(!/<style|style=/i.test(html), 'no inline style');
    assert.match(
      html,
      /<form method="post" action="\/checkout\/[0-9a-f]+\/pay"><button type="submit" id="pay">Pay<\/button>/,
    );
    assert.match(html, /id="decline">Decline</);

    const paid = await pay(link);
    assert.equal(paid.status, 302);
    const location = new URL(paid.headers.get('location') ?? '');
    assert.equal(location.origin + location.pathname, 'https://merchant.example/return');
    assert.equal(location.searchParams.get('order_id'), orderId);
    assert.equal(location.searchParams.get('order_status'), 'PAID');

    await waitForWebhooks(1);
    const hook = received[0]!;
    assert.equal(hook.verified, true);
    assert.equal(hook.headers['content-type'], 'application/json');
    assert.match(String(hook.headers['x-timestamp']), /^\d{10}$/);
    // Independently of any helper: lowercase hex HMAC-SHA256(body + timestamp).
    assert.equal(
      hook.headers['x-signature'],
      createHmac('sha256', secretKey)
        .update(hook.body + String(hook.headers['x-timestamp']))
        .digest('hex'),
    );
    assert.equal(
      hook.body,
      `{"data":{"amount":"105.00","currency":"INR","order_id":"${orderId}","status":"PAID"},"event":"payment.success"}`,
    );

    const done = await status(orderId);
    assert.deepEqual(Object.keys(done), ['code', 'status', 'message', 'return_data']);
    assert.equal(done.code, '200');
    assert.equal(done.message, 'Order status fetched successfully.');
    assert.equal(done.return_data.order_status, 'PAID');
    assert.equal(done.return_data.order_amount, '105.00');
    assert.equal(done.return_data.currency, 'INR');
    assert.equal(done.return_data.order_id, orderId);
    assert.equal(done.return_data.payment_method, 'UPI');
    assert.match(done.return_data.transaction_id, /^TXN\d+$/);
    assert.match(done.return_data.paid_at, /^\d{2}-\d{2}-\d{4} \d{2}:\d{2} (AM|PM)$/);
    assert.equal((await pay(link)).status, 409, 'an order is paid once');
    assert.match(await (await fetch(link)).text(), /id="closed">This order is PAID/);
  });

  test('decline: FAILED status and a signed payment.failed webhook; a numeric order id is echoed as a number', async () => {
    const res = await api('/api/v3/pg/order/create', orderBody('x', { order_id: 6116229263036, order_amount: 105 }));
    const link = ((await res.json()) as any).return_data.payment_link as string;
    const declined = await pay(link, 'decline');
    assert.equal(new URL(declined.headers.get('location')!).searchParams.get('order_status'), 'FAILED');
    await waitForWebhooks(1);
    assert.equal(received[0]!.verified, true);
    assert.deepEqual(JSON.parse(received[0]!.body), {
      data: { amount: '105.00', currency: 'INR', order_id: '6116229263036', status: 'FAILED' },
      event: 'payment.failed',
    });
    const answer = await status(6116229263036);
    assert.equal(answer.return_data.order_id, 6116229263036);
    assert.equal(answer.return_data.order_status, 'FAILED');
  });

  test('authentication: bad signature, wrong key, missing header, stale or future timestamp all answer 401', async () => {
    // Timestamps are whole seconds read on both sides: ten seconds of margin either side of the
    // 300 s window, so a second ticking over between the two reads cannot move a case across it.
    const bad = await api('/api/v3/pg/order/status', { order_id: 'x' }, { secret: 'sk_test_wrong' });
    assert.equal(bad.status, 401);
    assert.deepEqual(await bad.json(), { status: false, code: 401, message: 'Invalid signature.' });
    const tampered = await fetch(`${sim.url}/api/v3/pg/order/status`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-api-key': apiKey,
        'x-timestamp': String(nowSeconds()),
        'x-signature': kwikPaisaSignature('{"order_id":"x"}', String(nowSeconds()), secretKey),
      },
      body: '{"order_id":"y"}',
    });
    assert.deepEqual(await tampered.json(), { status: false, code: 401, message: 'Invalid signature.' });
    for (const opts of [
      { key: 'pk_test_wrong' },
      { omit: 'x-signature' },
      { omit: 'x-timestamp' },
      { omit: 'x-api-key' },
      { timestamp: String(nowSeconds() - 310) },
      { timestamp: String(nowSeconds() + 310) },
    ]) {
      const res = await api('/api/v3/pg/order/status', { order_id: 'x' }, opts);
      assert.equal(res.status, 401, JSON.stringify(opts));
      const body = (await res.json()) as any;
      assert.equal(body.status, false);
      assert.equal(body.code, 401);
    }
    assert.equal(
      (await api('/api/v3/pg/order/status', { order_id: 'x' }, { timestamp: String(nowSeconds() - 290) })).status,
      404,
      'inside the window',
    );
  });

  test('request signature sort is configurable: recursive, top-level, any', async () => {
    counter += 1;
    const nested = orderBody(`pay_sim_${counter}`, {
      customer: { phone: '9876543210', name: 'Ajay', email: 'a@b.co' },
    });
    const send = (sort: 'recursive' | 'top-level') =>
      api('/api/v3/pg/order/status', { order_id: 'nope', customer: nested.customer }, { sort });
    await control('PUT', '/_sim/config', { requestSignatureSort: 'recursive' });
    assert.equal((await send('recursive')).status, 404);
    assert.equal((await send('top-level')).status, 401);
    await control('PUT', '/_sim/config', { requestSignatureSort: 'top-level' });
    assert.equal((await send('recursive')).status, 401);
    assert.equal((await send('top-level')).status, 404);
    await control('PUT', '/_sim/config', { requestSignatureSort: 'any' });
    assert.equal((await send('recursive')).status, 404);
    assert.equal((await send('top-level')).status, 404);
  });

  test('validation (422), duplicate order id (409), unknown order (404), bad JSON (400)', async () => {
    for (const overrides of [
      { order_amount: -1 },
      { order_amount: 1.005 },
      // The documented type is a number: a string is refused, as the docs' example is `105`.
      { order_amount: '105.00' },
      { order_currency: 'USD' },
      { customer: { name: 'A', email: 'a@b.co' } },
      { return_url: 'javascript:alert(1)' },
      { service_type: '' },
      { order_id: 'bad id!' },
    ]) {
      const res = await api('/api/v3/pg/order/create', orderBody('v', overrides));
      assert.equal(res.status, 422, JSON.stringify(overrides));
      assert.equal(((await res.json()) as any).code, 422);
    }
    const { orderId } = await createOrder();
    const duplicate = await api('/api/v3/pg/order/create', orderBody(orderId));
    assert.equal(duplicate.status, 409);
    const missing = await api('/api/v3/pg/order/status', { order_id: 'pay_nope' });
    assert.equal(missing.status, 404);
    assert.deepEqual(await missing.json(), { status: false, code: 404, message: 'Transaction not found.' });
    const junk = await fetch(`${sim.url}/api/v3/pg/order/status`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{nope',
    });
    assert.equal(junk.status, 400);
  });

  test('API faults: 500, 503, 429 with Retry-After, delay, timeout; consumed after `times`', async () => {
    const call = (signal?: AbortSignal) =>
      api('/api/v3/pg/order/status', { order_id: 'x' }, signal === undefined ? {} : { signal });
    await control('POST', '/_sim/faults', { fault: 'http_500' });
    const failed = await call();
    assert.equal(failed.status, 500);
    assert.deepEqual(await failed.json(), { status: false, code: 500, message: 'Internal server error.' });
    assert.equal((await call()).status, 404, 'fault used up');
    await control('POST', '/_sim/faults', { fault: 'http_503', times: 2 });
    assert.equal((await call()).status, 503);
    assert.equal((await call()).status, 503);
    assert.equal((await call()).status, 404);
    await control('POST', '/_sim/faults', { fault: 'http_429', value: 7 });
    const limited = await call();
    assert.equal(limited.status, 429);
    assert.equal(limited.headers.get('retry-after'), '7');
    await control('POST', '/_sim/faults', { fault: 'delay', value: 150 });
    const started = Date.now();
    assert.equal((await call()).status, 404);
    assert.ok(Date.now() - started >= 140);
    await control('POST', '/_sim/faults', { fault: 'timeout' });
    const hangStarted = Date.now();
    await assert.rejects(call(AbortSignal.timeout(300)), /abort|timeout/i);
    assert.ok(Date.now() - hangStarted >= 290, 'the request was held, not cut off');
    await control('POST', '/_sim/faults', { fault: 'http_500', times: 0 });
    assert.equal((await call()).status, 500);
    assert.equal((await call()).status, 500);
    await control('DELETE', '/_sim/faults');
    assert.equal((await call()).status, 404);
    // Authentication comes first: a fault does not answer an unsigned call.
    await control('POST', '/_sim/faults', { fault: 'http_500' });
    assert.equal((await api('/api/v3/pg/order/status', { order_id: 'x' }, { secret: 'wrong' })).status, 401);
    await control('DELETE', '/_sim/faults');
  });

  test('faults scoped to one order leave others alone (order_id, or tx_ref as its alias)', async () => {
    const a = await createOrder();
    const b = await createOrder();
    await control('POST', '/_sim/faults', { fault: 'wrong_amount', order_id: a.orderId, times: 0, value: 1 });
    await control('POST', '/_sim/faults', { fault: 'wrong_currency', tx_ref: b.orderId, times: 0 });
    await control('POST', '/_sim/faults', { fault: 'http_503', order_id: 'pay_other' });
    await pay(a.link);
    await pay(b.link);
    const va = await status(a.orderId);
    const vb = await status(b.orderId);
    assert.equal(va.return_data.order_amount, '104.00');
    assert.equal(va.return_data.currency, 'INR');
    assert.equal(vb.return_data.order_amount, '105.00');
    assert.equal(vb.return_data.currency, 'USD');
    assert.equal((await api('/api/v3/pg/order/status', { order_id: 'pay_other' })).status, 503);
  });

  test('webhook faults: duplicates, out of order, bad signature, none at all', async () => {
    const dup = await createOrder();
    await control('POST', '/_sim/faults', { fault: 'duplicate_webhook', order_id: dup.orderId, value: 3 });
    await pay(dup.link);
    await waitForWebhooks(3);
    assert.equal(
      new Set(received.map((r) => r.body + r.headers['x-timestamp'] + r.headers['x-signature'])).size,
      1,
      'identical deliveries',
    );
    assert.ok(received.every((r) => r.verified));

    received.length = 0;
    const ooo = await createOrder();
    await control('POST', '/_sim/faults', { fault: 'out_of_order', order_id: ooo.orderId });
    await pay(ooo.link);
    await waitForWebhooks(2);
    assert.deepEqual(
      received.map((r) => JSON.parse(r.body).event),
      ['payment.success', 'payment.failed'],
    );
    assert.equal((await status(ooo.orderId)).return_data.order_status, 'PAID', 'the order status is the truth');

    received.length = 0;
    const bad = await createOrder();
    await control('POST', '/_sim/faults', { fault: 'bad_signature', order_id: bad.orderId });
    await pay(bad.link);
    await waitForWebhooks(1);
    assert.equal(received[0]!.verified, false);
    assert.notEqual(
      received[0]!.headers['x-signature'],
      kwikPaisaSignature(received[0]!.body, String(received[0]!.headers['x-timestamp']), secretKey),
    );
    const log = await control('GET', '/_sim/webhooks');
    assert.equal(log.at(-1).statusCode, 401);

    received.length = 0;
    const silent = await createOrder();
    await control('POST', '/_sim/faults', { fault: 'no_webhook', order_id: silent.orderId });
    await pay(silent.link);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(received.length, 0);
    assert.equal((await status(silent.orderId)).return_data.order_status, 'PAID', 'reconciliation finds it');
  });

  test('a stale (or future) webhook timestamp is refused by the verifier; an unsorted body verifies over its raw bytes', async () => {
    await control('PUT', '/_sim/config', { webhookTimestampOffsetSeconds: -301 });
    const stale = await createOrder();
    await pay(stale.link);
    await waitForWebhooks(1);
    const hook = received[0]!;
    assert.equal(hook.verified, false);
    const check = verifyKwikPaisaSignature(Buffer.from(hook.body), hook.headers, secrets, nowSeconds());
    assert.match(!check.ok ? check.reason : '', /window/);
    assert.equal(
      verifyKwikPaisaSignature(Buffer.from(hook.body), hook.headers, secrets, nowSeconds() - 301).ok,
      true,
      'the signature itself is genuine',
    );

    received.length = 0;
    await control('PUT', '/_sim/config', { webhookTimestampOffsetSeconds: 310 });
    const future = await createOrder();
    await pay(future.link);
    await waitForWebhooks(1);
    assert.equal(received[0]!.verified, false);

    received.length = 0;
    await control('PUT', '/_sim/config', { webhookTimestampOffsetSeconds: 0, webhookBodySort: 'none' });
    const unsorted = await createOrder();
    await pay(unsorted.link);
    await waitForWebhooks(1);
    assert.ok(received[0]!.body.startsWith('{"event":"payment.success","data":{"order_id":'));
    assert.equal(received[0]!.verified, true);
    assert.equal(
      verifyKwikPaisaSignature(Buffer.from(received[0]!.body), received[0]!.headers, secrets, nowSeconds()).ok && 'raw',
      'raw',
    );
  });

  test('control API validates its input, completes headlessly, lists and resends', async () => {
    assert.match((await control('POST', '/_sim/faults', { fault: 'meteor' })).error, /fault must be one of/);
    assert.match((await control('POST', '/_sim/faults', { fault: 'delay', times: -1 })).error, /times/);
    assert.match((await control('PUT', '/_sim/config', { webhookBodySort: 'xml' })).error, /webhookBodySort/);
    assert.match(
      (await control('PUT', '/_sim/config', { requestSignatureSort: 'none' })).error,
      /requestSignatureSort/,
    );
    assert.match(
      (await control('PUT', '/_sim/config', { timestampToleranceSeconds: 0 })).error,
      /timestampToleranceSeconds/,
    );
    const { orderId } = await createOrder();
    assert.match((await control('POST', `/_sim/webhooks/${orderId}/resend`)).error, /not paid/);
    assert.match(
      (await control('POST', `/_sim/transactions/${orderId}/complete`, { status: 'maybe' })).error,
      /status/,
    );
    const done = await control('POST', `/_sim/transactions/${orderId}/complete`, { status: 'successful' });
    assert.equal(done.order_id, orderId);
    assert.equal(done.order_status, 'PAID');
    assert.match(done.redirect_url, /order_status=PAID/);
    assert.match(
      (await control('POST', `/_sim/transactions/${orderId}/complete`, { status: 'PAID' })).error,
      /no open order/,
    );
    await waitForWebhooks(1);
    const resent = await control('POST', `/_sim/webhooks/${orderId}/resend`);
    assert.match(resent.body, /payment\.success/);
    await waitForWebhooks(2);
    assert.ok(received.every((r) => r.verified));
    const all = await control('GET', '/_sim/transactions');
    assert.equal(all.length, 1);
    assert.equal(all[0].order_status, 'PAID');
    assert.equal((await control('GET', '/_sim/webhooks')).length, 2);
    await control('POST', '/_sim/reset');
    assert.deepEqual(await control('GET', '/_sim/transactions'), []);
  });
});
