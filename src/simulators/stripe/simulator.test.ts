import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { randomBytes } from 'node:crypto';
import Stripe from 'stripe';
import { Secret } from '../../crypto/secret.ts';
import { verifyStripeSignature } from '../../providers/stripe/webhook.ts';
import { startStripeSimulator } from './simulator.ts';
import { decodeForm, stripeSignature } from './wire.ts';

describe('form decoding', () => {
  test('bracket nesting, arrays from indices, appends, percent-decoding', () => {
    const tree = decodeForm(
      'mode=payment&line_items[0][quantity]=1&line_items[0][price_data][product_data][name]=Tea%20%26%20cake+x&line_items[1][quantity]=2&metadata[a]=&expand[]=x&expand[]=y',
    );
    assert.deepEqual(JSON.parse(JSON.stringify(tree)), {
      mode: 'payment',
      line_items: [{ quantity: '1', price_data: { product_data: { name: 'Tea & cake x' } } }, { quantity: '2' }],
      metadata: { a: '' },
      expand: ['x', 'y'],
    });
  });

  test('malformed names, conflicts, prototype keys and bad escapes are refused', () => {
    for (const bad of [
      'a]=1',
      '[a]=1',
      'a[b=1',
      'a=1&a[b]=2',
      'a[b]=1&a=2',
      '__proto__[x]=1',
      'a[constructor][prototype]=1',
      'a=%E0%A4%A',
      'a[1][2][3][4][5][6]=1',
    ]) {
      assert.throws(() => decodeForm(bad), Error, bad);
    }
    assert.equal(({} as Record<string, unknown>).x, undefined);
  });
});

describe('Stripe simulator', () => {
  const secretKey = `sk_test_${randomBytes(12).toString('hex')}`;
  const webhookSecret = `whsec_${randomBytes(24).toString('base64')}`;
  const received: Array<{ body: string; headers: IncomingHttpHeaders; at: number }> = [];
  const receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ body: Buffer.concat(chunks).toString('utf8'), headers: req.headers, at: Date.now() });
      res.end();
    });
  });
  let sim: Awaited<ReturnType<typeof startStripeSimulator>>;
  let stripe: Stripe;
  let counter = 0;
  const verifier = new Stripe('sk_test_' + 'unused', {
    telemetry: false,
    maxNetworkRetries: 0,
    host: '127.0.0.1',
    port: 9,
    protocol: 'http',
  });

  before(async () => {
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    sim = await startStripeSimulator({
      secretKey,
      webhookSecret,
      webhookUrl: `http://127.0.0.1:${(receiver.address() as { port: number }).port}/hook`,
    });
    stripe = new Stripe(secretKey, {
      host: '127.0.0.1',
      port: Number(new URL(sim.url).port),
      protocol: 'http',
      telemetry: false,
      maxNetworkRetries: 0,
    });
  });
  after(async () => {
    await sim.close();
    receiver.close();
  });
  beforeEach(async () => {
    await control('POST', '/_sim/reset');
    await control('PUT', '/_sim/config', { additionalWebhookSecret: null });
    received.length = 0;
  });

  const control = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${sim.url}${path}`, {
      method,
      ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
    });
    return res.json() as Promise<any>;
  };
  const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();
  const v1 = (
    method: string,
    path: string,
    options: { body?: string; auth?: string; idempotencyKey?: string; signal?: AbortSignal } = {},
  ) =>
    fetch(`${sim.url}${path}`, {
      method,
      headers: {
        authorization: options.auth ?? `Bearer ${secretKey}`,
        ...(options.body === undefined ? {} : { 'content-type': 'application/x-www-form-urlencoded' }),
        ...(options.idempotencyKey === undefined ? {} : { 'idempotency-key': options.idempotencyKey }),
      },
      ...(options.body === undefined ? {} : { body: options.body }),
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    });
  const sessionFields = (txRef: string, overrides: Record<string, string> = {}) => ({
    mode: 'payment',
    client_reference_id: txRef,
    success_url: 'https://merchant.example/ok?session={CHECKOUT_SESSION_ID}',
    cancel_url: 'https://merchant.example/cancel',
    'line_items[0][quantity]': '1',
    'line_items[0][price_data][currency]': 'usd',
    'line_items[0][price_data][unit_amount]': '7550',
    'line_items[0][price_data][product_data][name]': '<script>alert(1)</script>',
    'metadata[paywarden_payment_id]': txRef,
    'payment_intent_data[metadata][paywarden_payment_id]': txRef,
    ...overrides,
  });
  const createSession = async (overrides: Record<string, string> = {}) => {
    counter += 1;
    const txRef = `pay_sim_${counter}`;
    const res = await v1('POST', '/v1/checkout/sessions', { body: form(sessionFields(txRef, overrides)) });
    const json = (await res.json()) as any;
    return { txRef, res, json, id: json.id as string, url: json.url as string };
  };
  const press = (url: string, button: 'pay' | 'decline' | 'debit' = 'pay') =>
    fetch(`${url}/${button}`, {
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
  /** The official library's verdict on a delivery, at the time it was received. */
  const constructEvent = (hook: { body: string; headers: IncomingHttpHeaders; at: number }, secret = webhookSecret) =>
    verifier.webhooks.constructEvent(
      hook.body,
      String(hook.headers['stripe-signature']),
      secret,
      300,
      undefined,
      hook.at,
    );

  test('hosted checkout, pay, redirect, signed checkout.session.completed, retrieve', async () => {
    const { txRef, id, url, json } = await createSession();
    assert.equal(json.object, 'checkout.session');
    assert.match(id, /^cs_test_[A-Za-z0-9]{24}$/);
    assert.equal(json.status, 'open');
    assert.equal(json.payment_status, 'unpaid');
    assert.equal(json.amount_total, 7550);
    assert.equal(json.currency, 'usd');
    assert.equal(json.client_reference_id, txRef);
    assert.equal(json.payment_intent, null);
    assert.equal(url, `${sim.url}/c/pay/${id}`);

    const page = await fetch(url);
    const html = await page.text();
    assert.match(
      page.headers.get('content-security-policy') ?? '',
      /^default-src 'none'; form-action 'self' https:\/\/merchant\.example;/,
    );
    assert.ok(
      html.includes('&#60;script&#62;alert(1)&#60;/script&#62;') &&
        !html.includes('<script>') &&
        !html.includes('<style'),
      'escaped, no script or style',
    );
    assert.ok(
      html.includes(`<form method="post" action="/c/pay/${id}/pay"><button type="submit" id="pay">Pay</button>`),
    );
    assert.match(html, /id="decline">Decline</);
    assert.match(html, /USD 75\.50/);

    const paid = await press(url);
    assert.equal(paid.status, 302);
    assert.equal(paid.headers.get('location'), `https://merchant.example/ok?session=${id}`);

    await waitForWebhooks(1);
    const hook = received[0]!;
    assert.match(String(hook.headers['stripe-signature']), /^t=\d{10},v1=[0-9a-f]{64}$/);
    assert.equal(hook.headers['content-type'], 'application/json; charset=utf-8');
    const event = constructEvent(hook);
    assert.equal(event.type, 'checkout.session.completed');
    assert.match(event.id, /^evt_/);
    const session = event.data.object as Stripe.Checkout.Session;
    assert.equal(session.id, id);
    assert.equal(session.status, 'complete');
    assert.equal(session.payment_status, 'paid');
    assert.equal(session.client_reference_id, txRef);
    assert.match(String(session.payment_intent), /^pi_/);
    assert.equal(session.url, null, 'no hosted url once complete');
    // Our own verifier agrees with stripe-node.
    assert.equal(
      verifyStripeSignature(
        Buffer.from(hook.body),
        hook.headers,
        [{ mode: 'test', secret: new Secret(webhookSecret) }],
        Math.floor(hook.at / 1000),
      ).ok,
      true,
    );

    const retrieved = (await (await v1('GET', `/v1/checkout/sessions/${id}`)).json()) as any;
    assert.equal(retrieved.status, 'complete');
    assert.equal(retrieved.payment_status, 'paid');
    assert.equal((await press(url)).status, 409, 'a session is paid once');
  });

  test('decline: the session stays open for another try (payment_intent.payment_failed), then pays', async () => {
    const { id, url, txRef } = await createSession();
    const declined = await press(url, 'decline');
    assert.equal(declined.status, 200, 'the customer stays on the checkout page');
    assert.match(await declined.text(), /id="declined">Your card was declined/);
    await waitForWebhooks(1);
    const failedEvent = constructEvent(received[0]!);
    assert.equal(failedEvent.type, 'payment_intent.payment_failed');
    const intent = failedEvent.data.object as Stripe.PaymentIntent;
    assert.equal(intent.status, 'requires_payment_method');
    assert.equal(intent.last_payment_error?.code, 'card_declined');
    const open = (await (await v1('GET', `/v1/checkout/sessions/${id}`)).json()) as any;
    assert.equal(open.status, 'open', 'a decline does not expire the session');
    assert.equal(open.payment_status, 'unpaid');
    // The PaymentIntent found from the session (expand), and the session from the PaymentIntent.
    const expanded = (await (await v1('GET', `/v1/checkout/sessions/${id}?expand[]=payment_intent`)).json()) as any;
    assert.equal(expanded.payment_intent.object, 'payment_intent');
    assert.equal(expanded.payment_intent.status, 'requires_payment_method');
    const listed = (await (
      await v1('GET', `/v1/checkout/sessions?payment_intent=${intent.id}&expand[]=data.payment_intent`)
    ).json()) as any;
    assert.equal(listed.data[0].id, id);
    assert.equal(listed.data[0].payment_intent.id, intent.id);
    const wrongPath = await v1('GET', `/v1/checkout/sessions?payment_intent=${intent.id}&expand[]=payment_intent`);
    assert.equal(wrongPath.status, 400, 'in a list the path is data.payment_intent');

    const paid = await press(url);
    assert.equal(paid.status, 302);
    await waitForWebhooks(2);
    assert.equal(constructEvent(received[1]!).type, 'checkout.session.completed');
    const done = (await (await v1('GET', `/v1/checkout/sessions/${id}`)).json()) as any;
    assert.equal(done.payment_status, 'paid');
    assert.equal(done.client_reference_id, txRef);
    // POST /expire still ends an open session, with checkout.session.expired.
    const other = await createSession();
    assert.equal((await v1('POST', `/v1/checkout/sessions/${other.id}/expire`)).status, 200);
    await waitForWebhooks(3);
    assert.equal(constructEvent(received[2]!).type, 'checkout.session.expired');
    assert.match(await (await fetch(other.url)).text(), /id="closed">This checkout session is expired/);
  });

  test('a delayed method: complete + unpaid while processing, then async_payment_succeeded or _failed', async () => {
    const first = await createSession();
    const page = await (await fetch(first.url)).text();
    assert.match(page, /id="debit">Pay by bank debit \(us_bank_account/);
    const started = await press(first.url, 'debit');
    assert.equal(started.status, 302, 'the customer is sent to success_url: done, though the money is not');
    await waitForWebhooks(1);
    const completed = constructEvent(received[0]!);
    assert.equal(completed.type, 'checkout.session.completed');
    const session = completed.data.object as Stripe.Checkout.Session;
    assert.equal(session.status, 'complete');
    assert.equal(session.payment_status, 'unpaid');
    const processing = (await (
      await v1('GET', `/v1/checkout/sessions/${first.id}?expand[]=payment_intent`)
    ).json()) as any;
    assert.equal(processing.payment_intent.status, 'processing');
    assert.deepEqual(processing.payment_intent.payment_method_types, ['us_bank_account']);

    await control('POST', `/_sim/transactions/${first.txRef}/complete`, { status: 'successful' });
    await waitForWebhooks(2);
    assert.equal(constructEvent(received[1]!).type, 'checkout.session.async_payment_succeeded');
    const settled = (await (
      await v1('GET', `/v1/checkout/sessions/${first.id}?expand[]=payment_intent`)
    ).json()) as any;
    assert.equal(settled.payment_status, 'paid');
    assert.equal(settled.payment_intent.status, 'succeeded');

    const second = await createSession();
    await control('POST', `/_sim/transactions/${second.txRef}/complete`, { status: 'processing' });
    await control('POST', `/_sim/transactions/${second.txRef}/complete`, { status: 'failed' });
    await waitForWebhooks(4);
    const failed = constructEvent(received[3]!);
    assert.equal(failed.type, 'checkout.session.async_payment_failed');
    const failedSession = (await (
      await v1('GET', `/v1/checkout/sessions/${second.id}?expand[]=payment_intent`)
    ).json()) as any;
    assert.equal(failedSession.status, 'complete');
    assert.equal(failedSession.payment_status, 'unpaid');
    assert.equal(failedSession.payment_intent.status, 'requires_payment_method');
    const bad = await v1('GET', `/v1/checkout/sessions/${second.id}?expand[]=customer_details`);
    assert.equal(bad.status, 400);
  });

  test('the official stripe client creates, retrieves, lists and expires sessions against the simulator', async () => {
    const params: Stripe.Checkout.SessionCreateParams = {
      mode: 'payment',
      client_reference_id: 'pay_official',
      success_url: 'https://merchant.example/ok',
      cancel_url: 'https://merchant.example/cancel',
      line_items: [{ quantity: 2, price_data: { currency: 'gbp', unit_amount: 1250, product_data: { name: 'Tea' } } }],
      metadata: { paywarden_payment_id: 'pay_official' },
    };
    const created = await stripe.checkout.sessions.create(params);
    assert.equal(created.amount_total, 2500);
    assert.equal(created.currency, 'gbp');
    assert.equal(created.lastResponse.headers['stripe-version'] !== undefined, true);
    const retrieved = await stripe.checkout.sessions.retrieve(created.id);
    assert.equal(retrieved.id, created.id);
    assert.equal(retrieved.client_reference_id, 'pay_official');
    assert.deepEqual(retrieved.metadata, { paywarden_payment_id: 'pay_official' });

    await control('POST', '/_sim/transactions/pay_official/complete', { status: 'successful' });
    const paid = await stripe.checkout.sessions.retrieve(created.id);
    const listed = await stripe.checkout.sessions.list({ payment_intent: String(paid.payment_intent), limit: 1 });
    assert.deepEqual(
      listed.data.map((s) => s.id),
      [created.id],
    );

    const another = await stripe.checkout.sessions.create({ ...params, client_reference_id: 'pay_official_2' });
    const expired = await stripe.checkout.sessions.expire(another.id);
    assert.equal(expired.status, 'expired');
    await assert.rejects(
      stripe.checkout.sessions.expire(another.id),
      (error: any) => error.type === 'StripeInvalidRequestError' && error.statusCode === 400,
    );
  });

  test('idempotency with the official client: same key and params replay; other params are an idempotency_error', async () => {
    const params: Stripe.Checkout.SessionCreateParams = {
      mode: 'payment',
      client_reference_id: 'pay_idem',
      success_url: 'https://m.example/ok',
      line_items: [{ quantity: 1, price_data: { currency: 'usd', unit_amount: 100, product_data: { name: 'A' } } }],
    };
    const first = await stripe.checkout.sessions.create(params, { idempotencyKey: 'pay_idem' });
    const second = await stripe.checkout.sessions.create(params, { idempotencyKey: 'pay_idem' });
    assert.equal(second.id, first.id);
    assert.equal(second.lastResponse.headers['idempotent-replayed'], 'true');
    await assert.rejects(
      stripe.checkout.sessions.create({ ...params, client_reference_id: 'pay_other' }, { idempotencyKey: 'pay_idem' }),
      (error: any) =>
        error.type === 'StripeIdempotencyError' && error.statusCode === 400 && /same parameters/.test(error.message),
    );
    // Without a key of its own, stripe-node adds a random one: two calls, two sessions.
    const a = await stripe.checkout.sessions.create(params);
    const b = await stripe.checkout.sessions.create(params);
    assert.notEqual(a.id, b.id);
    // A refused request is not saved under its key.
    const invalid = form(sessionFields('pay_invalid', { 'line_items[0][price_data][unit_amount]': 'abc' }));
    assert.equal(
      (await v1('POST', '/v1/checkout/sessions', { body: invalid, idempotencyKey: 'k-invalid' })).status,
      400,
    );
    assert.equal(
      (
        await v1('POST', '/v1/checkout/sessions', {
          body: form(sessionFields('pay_invalid')),
          idempotencyKey: 'k-invalid',
        })
      ).status,
      200,
    );
  });

  test('authentication (Bearer or Basic), errors mapped by the official client, unknown parameters and filters', async () => {
    const { id } = await createSession();
    assert.equal(
      (
        await v1('GET', `/v1/checkout/sessions/${id}`, {
          auth: `Basic ${Buffer.from(`${secretKey}:`).toString('base64')}`,
        })
      ).status,
      200,
    );
    const unauthorised = await v1('GET', `/v1/checkout/sessions/${id}`, { auth: 'Bearer sk_test_wrong' });
    assert.equal(unauthorised.status, 401);
    const body = (await unauthorised.json()) as any;
    assert.equal(body.error.type, 'invalid_request_error');
    assert.ok(!JSON.stringify(body).includes('sk_test_wrong'), 'the key is not echoed');
    assert.equal((await v1('GET', `/v1/checkout/sessions/${id}`, { auth: '' })).status, 401);
    const wrongClient = new Stripe('sk_test_wrong', {
      host: '127.0.0.1',
      port: Number(new URL(sim.url).port),
      protocol: 'http',
      telemetry: false,
      maxNetworkRetries: 0,
    });
    await assert.rejects(
      wrongClient.checkout.sessions.retrieve(id),
      (error: any) => error.type === 'StripeAuthenticationError',
    );
    await assert.rejects(
      stripe.checkout.sessions.retrieve('cs_test_missing'),
      (error: any) =>
        error.type === 'StripeInvalidRequestError' && error.code === 'resource_missing' && error.statusCode === 404,
    );

    const unknownParam = (await (
      await v1('POST', '/v1/checkout/sessions', { body: form(sessionFields('pay_u', { amount: '5' })) })
    ).json()) as any;
    assert.deepEqual([unknownParam.error.code, unknownParam.error.param], ['parameter_unknown', 'amount']);
    const missing = (await (
      await v1('POST', '/v1/checkout/sessions', { body: form({ mode: 'payment', success_url: 'https://m.example' }) })
    ).json()) as any;
    assert.deepEqual([missing.error.code, missing.error.param], ['parameter_missing', 'line_items']);
    const badUrl = (await (
      await v1('POST', '/v1/checkout/sessions', {
        body: form(sessionFields('pay_b', { success_url: 'javascript:alert(1)' })),
      })
    ).json()) as any;
    assert.equal(badUrl.error.code, 'url_invalid');
    assert.equal((await v1('POST', '/v1/checkout/sessions', { body: 'a[b=1' })).status, 400);
    // client_reference_id is not a list filter at Stripe, so not here either.
    const filter = await v1('GET', '/v1/checkout/sessions?client_reference_id=pay_sim_1');
    assert.equal(filter.status, 400);
    assert.equal(((await filter.json()) as any).error.code, 'parameter_unknown');
  });

  test('API faults: 500, 503, 429 with Retry-After, delay, timeout; consumed after `times`', async () => {
    const path = '/v1/checkout/sessions/cs_test_x';
    await control('POST', '/_sim/faults', { fault: 'http_500' });
    const failed = await v1('GET', path);
    assert.equal(failed.status, 500);
    assert.equal(((await failed.json()) as any).error.type, 'api_error');
    assert.equal((await v1('GET', path)).status, 404, 'fault used up');
    await control('POST', '/_sim/faults', { fault: 'http_503', times: 2 });
    assert.equal((await v1('GET', path)).status, 503);
    assert.equal((await v1('GET', path)).status, 503);
    await control('POST', '/_sim/faults', { fault: 'http_429', value: 7 });
    const limited = await v1('GET', path);
    assert.equal(limited.status, 429);
    assert.equal(limited.headers.get('retry-after'), '7');
    await control('POST', '/_sim/faults', { fault: 'delay', value: 150 });
    const started = Date.now();
    await v1('GET', path);
    assert.ok(Date.now() - started >= 140);
    await control('POST', '/_sim/faults', { fault: 'timeout' });
    await assert.rejects(v1('GET', path, { signal: AbortSignal.timeout(200) }), /abort|timeout/i);
    await control('POST', '/_sim/faults', { fault: 'timeout' });
    const heldSince = Date.now();
    await assert.rejects(
      v1('POST', '/v1/checkout/sessions', { body: form(sessionFields('held')), signal: AbortSignal.timeout(300) }),
      /abort|timeout/i,
    );
    assert.ok(Date.now() - heldSince >= 280, 'held until the client gave up');
    await control('DELETE', '/_sim/faults');
  });

  test('faults scoped to one tx_ref leave others alone: wrong_amount, wrong_currency', async () => {
    const a = await createSession();
    const b = await createSession();
    await control('POST', '/_sim/faults', { fault: 'wrong_amount', tx_ref: a.txRef, times: 0 });
    await control('POST', '/_sim/faults', { fault: 'wrong_currency', tx_ref: b.txRef, times: 0 });
    await press(a.url);
    await press(b.url);
    const va = (await (await v1('GET', `/v1/checkout/sessions/${a.id}`)).json()) as any;
    const vb = (await (await v1('GET', `/v1/checkout/sessions/${b.id}`)).json()) as any;
    assert.deepEqual([va.amount_total, va.currency], [7450, 'usd']);
    assert.deepEqual([vb.amount_total, vb.currency], [7550, 'eur']);
  });

  test('webhook faults: duplicates, out of order, bad signature, none at all', async () => {
    const dup = await createSession();
    await control('POST', '/_sim/faults', { fault: 'duplicate_webhook', tx_ref: dup.txRef, value: 3 });
    await press(dup.url);
    await waitForWebhooks(3);
    assert.equal(new Set(received.map((r) => r.body)).size, 1, 'the same event, byte for byte');
    for (const hook of received) constructEvent(hook);

    received.length = 0;
    const ooo = await createSession();
    await control('POST', '/_sim/faults', { fault: 'out_of_order', tx_ref: ooo.txRef });
    await press(ooo.url);
    await waitForWebhooks(2);
    const events = received.map((hook) => constructEvent(hook));
    assert.deepEqual(
      events.map((e) => e.type),
      ['checkout.session.completed', 'payment_intent.payment_failed'],
    );
    assert.ok(events[1]!.created < events[0]!.created, 'the failure happened first');
    const intent = events[1]!.data.object as Stripe.PaymentIntent;
    assert.equal(intent.metadata.paywarden_payment_id, ooo.txRef);
    const current = (await (await v1('GET', `/v1/checkout/sessions/${ooo.id}`)).json()) as any;
    assert.equal(current.payment_status, 'paid', 'the session itself says paid');

    received.length = 0;
    const bad = await createSession();
    await control('POST', '/_sim/faults', { fault: 'bad_signature', tx_ref: bad.txRef });
    await press(bad.url);
    await waitForWebhooks(1);
    assert.throws(() => constructEvent(received[0]!), /No signatures found matching/);

    received.length = 0;
    const silent = await createSession();
    await control('POST', '/_sim/faults', { fault: 'no_webhook', tx_ref: silent.txRef });
    await press(silent.url);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(received.length, 0);
  });

  test('a secret being rolled: two v1 entries, either secret verifies', async () => {
    const next = `whsec_${randomBytes(24).toString('base64')}`;
    await control('PUT', '/_sim/config', { additionalWebhookSecret: next });
    const { url } = await createSession();
    await press(url);
    await waitForWebhooks(1);
    const hook = received[0]!;
    assert.match(String(hook.headers['stripe-signature']), /^t=\d+,v1=[0-9a-f]{64},v1=[0-9a-f]{64}$/);
    assert.equal(constructEvent(hook, webhookSecret).type, 'checkout.session.completed');
    assert.equal(constructEvent(hook, next).type, 'checkout.session.completed');
    const t = /t=(\d+)/.exec(String(hook.headers['stripe-signature']))![1]!;
    assert.ok(String(hook.headers['stripe-signature']).includes(stripeSignature(hook.body, Number(t), next)));
  });

  test('control API validates its input, completes headlessly and resends', async () => {
    assert.match((await control('POST', '/_sim/faults', { fault: 'meteor' })).error, /fault must be one of/);
    assert.match((await control('POST', '/_sim/faults', { fault: 'delay', times: -1 })).error, /times/);
    assert.match(
      (await control('PUT', '/_sim/config', { additionalWebhookSecret: 5 })).error,
      /additionalWebhookSecret/,
    );
    const { txRef, id } = await createSession();
    const done = await control('POST', `/_sim/transactions/${txRef}/complete`, { status: 'successful' });
    assert.equal(done.id, id);
    assert.equal(done.payment_status, 'paid');
    assert.equal(done.redirect_url, `https://merchant.example/ok?session=${id}`);
    assert.match(
      (await control('POST', `/_sim/transactions/${txRef}/complete`, { status: 'successful' })).error,
      /no open checkout/,
    );
    await waitForWebhooks(1);
    const resent = await control('POST', `/_sim/webhooks/${id}/resend`);
    assert.equal(resent.body, received[0]!.body);
    await waitForWebhooks(2);
    assert.equal(constructEvent(received[1]!).id, constructEvent(received[0]!).id);
    const log = await control('GET', '/_sim/webhooks');
    assert.equal(log.length, 2);
    const sessions = await control('GET', '/_sim/transactions');
    assert.deepEqual(
      sessions.map((s: any) => s.id),
      [id],
    );
  });
});
