import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { startFlutterwaveSimulator } from './simulator.ts';
import { flutterwaveSignature } from './wire.ts';

const require = createRequire(import.meta.url);
// The official Node client, pinned to 1.3.2 (later versions send telemetry to outside servers).
const Flutterwave = require('flutterwave-node-v3') as new (publicKey: string, secretKey: string, baseUrl: string) => any;

describe('Flutterwave simulator', () => {
  const secretKey = `FLWSECK_TEST-${randomBytes(8).toString('hex')}-X`;
  const secretHash = randomBytes(16).toString('hex');
  const received: Array<{ body: string; headers: IncomingHttpHeaders }> = [];
  const receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ body: Buffer.concat(chunks).toString('utf8'), headers: req.headers });
      res.end();
    });
  });
  let sim: Awaited<ReturnType<typeof startFlutterwaveSimulator>>;
  let counter = 0;

  before(async () => {
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    sim = await startFlutterwaveSimulator({ secretKey, secretHash, webhookUrl: `http://127.0.0.1:${(receiver.address() as { port: number }).port}/hook` });
  });
  after(async () => {
    await sim.close();
    receiver.close();
  });
  beforeEach(async () => {
    await control('POST', '/_sim/reset');
    await control('PUT', '/_sim/config', { signatureHeaders: 'both', payloadShape: 'v3', notFoundHttpStatus: 400 });
    received.length = 0;
  });

  const control = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${sim.url}${path}`, { method, ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }) });
    return res.json() as Promise<any>;
  };
  const v3 = (method: string, path: string, body?: unknown, key = secretKey, signal?: AbortSignal) =>
    fetch(`${sim.url}${path}`, { method, headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }), ...(signal === undefined ? {} : { signal }) });
  const createCheckout = async (overrides: Record<string, unknown> = {}) => {
    counter += 1;
    const txRef = `pay_sim_${counter}`;
    const res = await v3('POST', '/v3/payments', { tx_ref: txRef, amount: '75.50', currency: 'NGN', redirect_url: 'https://merchant.example/back', customer: { email: 'ada@example.com', name: '<script>alert(1)</script>' }, ...overrides });
    const json = (await res.json()) as any;
    return { txRef, link: json.data?.link as string, res, json };
  };
  const pay = (link: string, button: 'pay' | 'decline' = 'pay') => fetch(`${link}/${button}`, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: '' });
  const waitForWebhooks = async (count: number) => {
    const deadline = Date.now() + 3000;
    while (received.length < count) {
      if (Date.now() > deadline) throw new Error(`got ${received.length} webhooks, expected ${count}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  };

  test('the published flutterwave-signature test vector', () => {
    assert.equal(flutterwaveSignature('{"event":"charge.completed","data":{"id":285959875,"tx_ref":"ord_1","status":"successful","amount":100,"currency":"NGN"}}', 'my_secret_hash'), 'XKL/FllEQrTsZ5n5jfj83YQ8MkDhlzgUXURw8lI+hFs=');
  });

  test('hosted checkout, pay, redirect, signed webhook, verify by id and by reference', async () => {
    const { txRef, link, json } = await createCheckout();
    assert.equal(json.status, 'success');
    assert.equal(json.message, 'Hosted Link');
    const page = await fetch(link);
    const html = await page.text();
    assert.match(page.headers.get('content-security-policy') ?? '', /default-src 'none'/);
    assert.ok(html.includes('&#60;script&#62;alert(1)&#60;/script&#62;') && !html.includes('<script>'), 'customer name is escaped');
    assert.match(html, /<form method="post" action="\/checkout\/[0-9a-f]+\/pay"><button type="submit" id="pay">Pay<\/button>/);
    assert.match(html, /id="decline">Decline</);

    const paid = await pay(link);
    assert.equal(paid.status, 302);
    const location = new URL(paid.headers.get('location') ?? '');
    assert.equal(location.origin + location.pathname, 'https://merchant.example/back');
    assert.equal(location.searchParams.get('status'), 'successful');
    assert.equal(location.searchParams.get('tx_ref'), txRef);
    const txId = location.searchParams.get('transaction_id');

    await waitForWebhooks(1);
    const hook = received[0]!;
    assert.equal(hook.headers['verif-hash'], secretHash);
    assert.equal(hook.headers['flutterwave-signature'], flutterwaveSignature(hook.body, secretHash));
    const event = JSON.parse(hook.body);
    assert.equal(event.event, 'charge.completed');
    assert.equal(event['event.type'], 'CARD_TRANSACTION');
    assert.equal(event.data.status, 'successful');
    assert.equal(event.data.tx_ref, txRef);
    assert.equal(event.data.amount, 75.5);

    for (const path of [`/v3/transactions/${txId}/verify`, `/v3/transactions/verify_by_reference?tx_ref=${txRef}`]) {
      const verified = (await (await v3('GET', path)).json()) as any;
      assert.equal(verified.status, 'success');
      assert.equal(verified.data.status, 'successful');
      assert.equal(verified.data.amount, 75.5);
      assert.equal(verified.data.currency, 'NGN');
      assert.equal(String(verified.data.id), txId);
    }
    assert.equal((await pay(link)).status, 409, 'a checkout is paid once');
  });

  test('the official flutterwave-node-v3 client verifies against the simulator', async () => {
    const { txRef, link } = await createCheckout();
    const txId = new URL((await pay(link)).headers.get('location')!).searchParams.get('transaction_id');
    const client = new Flutterwave('FLWPUBK_TEST-example', secretKey, `${sim.url}/`);
    const byId = await client.Transaction.verify({ id: txId });
    assert.equal(byId.status, 'success');
    assert.equal(byId.data.tx_ref, txRef);
    const byRef = await client.Transaction.verify_by_tx({ tx_ref: txRef });
    assert.equal(byRef.data.id, Number(txId));
    assert.equal(byRef.data.status, 'successful');
  });

  test('authentication, validation and not-found answers', async () => {
    const unauthorised = await v3('GET', '/v3/transactions/1/verify', undefined, 'FLWSECK_TEST-wrong');
    assert.equal(unauthorised.status, 401);
    assert.deepEqual(await unauthorised.json(), { status: 'error', message: 'Invalid authorization key', data: null });
    const missing = await v3('GET', '/v3/transactions/123/verify');
    assert.equal(missing.status, 400);
    assert.match(((await missing.json()) as any).message, /No transaction was found/);
    const doubled = await v3('GET', '//v3/transactions/123/verify');
    assert.match(((await doubled.json()) as any).message, /No transaction was found/, 'a doubled slash is routed, as the SDK needs');
    await control('PUT', '/_sim/config', { notFoundHttpStatus: 200 });
    assert.equal((await v3('GET', '/v3/transactions/123/verify')).status, 200);
    const { txRef } = await createCheckout();
    const duplicate = await v3('POST', '/v3/payments', { tx_ref: txRef, amount: 1, redirect_url: 'https://m.example', customer: { email: 'a@b.co' } });
    assert.equal(duplicate.status, 400);
    assert.equal((await v3('POST', '/v3/payments', { tx_ref: 'x', amount: -1, redirect_url: 'https://m.example', customer: { email: 'a@b.co' } })).status, 400);
  });

  test('API faults: 500, 503, 429 with Retry-After, delay, timeout; consumed after `times`', async () => {
    await control('POST', '/_sim/faults', { fault: 'http_500' });
    assert.equal((await v3('GET', '/v3/transactions/1/verify')).status, 500);
    assert.equal((await v3('GET', '/v3/transactions/1/verify')).status, 400, 'fault used up');
    await control('POST', '/_sim/faults', { fault: 'http_503', times: 2 });
    assert.equal((await v3('GET', '/v3/transactions/1/verify')).status, 503);
    assert.equal((await v3('GET', '/v3/transactions/1/verify')).status, 503);
    await control('POST', '/_sim/faults', { fault: 'http_429', value: 7 });
    const limited = await v3('GET', '/v3/transactions/1/verify');
    assert.equal(limited.status, 429);
    assert.equal(limited.headers.get('retry-after'), '7');
    await control('POST', '/_sim/faults', { fault: 'delay', value: 150 });
    const started = Date.now();
    await v3('GET', '/v3/transactions/1/verify');
    assert.ok(Date.now() - started >= 140);
    await control('POST', '/_sim/faults', { fault: 'timeout' });
    await assert.rejects(v3('GET', '/v3/transactions/1/verify', undefined, secretKey, AbortSignal.timeout(200)), /abort|timeout/i);
    // A POST is held too (its request 'close' fires once the body is read; the socket's does not).
    await control('POST', '/_sim/faults', { fault: 'timeout' });
    const heldSince = Date.now();
    await assert.rejects(v3('POST', '/v3/payments', { tx_ref: 'held', amount: 1, redirect_url: 'https://m.example', customer: { email: 'a@b.co' } }, secretKey, AbortSignal.timeout(300)), /abort|timeout/i);
    assert.ok(Date.now() - heldSince >= 280, 'held until the client gave up');
    await control('DELETE', '/_sim/faults');
  });

  test('faults scoped to one tx_ref leave others alone', async () => {
    const a = await createCheckout();
    const b = await createCheckout();
    await control('POST', '/_sim/faults', { fault: 'wrong_amount', tx_ref: a.txRef, times: 0 });
    await control('POST', '/_sim/faults', { fault: 'wrong_currency', tx_ref: b.txRef, times: 0 });
    await pay(a.link);
    await pay(b.link);
    const va = (await (await v3('GET', `/v3/transactions/verify_by_reference?tx_ref=${a.txRef}`)).json()) as any;
    const vb = (await (await v3('GET', `/v3/transactions/verify_by_reference?tx_ref=${b.txRef}`)).json()) as any;
    assert.equal(va.data.amount, 74.5);
    assert.equal(va.data.currency, 'NGN');
    assert.equal(vb.data.amount, 75.5);
    assert.equal(vb.data.currency, 'USD');
  });

  test('webhook faults: duplicates, out of order, bad signature, none at all', async () => {
    const dup = await createCheckout();
    await control('POST', '/_sim/faults', { fault: 'duplicate_webhook', tx_ref: dup.txRef, value: 3 });
    await pay(dup.link);
    await waitForWebhooks(3);
    assert.equal(new Set(received.map((r) => r.body)).size, 1);

    received.length = 0;
    const ooo = await createCheckout();
    await control('POST', '/_sim/faults', { fault: 'out_of_order', tx_ref: ooo.txRef });
    await pay(ooo.link);
    await waitForWebhooks(2);
    assert.deepEqual(received.map((r) => JSON.parse(r.body).data.status), ['successful', 'failed']);
    const latest = (await (await v3('GET', `/v3/transactions/verify_by_reference?tx_ref=${ooo.txRef}`)).json()) as any;
    assert.equal(latest.data.status, 'successful', 'by reference, the successful attempt wins');

    received.length = 0;
    const bad = await createCheckout();
    await control('POST', '/_sim/faults', { fault: 'bad_signature', tx_ref: bad.txRef });
    await pay(bad.link);
    await waitForWebhooks(1);
    assert.notEqual(received[0]!.headers['flutterwave-signature'], flutterwaveSignature(received[0]!.body, secretHash));
    assert.notEqual(received[0]!.headers['verif-hash'], secretHash);

    received.length = 0;
    const silent = await createCheckout();
    await control('POST', '/_sim/faults', { fault: 'no_webhook', tx_ref: silent.txRef });
    await pay(silent.link);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(received.length, 0);
  });

  test('signature header variants and the legacy flat payload', async () => {
    await control('PUT', '/_sim/config', { signatureHeaders: 'verif-hash', payloadShape: 'flat' });
    const { txRef, link } = await createCheckout();
    await pay(link, 'decline');
    await waitForWebhooks(1);
    const hook = received[0]!;
    assert.equal(hook.headers['flutterwave-signature'], undefined);
    assert.equal(hook.headers['verif-hash'], secretHash);
    const flat = JSON.parse(hook.body);
    assert.equal(flat.txRef, txRef);
    assert.equal(flat.status, 'failed');
    assert.equal(flat.event, undefined);
    assert.equal(typeof flat.customer.fullName, 'string');
  });

  test('control API validates its input and completes headlessly', async () => {
    assert.match((await control('POST', '/_sim/faults', { fault: 'meteor' })).error, /fault must be one of/);
    assert.match((await control('PUT', '/_sim/config', { payloadShape: 'xml' })).error, /payloadShape/);
    const { txRef } = await createCheckout();
    const tx = await control('POST', `/_sim/transactions/${txRef}/complete`, { status: 'successful' });
    assert.equal(tx.tx_ref, txRef);
    assert.equal(tx.status, 'successful');
    assert.match((await control('POST', `/_sim/transactions/${txRef}/complete`, { status: 'successful' })).error, /no open checkout/);
  });
});
