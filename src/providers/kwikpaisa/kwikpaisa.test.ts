import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { manualClock, systemClock } from '../../clock.ts';
import { Secret } from '../../crypto/secret.ts';
import { createOutboundHttp } from '../../http/outbound.ts';
import { createLogger } from '../../log.ts';
import { startKwikPaisaSimulator } from '../../simulators/kwikpaisa/simulator.ts';
import type { CheckoutRequest } from '../types.ts';
import { createKwikPaisaProvider } from './flow.ts';
import { canonicalJson, escapeNonAscii, kwikPaisaSignature, signRequest } from './signing.ts';
import {
  normaliseOrderStatus,
  parseOrderCreateResponse,
  parseOrderStatusResponse,
  toOrderCreateBody,
} from './transformers.ts';
import { createKwikPaisaWebhookHandler, parseKwikPaisaWebhook, verifyKwikPaisaSignature } from './webhook.ts';

// The published test vector (shared/provider-wire-formats.md §7); the secret is assembled at run time.
const VECTOR_SECRET = 'sk_' + 'test_secret';
const VECTOR_TIMESTAMP = '1778659835';
const VECTOR_SIGNATURE = 'f8198a2e31ae7872ada3347ed2422d536a48700e1ca25ec501659ee171ed5382';
const VECTOR_NOW = Number(VECTOR_TIMESTAMP);

const checkout = (overrides: Partial<CheckoutRequest> = {}): CheckoutRequest => ({
  paymentId: `pay_${randomBytes(8).toString('hex')}`,
  amountMinor: 10500,
  currency: 'INR',
  customer: { email: 'ajay@example.com', name: 'Ajay', phone: '9876543210' },
  redirectUrl: 'https://merchant.example/return',
  description: 'Additional order info',
  merchantReference: 'order-1',
  expiresAt: Date.now() + 86_400_000,
  ...overrides,
});

describe('signing', () => {
  test('the published §7 vector: sorted body, signature, and signed request headers', () => {
    const body = { order_id: '123456', amount: '100' };
    assert.equal(canonicalJson(body, 'recursive'), '{"amount":"100","order_id":"123456"}');
    assert.equal(canonicalJson(body, 'top-level'), '{"amount":"100","order_id":"123456"}');
    assert.equal(kwikPaisaSignature(canonicalJson(body), VECTOR_TIMESTAMP, VECTOR_SECRET), VECTOR_SIGNATURE);
    const signed = signRequest(body, { apiKey: 'pk_' + 'test_key', secretKey: VECTOR_SECRET }, VECTOR_NOW * 1000 + 999);
    assert.equal(signed.body, '{"amount":"100","order_id":"123456"}');
    assert.equal(signed.headers['x-timestamp'], VECTOR_TIMESTAMP);
    assert.equal(signed.headers['x-signature'], VECTOR_SIGNATURE);
    assert.equal(signed.headers['x-api-key'], 'pk_test_key');
    assert.equal(signed.headers['content-type'], 'application/json');
  });

  test('recursive and top-level sorts differ on nested bodies; integer-like keys, arrays, slashes', () => {
    const nested = { b: { d: 1, c: [{ z: 1, y: 2 }] }, a: 'x/y' };
    assert.equal(canonicalJson(nested, 'recursive'), '{"a":"x/y","b":{"c":[{"y":2,"z":1}],"d":1}}');
    assert.equal(canonicalJson(nested, 'top-level'), '{"a":"x/y","b":{"d":1,"c":[{"z":1,"y":2}]}}');
    // JS objects list "9" and "10" numerically; a code-unit sort puts "10" first.
    assert.equal(canonicalJson({ b: 1, 10: 2, 9: 3 }), '{"10":2,"9":3,"b":1}');
    assert.equal(canonicalJson({ a: undefined, b: null, c: [undefined] }), '{"b":null,"c":[null]}');
    assert.equal(escapeNonAscii('{"n":"Zoë ₹"}'), '{"n":"Zo\\u00eb \\u20b9"}');
  });
});

describe('transformers', () => {
  test('order-create body: our payment id as order_id, the amount a JSON number as documented, both sorts sign the same bytes', () => {
    const request = checkout({ amountMinor: 10505 });
    const body = toOrderCreateBody(request);
    assert.equal(body.order_id, request.paymentId);
    // developers.kwikpaisa.com/v3-guide create-order: `order_amount` decimal, the example `105` (a number).
    assert.equal(body.order_amount, 105.05);
    assert.equal(JSON.stringify(toOrderCreateBody(checkout({ amountMinor: 10500 })).order_amount), '105');
    assert.equal(body.order_currency, 'INR');
    assert.equal(body.service_type, 'DIGITAL');
    assert.equal(body.return_url, 'https://merchant.example/return');
    assert.deepEqual(body.customer, { email: 'ajay@example.com', name: 'Ajay', phone: '9876543210' });
    assert.equal(canonicalJson(body, 'top-level'), canonicalJson(body, 'recursive'));
    assert.equal(toOrderCreateBody(checkout({ amountMinor: 1 })).order_amount, 0.01);
    assert.equal(toOrderCreateBody(checkout({ amountMinor: 999_999_999_999 })).order_amount, 9_999_999_999.99);
    const bare = toOrderCreateBody(
      checkout({ customer: { email: 'a@b.co', name: null, phone: null }, description: null }),
      'PHYSICAL_GOODS',
    );
    assert.deepEqual(bare.customer, { email: 'a@b.co' });
    assert.equal('order_note' in bare, false);
    assert.equal(bare.service_type, 'PHYSICAL_GOODS');
  });

  test('status table: only explicit success or failure leaves pending', () => {
    for (const s of ['PAID', 'paid', 'SUCCESS']) assert.equal(normaliseOrderStatus(s), 'succeeded', s);
    for (const s of ['FAILED', 'CANCELLED', 'EXPIRED', 'expired']) assert.equal(normaliseOrderStatus(s), 'failed', s);
    for (const s of ['UN_PAID', 'PENDING', 'PROCESSING', 'PAID-ish', '', null, 42, undefined])
      assert.equal(normaliseOrderStatus(s), 'pending', String(s));
  });

  test('status answers: the documented example, payout-style envelope, not found, junk', () => {
    const doc =
      '{"code":"200","status":"success","message":"Order status fetched successfully.","return_data":{"kwikX_order_id":"kp_40dec464-7155-43a3-855d-c95c5ab1be71","order_id":6116229263036,"order_amount":"105.00","currency":"INR","order_status":"PAID","payment_method":"UPI","transaction_id":"TXN938482920","created_at":"13-05-2026 08:34 AM","paid_at":"13-05-2026 08:37 AM"}}';
    assert.deepEqual(parseOrderStatusResponse(200, doc), {
      kind: 'found',
      transaction: {
        status: 'succeeded',
        providerStatus: 'PAID',
        amountMinor: 10500,
        currency: 'INR',
        reference: '6116229263036',
        providerTxId: 'kp_40dec464-7155-43a3-855d-c95c5ab1be71',
      },
    });
    const unpaid = parseOrderStatusResponse(
      200,
      '{"status":true,"code":200,"return_data":{"order_id":"pay_1","order_amount":105,"currency":"INR","order_status":"UN_PAID"}}',
    );
    assert.equal(unpaid.kind === 'found' && unpaid.transaction.status, 'pending');
    assert.equal(unpaid.kind === 'found' && unpaid.transaction.amountMinor, 10500);
    assert.equal(unpaid.kind === 'found' && unpaid.transaction.providerTxId, 'pay_1');
    const inexact = parseOrderStatusResponse(200, doc.replace('"105.00"', '"105.005"'));
    assert.equal(
      inexact.kind === 'found' && inexact.transaction.amountMinor,
      undefined,
      'a fraction of a paisa is no exact amount',
    );
    assert.equal(
      parseOrderStatusResponse(404, '{"status":false,"code":404,"message":"Transaction not found."}').kind,
      'not_found',
    );
    assert.equal(
      parseOrderStatusResponse(200, '{"status":false,"code":"404","message":"not found"}').kind,
      'not_found',
    );
    assert.equal(
      parseOrderStatusResponse(401, '{"status":false,"code":401,"message":"Invalid signature."}').kind,
      'malformed',
    );
    assert.equal(parseOrderStatusResponse(200, '<html>').kind, 'malformed');
    assert.equal(
      parseOrderStatusResponse(200, '{"code":"200","status":"success","return_data":{"order_status":"PAID"}}').kind,
      'malformed',
      'no order_id',
    );
    assert.equal(
      parseOrderStatusResponse(
        200,
        '{"code":"500","status":"success","return_data":{"order_id":"x","order_status":"PAID"}}',
      ).kind,
      'malformed',
    );
  });

  test('create answers: payment_link in return_data (and tolerated variants), or a rejection reason', () => {
    assert.deepEqual(
      parseOrderCreateResponse(
        200,
        '{"code":"200","status":"success","return_data":{"kwikX_order_id":"kp_1","order_status":"UN_PAID","payment_link":"https://pay.example/x"}}',
      ),
      { ok: true, link: 'https://pay.example/x', kwikxOrderId: 'kp_1' },
    );
    assert.deepEqual(
      parseOrderCreateResponse(201, '{"status":true,"code":201,"data":{"payment_url":"https://pay.example/y"}}'),
      { ok: true, link: 'https://pay.example/y', kwikxOrderId: undefined },
    );
    assert.equal(
      parseOrderCreateResponse(
        200,
        '{"code":"200","status":"success","return_data":{"payment_link":"javascript:alert(1)"}}',
      ).ok,
      false,
    );
    assert.deepEqual(
      parseOrderCreateResponse(422, '{"status":false,"code":422,"message":"The customer.phone field is required."}'),
      { ok: false, reason: 'The customer.phone field is required.' },
    );
    assert.equal(parseOrderCreateResponse(200, 'nope').ok, false);
  });
});

describe('webhooks', () => {
  const secrets = [{ mode: 'test' as const, secretKey: new Secret(VECTOR_SECRET) }];
  const body =
    '{"data":{"amount":"105.00","currency":"INR","order_id":"6116229263036","status":"PAID"},"event":"payment.success"}';
  const sign = (payload: string, ts: string, secret = VECTOR_SECRET) => ({
    'x-signature': kwikPaisaSignature(payload, ts, secret),
    'x-timestamp': ts,
  });

  test('the §7 vector as a delivery; both freshness directions at 300 s', () => {
    const vectorBody = Buffer.from('{"order_id":"123456","amount":"100"}');
    const headers = { 'x-signature': VECTOR_SIGNATURE, 'x-timestamp': VECTOR_TIMESTAMP };
    assert.deepEqual(verifyKwikPaisaSignature(vectorBody, headers, secrets, VECTOR_NOW), {
      ok: true,
      mode: 'test',
      scheme: 'x-signature/recursive',
    });
    assert.equal(verifyKwikPaisaSignature(vectorBody, headers, secrets, VECTOR_NOW + 300).ok, true);
    assert.equal(verifyKwikPaisaSignature(vectorBody, headers, secrets, VECTOR_NOW - 300).ok, true);
    const stale = verifyKwikPaisaSignature(vectorBody, headers, secrets, VECTOR_NOW + 301);
    assert.equal(stale.ok, false);
    assert.match(!stale.ok ? stale.reason : '', /window/);
    // Correctly signed, only late: marked so the ingest path does not count it as an attack.
    assert.equal(!stale.ok && stale.late, true);
    const forgedLate = verifyKwikPaisaSignature(
      vectorBody,
      { ...headers, 'x-signature': 'ab'.repeat(32) },
      secrets,
      VECTOR_NOW + 301,
    );
    assert.equal(forgedLate.ok, false);
    assert.equal(!forgedLate.ok && forgedLate.late, undefined, 'a wrong signature is never just late');
    assert.equal(verifyKwikPaisaSignature(vectorBody, headers, secrets, VECTOR_NOW - 301).ok, false, 'from the future');
    assert.equal(
      verifyKwikPaisaSignature(
        vectorBody,
        { ...headers, 'x-signature': VECTOR_SIGNATURE.toUpperCase() },
        secrets,
        VECTOR_NOW,
      ).ok,
      true,
    );
  });

  test('every documented signing reading is accepted: raw bytes, recursive sort, top-level sort, \\u escapes', () => {
    const ts = String(VECTOR_NOW);
    const raw = Buffer.from(
      '{"event":"payment.success","data":{"status":"PAID","order_id":"p_1","amount":"1.00","currency":"INR","customer":{"name":"Zoë","email":"z@e.x"}}}',
    );
    const parsed = JSON.parse(raw.toString('utf8'));
    const cases: Array<[string, string]> = [
      [raw.toString('utf8'), 'raw'],
      [canonicalJson(parsed, 'recursive'), 'recursive'],
      [canonicalJson(parsed, 'top-level'), 'top-level'],
      [escapeNonAscii(canonicalJson(parsed, 'recursive')), 'recursive-ascii'],
      [escapeNonAscii(canonicalJson(parsed, 'top-level')), 'top-level-ascii'],
    ];
    for (const [payload, variant] of cases) {
      assert.deepEqual(
        verifyKwikPaisaSignature(raw, sign(payload, ts), secrets, VECTOR_NOW),
        { ok: true, mode: 'test', scheme: `x-signature/${variant}` },
        variant,
      );
    }
    // Whitespace-formatted JSON is not one of the readings.
    assert.equal(
      verifyKwikPaisaSignature(raw, sign(JSON.stringify(parsed, null, 1), ts), secrets, VECTOR_NOW).ok,
      false,
    );
  });

  test('tampered body or timestamp, missing or malformed headers, wrong secret: refused; the matching secret decides the mode', () => {
    const ts = String(VECTOR_NOW);
    const headers = sign(body, ts);
    assert.equal(
      verifyKwikPaisaSignature(Buffer.from(body.replace('105.00', '106.00')), headers, secrets, VECTOR_NOW).ok,
      false,
    );
    assert.equal(
      verifyKwikPaisaSignature(
        Buffer.from(body),
        { ...headers, 'x-timestamp': String(VECTOR_NOW + 1) },
        secrets,
        VECTOR_NOW,
      ).ok,
      false,
    );
    assert.equal(
      verifyKwikPaisaSignature(Buffer.from(body), { 'x-signature': headers['x-signature'] }, secrets, VECTOR_NOW).ok,
      false,
    );
    assert.equal(verifyKwikPaisaSignature(Buffer.from(body), { 'x-timestamp': ts }, secrets, VECTOR_NOW).ok, false);
    assert.equal(
      verifyKwikPaisaSignature(Buffer.from(body), { ...headers, 'x-timestamp': '17786598.35' }, secrets, VECTOR_NOW).ok,
      false,
    );
    assert.equal(
      verifyKwikPaisaSignature(Buffer.from(body), { ...headers, 'x-signature': 'zz' }, secrets, VECTOR_NOW).ok,
      false,
    );
    assert.equal(
      verifyKwikPaisaSignature(Buffer.from(body), sign(body, ts, 'another-secret'), secrets, VECTOR_NOW).ok,
      false,
    );
    const both = [
      { mode: 'test' as const, secretKey: new Secret('another-secret') },
      { mode: 'live' as const, secretKey: new Secret(VECTOR_SECRET) },
    ];
    assert.deepEqual(verifyKwikPaisaSignature(Buffer.from(body), headers, both, VECTOR_NOW), {
      ok: true,
      mode: 'live',
      scheme: 'x-signature/raw',
    });
  });

  test('handler: injected clock, dedupe key from X-TIMESTAMP (replay repeats it, a later event does not)', () => {
    const clock = manualClock(VECTOR_NOW * 1000);
    const handler = createKwikPaisaWebhookHandler(secrets, clock);
    assert.equal(handler.name, 'kwikpaisa');
    const deliver = (ts: string) => {
      const raw = Buffer.from(body);
      const headers = sign(body, ts);
      const check = handler.verifySignature(raw, headers);
      return { check, parsed: handler.parse(raw, headers) };
    };
    const first = deliver(String(VECTOR_NOW));
    assert.equal(first.check.ok, true);
    assert.deepEqual(first.parsed, {
      ok: true,
      event: {
        dedupeKey: `kwikpaisa:6116229263036:payment.success:${VECTOR_NOW}`,
        eventType: 'payment.success',
        paymentId: '6116229263036',
        providerTxId: undefined,
      },
    });
    clock.advance(120_000);
    const replay = deliver(String(VECTOR_NOW));
    assert.equal(replay.check.ok, true, 'inside the window the signature holds');
    assert.equal(
      replay.parsed.ok && replay.parsed.event.dedupeKey,
      first.parsed.ok && first.parsed.event.dedupeKey,
      'so the dedupe store must catch it',
    );
    const later = deliver(String(VECTOR_NOW + 120));
    assert.notEqual(
      later.parsed.ok && later.parsed.event.dedupeKey,
      first.parsed.ok && first.parsed.event.dedupeKey,
      'a later genuine event is new',
    );
    clock.advance(200_000);
    assert.equal(
      handler.verifySignature(Buffer.from(body), sign(body, String(VECTOR_NOW))).ok,
      false,
      'the replay is stale now',
    );
    // A stored body parsed again later (no headers) still names the payment.
    const reparsed = handler.parse(Buffer.from(body));
    assert.equal(reparsed.ok && reparsed.event.paymentId, '6116229263036');
    assert.equal(reparsed.ok && reparsed.event.dedupeKey, 'kwikpaisa:6116229263036:payment.success:no-timestamp');
  });

  test('payloads: payment events name the order, payout events are recognised but not about payments, junk is refused', () => {
    const failed = parseKwikPaisaWebhook(
      Buffer.from('{"event":"payment.failed","data":{"order_id":6116229263036,"status":"FAILED"}}'),
      '1',
    );
    assert.deepEqual(failed, {
      ok: true,
      event: {
        dedupeKey: 'kwikpaisa:6116229263036:payment.failed:1',
        eventType: 'payment.failed',
        paymentId: '6116229263036',
        providerTxId: undefined,
      },
    });
    for (const event of ['payment.processing', 'payment.expired']) {
      const parsed = parseKwikPaisaWebhook(Buffer.from(`{"event":"${event}","data":{"order_id":"pay_9"}}`), '5');
      assert.equal(parsed.ok && parsed.event.paymentId, 'pay_9');
    }
    for (const event of ['payout.success', 'payout.failed', 'payout.processing', 'payout.reversed']) {
      const parsed = parseKwikPaisaWebhook(
        Buffer.from(`{"event":"${event}","data":{"payout_order_id":"177s8761897","status":"X"}}`),
        '7',
      );
      assert.deepEqual(parsed, {
        ok: true,
        event: {
          dedupeKey: `kwikpaisa:177s8761897:${event}:7`,
          eventType: event,
          paymentId: undefined,
          providerTxId: undefined,
          transfer: { reference: '177s8761897', providerTransferId: undefined, providerStatus: 'X' },
        },
      });
    }
    for (const junk of [
      'not json',
      '[]',
      '{"event":"payment.success"}',
      '{"event":"payment.success","data":{}}',
      '{"event":"payment.success","data":{"order_id":"1; drop table"}}',
      '{"event":"payout.success","data":{}}',
    ]) {
      assert.equal(parseKwikPaisaWebhook(Buffer.from(junk), '1').ok, false, junk);
    }
    // Signed events we do not act on are acknowledged (a refusal only brings retries).
    for (const unacted of [
      '{}',
      '{"event":"refund.done","data":{"order_id":"1"}}',
      '{"event":"settlement.x","data":[]}',
    ]) {
      const parsed = parseKwikPaisaWebhook(Buffer.from(unacted), '1');
      assert.ok(parsed.ok, unacted);
      assert.equal(parsed.event.paymentId, undefined, unacted);
    }
  });
});

describe('provider against the simulator (real HTTP)', () => {
  const apiKey = `pk_test_${randomBytes(8).toString('hex')}`;
  const secretKey = `sk_test_${randomBytes(16).toString('hex')}`;
  let sim: Awaited<ReturnType<typeof startKwikPaisaSimulator>>;
  const http = createOutboundHttp({
    provider: 'kwikpaisa',
    limiter: undefined,
    clock: systemClock,
    logger: createLogger('silent'),
    defaultTimeoutMs: 2000,
  });
  const provider = () =>
    createKwikPaisaProvider({
      baseUrl: `${sim.url}/`,
      apiKey: new Secret(apiKey),
      secretKey: new Secret(secretKey),
      http,
      clock: systemClock,
    });

  before(async () => {
    sim = await startKwikPaisaSimulator({ apiKey, secretKey });
  });
  after(() => sim.close());
  const control = async (method: string, path: string, body?: unknown) =>
    (
      await fetch(`${sim.url}${path}`, {
        method,
        ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
      })
    ).json() as Promise<any>;

  test('create, pay on the hosted page, verify; the simulator accepts both sort variants of our signature', async () => {
    const kp = provider();
    assert.equal(kp.name, 'kwikpaisa');
    assert.deepEqual(kp.currencies, ['INR']);
    for (const sort of ['recursive', 'top-level'] as const) {
      await control('PUT', '/_sim/config', { requestSignatureSort: sort });
      const request = checkout();
      const created = await kp.createCheckout(request);
      assert.equal(created.kind, 'ok', JSON.stringify(created));
      if (created.kind !== 'ok') return;
      assert.match(created.value.checkoutUrl, /^http:\/\/127\.0\.0\.1:\d+\/checkout\/[0-9a-f]+$/);
      assert.match(created.value.providerReference ?? '', /^kp_/);
      const before = await kp.verifyPayment({ paymentId: request.paymentId, providerTxId: null });
      assert.equal(before.kind === 'ok' && before.value.status, 'pending');
      assert.equal(before.kind === 'ok' && before.value.providerStatus, 'UN_PAID');
      const paid = await fetch(`${created.value.checkoutUrl}/pay`, { method: 'POST', redirect: 'manual' });
      assert.equal(paid.status, 302);
      const after = await kp.verifyPayment({
        paymentId: request.paymentId,
        providerTxId: created.value.providerReference ?? null,
      });
      assert.deepEqual(after, {
        kind: 'ok',
        value: {
          status: 'succeeded',
          providerStatus: 'PAID',
          amountMinor: 10500,
          currency: 'INR',
          reference: request.paymentId,
          providerTxId: created.value.providerReference,
        },
      });
    }
    await control('PUT', '/_sim/config', { requestSignatureSort: 'any' });
  });

  test('declined, not found, rejected, wrong credentials, faults as indefinite outcomes', async () => {
    const kp = provider();
    const request = checkout();
    const created = await kp.createCheckout(request);
    assert.equal(created.kind, 'ok');
    await control('POST', `/_sim/transactions/${request.paymentId}/complete`, { status: 'FAILED' });
    const declined = await kp.verifyPayment({ paymentId: request.paymentId, providerTxId: null });
    assert.equal(declined.kind === 'ok' && declined.value.status, 'failed');
    assert.deepEqual(await kp.verifyPayment({ paymentId: 'pay_unknown', providerTxId: null }), { kind: 'not_found' });
    // §4.5's 409: the order id is held already; the core asks the order's status (checkout-creation.ts).
    const duplicate = await kp.createCheckout(request);
    assert.equal(duplicate.kind, 'reference_exists');
    // Our API refuses this before calling (checkRequest); the adapter alone still names the field.
    const noPhone = await kp.createCheckout(checkout({ customer: { email: 'a@b.co', name: 'A', phone: null } }));
    assert.deepEqual(noPhone, {
      kind: 'rejected',
      reason: 'The customer.phone field is required.',
      problem: {
        code: 'provider_refused_field',
        param: 'customer.phone',
        message: 'customer.phone is required by KwikPaisa.',
      },
    });
    assert.deepEqual(
      kp.checkRequest?.({ amountMinor: 100, currency: 'INR', customer: { email: 'a@b.co', name: 'A', phone: null } }),
      {
        code: 'provider_field_required',
        param: 'customer.phone',
        message: 'KwikPaisa requires customer.phone for every payment; send it with the payment.',
      },
    );
    assert.equal(
      kp.checkRequest?.({
        amountMinor: 100,
        currency: 'INR',
        customer: { email: 'a@b.co', name: 'A', phone: '+91 98' },
      }),
      undefined,
    );
    assert.equal((await kp.createCheckout(checkout({ currency: 'NGN' }))).kind, 'rejected');
    const wrongKey = createKwikPaisaProvider({
      baseUrl: sim.url,
      apiKey: new Secret(apiKey),
      secretKey: new Secret('sk_test_wrong'),
      http,
      clock: systemClock,
    });
    assert.deepEqual(await wrongKey.createCheckout(checkout()), { kind: 'rejected', reason: 'Invalid signature.' });
    const skewed = createKwikPaisaProvider({
      baseUrl: sim.url,
      apiKey: new Secret(apiKey),
      secretKey: new Secret(secretKey),
      http,
      clock: { nowMs: () => Date.now() - 301_000 },
    });
    assert.equal((await skewed.createCheckout(checkout())).kind, 'rejected', 'a stale X-TIMESTAMP is refused');
    await control('POST', '/_sim/faults', { fault: 'http_503' });
    assert.equal((await kp.verifyPayment({ paymentId: request.paymentId, providerTxId: null })).kind, 'indefinite');
    await control('POST', '/_sim/faults', { fault: 'timeout' });
    assert.equal((await kp.verifyPayment({ paymentId: request.paymentId, providerTxId: null })).kind, 'indefinite');
    await control('DELETE', '/_sim/faults');
    await control('POST', '/_sim/faults', { fault: 'wrong_amount', order_id: request.paymentId, value: 1 });
    const wrong = await kp.verifyPayment({ paymentId: request.paymentId, providerTxId: null });
    assert.equal(wrong.kind === 'ok' && wrong.value.amountMinor, 10400);
  });
});
