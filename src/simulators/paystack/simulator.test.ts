import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { Secret } from '../../crypto/secret.ts';
import { createPaystackProvider } from '../../providers/paystack/flow.ts';
import { parsePaystackWebhook, verifyPaystackSignature } from '../../providers/paystack/webhook.ts';
import type { HttpClient } from '../../http/outbound.ts';
import { startPaystackSimulator } from './simulator.ts';
import { paystackSignature } from './wire.ts';

describe('Paystack simulator', () => {
  // Generated per run: no secret-looking literal in the source.
  const secretKey = `sk_test_${randomBytes(20).toString('hex')}`;
  const received: Array<{ raw: Buffer; body: string; headers: IncomingHttpHeaders }> = [];
  const receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      received.push({ raw, body: raw.toString('utf8'), headers: req.headers });
      res.end();
    });
  });
  let sim: Awaited<ReturnType<typeof startPaystackSimulator>>;
  let counter = 0;

  before(async () => {
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    sim = await startPaystackSimulator({
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
    await control('PUT', '/_sim/config', { notFoundHttpStatus: 404, unpaidVerify: 'abandoned' });
    received.length = 0;
  });

  const control = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${sim.url}${path}`, {
      method,
      ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
    });
    return res.json() as Promise<any>;
  };
  const api = (method: string, path: string, body?: unknown, key = secretKey, signal?: AbortSignal) =>
    fetch(`${sim.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      ...(signal === undefined ? {} : { signal }),
    });
  const initialize = async (overrides: Record<string, unknown> = {}) => {
    counter += 1;
    const reference = `pay-sim${counter}x${randomBytes(3).toString('hex')}`;
    const res = await api('POST', '/transaction/initialize', {
      email: 'ada+<b>@example.com',
      amount: 150005,
      currency: 'NGN',
      reference,
      callback_url: 'https://merchant.example/back?order=1',
      metadata: { description: '<script>alert(1)</script>' },
      ...overrides,
    });
    const json = (await res.json()) as any;
    return { reference, link: json.data?.authorization_url as string, res, json };
  };
  const pay = (link: string, button: 'pay' | 'decline' = 'pay') =>
    fetch(`${link}/${button}`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: '',
    });
  const verify = async (reference: string) => {
    const res = await api('GET', `/transaction/verify/${encodeURIComponent(reference)}`);
    return { status: res.status, json: (await res.json()) as any };
  };
  const waitForWebhooks = async (count: number) => {
    const deadline = Date.now() + 3000;
    while (received.length < count) {
      if (Date.now() > deadline) throw new Error(`got ${received.length} webhooks, expected ${count}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  };

  test('the published x-paystack-signature test vector', () => {
    const body =
      '{"event":"charge.success","data":{"reference":"ref_123","amount":500000,"currency":"NGN","status":"success"}}';
    assert.equal(
      paystackSignature(body, 'sk_' + 'test_secret'),
      '3ba2ebb7a8afeabfd032c0889429b32c67a516a1648a039ec1c0d5b74d21657fb478363cb07c564f3756eee7e9a547dde5ceeb561ea80c1c5a5430f30b24d7ea',
    );
  });

  test('initialize, escaped checkout under a strict CSP, pay, redirect, signed webhook, verify', async () => {
    const { reference, link, json, res } = await initialize();
    assert.equal(res.status, 200);
    assert.equal(json.status, true);
    assert.equal(json.message, 'Authorization URL created');
    assert.equal(json.data.reference, reference);
    assert.equal(link, `${sim.url}/checkout/${json.data.access_code}`);

    const page = await fetch(link);
    const html = await page.text();
    const csp = page.headers.get('content-security-policy') ?? '';
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /form-action 'self' https:\/\/merchant\.example/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.ok(
      html.includes('&#60;script&#62;alert(1)&#60;/script&#62;') && !html.includes('<script'),
      'metadata description is escaped',
    );
    assert.ok(html.includes('ada+&#60;b&#62;@example.com'), 'email is escaped');
    assert.ok(!/<style|style=|<script|on\w+=/i.test(html), 'no script or style at all');
    assert.match(html, /NGN 1500\.05/);
    assert.match(
      html,
      /<form method="post" action="\/checkout\/[0-9a-f]+\/pay"><button type="submit" id="pay">Pay<\/button>/,
    );
    assert.match(html, /id="decline">Decline</);

    // Before payment: Paystack knows the initialized transaction and calls it abandoned.
    const unpaid = await verify(reference);
    assert.equal(unpaid.status, 200);
    assert.equal(unpaid.json.status, true);
    assert.equal(unpaid.json.data.status, 'abandoned');

    const paid = await pay(link);
    assert.equal(paid.status, 302);
    const location = new URL(paid.headers.get('location') ?? '');
    assert.equal(location.origin + location.pathname, 'https://merchant.example/back');
    assert.equal(location.searchParams.get('order'), '1', "the merchant's own query survives");
    assert.equal(location.searchParams.get('trxref'), reference);
    assert.equal(location.searchParams.get('reference'), reference);

    await waitForWebhooks(1);
    const hook = received[0]!;
    assert.equal(hook.headers['content-type'], 'application/json');
    assert.match(String(hook.headers['x-paystack-signature']), /^[0-9a-f]{128}$/);
    assert.equal(hook.headers['x-paystack-signature'], paystackSignature(hook.body, secretKey));
    // Our adapter's verifier accepts it over the raw bytes, and its parser reads it.
    assert.deepEqual(
      verifyPaystackSignature(hook.raw, hook.headers, [{ mode: 'test', secretKey: new Secret(secretKey) }]),
      { ok: true, mode: 'test', scheme: 'x-paystack-signature' },
    );
    const event = JSON.parse(hook.body);
    assert.equal(event.event, 'charge.success');
    assert.equal(event.data.status, 'success');
    assert.equal(event.data.reference, reference);
    assert.equal(event.data.amount, 150005);
    assert.equal(event.data.currency, 'NGN');
    assert.deepEqual(event.data.metadata, { description: '<script>alert(1)</script>' });
    const parsed = parsePaystackWebhook(hook.raw);
    assert.ok(parsed.ok);
    assert.equal(parsed.event.dedupeKey, `paystack:${event.data.id}:charge.success`);
    assert.equal(parsed.event.paymentId, reference.replace('-', '_'));

    const verified = await verify(reference);
    assert.equal(verified.status, 200);
    assert.equal(verified.json.status, true);
    assert.equal(verified.json.message, 'Verification successful');
    assert.equal(verified.json.data.status, 'success');
    assert.equal(verified.json.data.amount, 150005);
    assert.ok(Number.isSafeInteger(verified.json.data.amount), 'minor units, an integer');
    assert.equal(verified.json.data.currency, 'NGN');
    assert.equal(verified.json.data.reference, reference);
    assert.equal(verified.json.data.id, event.data.id);
    assert.equal((await pay(link)).status, 409, 'a checkout is paid once');
  });

  test('our adapter end to end: createCheckout and verifyPayment against the simulator', async () => {
    // A minimal HttpClient over fetch (the real one needs a logger and a rate limiter).
    const http: HttpClient = {
      async send({ method, url, headers, body }) {
        const res = await fetch(url, { method, headers, ...(body === undefined ? {} : { body }) });
        return {
          kind: 'response',
          response: { status: res.status, headers: {}, body: await res.text(), latencyMs: 0 },
        };
      },
    };
    const provider = createPaystackProvider({ baseUrl: sim.url, secretKey: new Secret(secretKey), http });
    const paymentId = `pay_${randomBytes(8).toString('hex')}`;
    const request = {
      paymentId,
      amountMinor: 250000,
      currency: 'GHS',
      customer: { email: 'k@example.com', name: null, phone: null },
      redirectUrl: 'https://merchant.example/r',
      description: null,
      merchantReference: 'o-1',
      expiresAt: Date.now() + 86_400_000,
    };
    const created = await provider.createCheckout(request);
    assert.equal(created.kind, 'ok');
    const again = await provider.createCheckout(request);
    assert.deepEqual(again, {
      kind: 'reference_exists',
      reason: 'Paystack already holds this reference (duplicate_reference)',
    });
    const unpaid = await provider.verifyPayment({ paymentId, providerTxId: null });
    assert.equal(
      unpaid.kind === 'ok' && unpaid.value.status,
      'pending',
      'abandoned (not finished yet) stays pending (see the status table in transformers.ts)',
    );
    const done = await control('POST', `/_sim/transactions/${paymentId}/complete`, { status: 'successful' });
    assert.equal(done.status, 'success');
    assert.equal(done.reference, paymentId.replace('_', '-'));
    const paidNow = await provider.verifyPayment({ paymentId, providerTxId: String(done.id) });
    assert.deepEqual(paidNow, {
      kind: 'ok',
      value: {
        status: 'succeeded',
        providerStatus: 'success',
        amountMinor: 250000,
        // The merchant bears the fees (the default): the charge is the order.
        charged: { amountMinor: 250000 },
        feeMinor: 13750,
        currency: 'GHS',
        reference: paymentId,
        providerTxId: String(done.id),
      },
    });
    // "Customer pays the fees" (feeBearer: customer): the charge grows by the fees, the order stays.
    await control('PUT', '/_sim/config', { feeBearer: 'customer' });
    const withFees = await provider.verifyPayment({ paymentId, providerTxId: String(done.id) });
    assert.equal(withFees.kind === 'ok' && withFees.value.amountMinor, 250000);
    assert.deepEqual(withFees.kind === 'ok' && withFees.value.charged, { amountMinor: 263750 });
    assert.equal(withFees.kind === 'ok' && withFees.value.feeMinor, 13750);
    await control('PUT', '/_sim/config', { feeBearer: 'merchant' });
    assert.equal(
      (await control('PUT', '/_sim/config', { feeBearer: 'nobody' })).error,
      'feeBearer: merchant | customer',
    );
    assert.deepEqual(await provider.verifyPayment({ paymentId: 'pay_unknown', providerTxId: null }), {
      kind: 'not_found',
    });
  });

  test('401 Invalid key, duplicate reference, validation, not found in both variants', async () => {
    const unauthorised = await api('GET', '/transaction/verify/x', undefined, 'sk_' + 'test_wrong');
    assert.equal(unauthorised.status, 401);
    assert.deepEqual(await unauthorised.json(), { status: false, message: 'Invalid key' });
    const noAuth = await fetch(`${sim.url}/transaction/initialize`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    assert.equal(noAuth.status, 401);

    const { reference } = await initialize();
    const duplicate = await api('POST', '/transaction/initialize', { email: 'a@b.co', amount: 100, reference });
    assert.equal(duplicate.status, 400);
    assert.deepEqual(await duplicate.json(), {
      status: false,
      message: 'Duplicate Transaction Reference',
      meta: { nextStep: 'Try and create the Transaction or Charge with a new reference' },
      type: 'validation_error',
      code: 'duplicate_reference',
      errorCodeMappingNotFound: false,
    });
    const missingEmail = await api('POST', '/transaction/initialize', { amount: 100 });
    assert.equal(missingEmail.status, 400);
    assert.deepEqual(await missingEmail.json(), {
      status: false,
      message: 'Email Address is required',
      meta: { nextStep: 'Provide all required params ' },
      type: 'validation_error',
      code: 'missing_params',
    });
    for (const bad of [
      { amount: 10.5 },
      { amount: -1 },
      { amount: '1.00' },
      { currency: 'EUR' },
      { reference: 'pay_underscore' },
      { callback_url: 'javascript:alert(1)' },
    ]) {
      const res = await api('POST', '/transaction/initialize', { email: 'a@b.co', amount: 100, ...bad });
      assert.equal(res.status, 400, JSON.stringify(bad));
      assert.equal(((await res.json()) as any).status, false);
    }
    // Without a reference Paystack makes one up.
    const generated = (await (
      await api('POST', '/transaction/initialize', { email: 'a@b.co', amount: 100 })
    ).json()) as any;
    assert.match(generated.data.reference, /^[a-z0-9]+$/);

    const missing = await verify('pay-nothing');
    assert.equal(missing.status, 404);
    assert.equal(missing.json.status, false);
    assert.equal(missing.json.message, 'Transaction reference not found');
    await control('PUT', '/_sim/config', { notFoundHttpStatus: 400, unpaidVerify: 'not_found' });
    assert.equal((await verify('pay-nothing')).status, 400);
    assert.equal((await verify(reference)).status, 400, 'an unpaid reference is not found when so configured');
  });

  test('a JSON body without Content-Type (as the official SDK sends) and a form-encoded body are read', async () => {
    const raw = JSON.stringify({ email: 'a@b.co', amount: 5000, reference: 'no-content-type-1' });
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const url = new URL('/transaction/initialize', sim.url);
      const req = httpRequest(
        {
          host: url.hostname,
          port: url.port,
          path: url.pathname,
          method: 'POST',
          headers: { authorization: `Bearer ${secretKey}`, 'content-length': Buffer.byteLength(raw) },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        },
      );
      req.on('error', reject);
      req.end(raw);
    });
    assert.equal(answer.status, 200, answer.body);
    assert.equal(JSON.parse(answer.body).data.reference, 'no-content-type-1');
    const form = await fetch(`${sim.url}/transaction/initialize`, {
      method: 'POST',
      headers: { authorization: `Bearer ${secretKey}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'email=a%40b.co&amount=7000&reference=form-1',
    });
    assert.equal(form.status, 200);
  });

  test('decline: no webhook (Paystack sends none for a failed card); verify says failed; the checkout stays payable', async () => {
    const { reference, link } = await initialize();
    const declined = await pay(link, 'decline');
    assert.equal(declined.status, 200, 'the customer stays on the checkout');
    assert.match(await declined.text(), /id="declined">Your card was declined/);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(received.length, 0);
    const verified = await verify(reference);
    assert.equal(verified.json.status, true, 'the top-level status is true for a failed payment too');
    assert.equal(verified.json.data.status, 'failed');
    // Another card on the same checkout: the same reference is now a success.
    const paid = await pay(link);
    assert.equal(paid.status, 302);
    assert.equal(new URL(paid.headers.get('location')!).searchParams.get('reference'), reference);
    assert.equal((await verify(reference)).json.data.status, 'success');
    assert.equal((await verify(reference)).json.data.id, verified.json.data.id, 'one transaction per reference');
    assert.equal((await pay(link)).status, 409, 'a paid checkout is closed');
  });

  test('API faults: 500, 503, 429 with Retry-After, delay, timeout; consumed after `times`', async () => {
    await control('POST', '/_sim/faults', { fault: 'http_500' });
    const failed = await api('GET', '/transaction/verify/x');
    assert.equal(failed.status, 500);
    assert.equal(((await failed.json()) as any).status, false);
    assert.equal((await api('GET', '/transaction/verify/x')).status, 404, 'fault used up');
    await control('POST', '/_sim/faults', { fault: 'http_503', times: 2 });
    assert.equal((await api('GET', '/transaction/verify/x')).status, 503);
    assert.equal((await api('GET', '/transaction/verify/x')).status, 503);
    await control('POST', '/_sim/faults', { fault: 'http_429', value: 7 });
    const limited = await api('GET', '/transaction/verify/x');
    assert.equal(limited.status, 429);
    assert.equal(limited.headers.get('retry-after'), '7');
    assert.equal(((await limited.json()) as any).code, 'rate_limited');
    await control('POST', '/_sim/faults', { fault: 'delay', value: 150 });
    const started = Date.now();
    await api('GET', '/transaction/verify/x');
    assert.ok(Date.now() - started >= 140);
    await control('POST', '/_sim/faults', { fault: 'timeout' });
    await assert.rejects(
      api('GET', '/transaction/verify/x', undefined, secretKey, AbortSignal.timeout(200)),
      /abort|timeout/i,
    );
    await control('POST', '/_sim/faults', { fault: 'timeout' });
    const heldSince = Date.now();
    await assert.rejects(
      api(
        'POST',
        '/transaction/initialize',
        { email: 'a@b.co', amount: 100, reference: 'held' },
        secretKey,
        AbortSignal.timeout(300),
      ),
      /abort|timeout/i,
    );
    assert.ok(Date.now() - heldSince >= 280, 'held until the client gave up');
    await control('DELETE', '/_sim/faults');
    assert.equal((await api('GET', '/transaction/verify/x')).status, 404);
  });

  test('faults scoped to one reference leave others alone; a scope in our pay_ form matches its pay- reference', async () => {
    const a = await initialize();
    const b = await initialize();
    await control('POST', '/_sim/faults', { fault: 'wrong_amount', reference: a.reference, times: 0 });
    // The shared fault suite scopes by our payment id (`tx_ref: pay_…`).
    await control('POST', '/_sim/faults', { fault: 'wrong_currency', tx_ref: b.reference.replace('-', '_'), times: 0 });
    await pay(a.link);
    await pay(b.link);
    const va = await verify(a.reference);
    const vb = await verify(b.reference);
    assert.equal(va.json.data.amount, 150005 - 100, 'one major unit lower');
    assert.equal(va.json.data.currency, 'NGN');
    assert.equal(vb.json.data.amount, 150005);
    assert.equal(vb.json.data.currency, 'USD');
    await control('POST', '/_sim/faults', { fault: 'wrong_amount', reference: b.reference, value: 0.5 });
    assert.equal((await verify(b.reference)).json.data.amount, 150005 - 50);
  });

  test('webhook faults: duplicates, out of order, bad signature, none at all', async () => {
    const dup = await initialize();
    await control('POST', '/_sim/faults', { fault: 'duplicate_webhook', reference: dup.reference, value: 3 });
    await pay(dup.link);
    await waitForWebhooks(3);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(received.length, 3);
    assert.equal(new Set(received.map((r) => r.body)).size, 1, 'byte-identical copies');
    assert.equal(new Set(received.map((r) => r.headers['x-paystack-signature'])).size, 1);

    received.length = 0;
    const ooo = await initialize();
    await control('POST', '/_sim/faults', { fault: 'out_of_order', reference: ooo.reference });
    await pay(ooo.link);
    await waitForWebhooks(2);
    const events = received.map((r) => JSON.parse(r.body));
    assert.deepEqual(
      events.map((e) => [e.event, e.data.status]),
      [
        ['charge.success', 'success'],
        ['charge.failed', 'failed'],
      ],
    );
    assert.notEqual(events[0].data.id, events[1].data.id, 'two attempts, two transaction ids');
    const keys = received.map(
      (r) => (parsePaystackWebhook(r.raw) as { ok: true; event: { dedupeKey: string; paymentId: string } }).event,
    );
    assert.equal(new Set(keys.map((k) => k.dedupeKey)).size, 2, 'both are stored, not deduplicated');
    assert.ok(keys.every((k) => k.paymentId === ooo.reference.replace('-', '_')));
    assert.equal(
      (await verify(ooo.reference)).json.data.status,
      'success',
      'by reference, the successful attempt wins',
    );

    received.length = 0;
    const bad = await initialize();
    await control('POST', '/_sim/faults', { fault: 'bad_signature', reference: bad.reference });
    await pay(bad.link);
    await waitForWebhooks(1);
    assert.match(String(received[0]!.headers['x-paystack-signature']), /^[0-9a-f]{128}$/);
    assert.notEqual(received[0]!.headers['x-paystack-signature'], paystackSignature(received[0]!.body, secretKey));
    assert.equal(
      verifyPaystackSignature(received[0]!.raw, received[0]!.headers, [
        { mode: 'test', secretKey: new Secret(secretKey) },
      ]).ok,
      false,
    );

    received.length = 0;
    const silent = await initialize();
    await control('POST', '/_sim/faults', { fault: 'no_webhook', reference: silent.reference });
    await pay(silent.link);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(received.length, 0);
    assert.equal((await verify(silent.reference)).json.data.status, 'success', 'reconciliation still finds it');
  });

  test('transfers: out_of_order after a reversal delivers the stale transfer.success last', async () => {
    const recipient = (await (
      await api('POST', '/transferrecipient', {
        type: 'nuban',
        name: 'Ada Okafor',
        account_number: '0123456789',
        bank_code: '058',
        currency: 'NGN',
      })
    ).json()) as any;
    const reference = `trf${randomBytes(8).toString('hex')}`;
    await control('POST', '/_sim/faults', { fault: 'reversal_after_success', reference });
    await control('POST', '/_sim/faults', { fault: 'out_of_order', reference });
    const created = await api('POST', '/transfer', {
      source: 'balance',
      amount: 150_075,
      reference,
      recipient: recipient.data.recipient_code,
      reason: 'payout',
    });
    assert.equal(created.status, 200);
    for (let i = 0; i < 200 && received.length < 3; i += 1) await new Promise((resolve) => setTimeout(resolve, 10));
    const events = received.map((r) => JSON.parse(r.body));
    assert.deepEqual(
      events.map((e) => [e.event, e.data.reference, e.data.status]),
      [
        ['transfer.success', reference, 'success'],
        ['transfer.reversed', reference, 'reversed'],
        ['transfer.success', reference, 'success'],
      ],
    );
    for (const r of received) assert.equal(r.headers['x-paystack-signature'], paystackSignature(r.body, secretKey));
    const verified = (await (await api('GET', `/transfer/verify/${reference}`)).json()) as any;
    assert.equal(verified.data.status, 'reversed');
  });

  test('control API: validation, config, webhook log, transactions, resend, headless complete, reset', async () => {
    assert.match((await control('POST', '/_sim/faults', { fault: 'meteor' })).error, /fault must be one of/);
    assert.match((await control('PUT', '/_sim/config', { notFoundHttpStatus: 418 })).error, /notFoundHttpStatus/);
    assert.match((await control('PUT', '/_sim/config', { unpaidVerify: 'maybe' })).error, /unpaidVerify/);
    const settings = await control('PUT', '/_sim/config', { notFoundHttpStatus: 404, bogus: 1 });
    assert.equal(settings.notFoundHttpStatus, 404);
    assert.equal(settings.bogus, undefined);

    const { reference } = await initialize();
    assert.match(
      (await control('POST', `/_sim/transactions/${reference}/complete`, { status: 'maybe' })).error,
      /status/,
    );
    const tx = await control('POST', `/_sim/transactions/${reference}/complete`, { status: 'success' });
    assert.equal(tx.reference, reference);
    assert.equal(tx.status, 'success');
    assert.equal(tx.amount, 150005);
    assert.match(tx.redirect_url, /trxref=/);
    assert.match(
      (await control('POST', `/_sim/transactions/${reference}/complete`, { status: 'success' })).error,
      /no open checkout/,
    );
    await waitForWebhooks(1);

    const log = await control('GET', '/_sim/webhooks');
    assert.equal(log.length, 1);
    assert.equal(log[0].headers['x-paystack-signature'], paystackSignature(log[0].body, secretKey));
    const list = await control('GET', '/_sim/transactions');
    assert.deepEqual(
      list.map((t: any) => [t.reference, t.status]),
      [[reference, 'success']],
    );

    const resent = await fetch(`${sim.url}/_sim/webhooks/${tx.id}/resend`, { method: 'POST' });
    assert.equal(resent.status, 202);
    await waitForWebhooks(2);
    assert.equal(received[1]!.body, received[0]!.body);
    assert.equal((await fetch(`${sim.url}/_sim/webhooks/999/resend`, { method: 'POST' })).status, 404);

    await control('POST', '/_sim/reset');
    assert.deepEqual(await control('GET', '/_sim/transactions'), []);
    assert.deepEqual(await control('GET', '/_sim/webhooks'), []);
    assert.equal((await verify(reference)).status, 404);
  });
});
