import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { randomBytes } from 'node:crypto';
import Stripe from 'stripe';
import { systemClock } from '../../clock.ts';
import { Secret } from '../../crypto/secret.ts';
import { createOutboundHttp } from '../../http/outbound.ts';
import { createLogger } from '../../log.ts';
import { startStripeSimulator } from '../../simulators/stripe/simulator.ts';
import type { CheckoutRequest } from '../types.ts';
import { createStripeProvider } from './flow.ts';
import {
  encodeForm,
  errorReason,
  normaliseSessionStatus,
  parseCheckoutSessionResponse,
  parseRetrieveSessionResponse,
  sessionToTransaction,
  STRIPE_API_VERSION,
  toCheckoutSessionParams,
} from './transformers.ts';
import { createStripeWebhookHandler, parseStripeWebhook, stripeSignature, verifyStripeSignature } from './webhook.ts';

// The test vector of shared/provider-wire-formats.md §7 (cross-checked there with stripe-node).
const VECTOR_SECRET = 'whsec_' + 'test_secret';
const VECTOR_T = 1700000000;
const VECTOR_BODY =
  '{"id":"evt_1","object":"event","type":"checkout.session.completed","data":{"object":{"id":"cs_test_1","object":"checkout.session"}}}';
const VECTOR_V1 = '6fe052aadac719d355682c79db650d0e21217938582a12e73ca8d7b57fe5353f';
const secrets = [{ mode: 'test' as const, secret: new Secret(VECTOR_SECRET) }];
const stripe = new Stripe('sk_test_' + 'unused', {
  telemetry: false,
  maxNetworkRetries: 0,
  host: '127.0.0.1',
  port: 9,
  protocol: 'http',
});
const randomSecret = () => `whsec_${randomBytes(24).toString('base64')}`;

const checkoutRequest = (overrides: Partial<CheckoutRequest> = {}): CheckoutRequest => ({
  paymentId: `pay_${randomBytes(8).toString('hex')}`,
  amountMinor: 7550,
  currency: 'USD',
  customer: { email: 'ada@example.com', name: 'Ada', phone: null },
  redirectUrl: 'https://merchant.example/back?order=1',
  description: 'Order #1 & more',
  merchantReference: 'order-1',
  expiresAt: Date.now() + 86_400_000,
  ...overrides,
});

describe('Stripe-Signature', () => {
  test('the published test vector: keyed with the whole whsec_ string', () => {
    assert.equal(stripeSignature(VECTOR_BODY, String(VECTOR_T), VECTOR_SECRET), VECTOR_V1);
    const header = { 'stripe-signature': `t=${VECTOR_T},v1=${VECTOR_V1}` };
    assert.deepEqual(verifyStripeSignature(Buffer.from(VECTOR_BODY), header, secrets, 1700000100), {
      ok: true,
      mode: 'test',
      scheme: 'stripe-signature-v1',
    });
  });

  test('tolerance as in stripe-node: refused only when more than 300 s old, never for being ahead', () => {
    const header = { 'stripe-signature': `t=${VECTOR_T},v1=${VECTOR_V1}` };
    const at = (now: number) => verifyStripeSignature(Buffer.from(VECTOR_BODY), header, secrets, now).ok;
    assert.equal(at(VECTOR_T + 300), true);
    assert.equal(at(VECTOR_T - 300), true);
    assert.equal(at(VECTOR_T + 301), false, 'stale');
    assert.equal(at(VECTOR_T - 301), true, "our clock behind Stripe's: accepted, as stripe-node does");
    const check = verifyStripeSignature(Buffer.from(VECTOR_BODY), header, secrets, VECTOR_T + 301);
    assert.match(check.ok ? '' : check.reason, /more than 300 s old/);
  });

  test('the official package decides the same at -301 s and +301 s (generateTestHeaderString, constructEvent)', () => {
    const stripe = new Stripe('sk_test_example');
    const secret = 'whsec_example_secret_for_tests';
    const payload = VECTOR_BODY;
    const now = Math.floor(Date.now() / 1000);
    for (const offsetSeconds of [-301, 301]) {
      const timestamp = now + offsetSeconds;
      const header = stripe.webhooks.generateTestHeaderString({ payload, secret, timestamp });
      let official: boolean;
      try {
        stripe.webhooks.constructEvent(payload, header, secret);
        official = true;
      } catch {
        official = false;
      }
      const ours = verifyStripeSignature(
        Buffer.from(payload),
        { 'stripe-signature': header },
        [{ mode: 'test', secret: new Secret(secret) }],
        now,
      ).ok;
      assert.equal(ours, official, `offset ${offsetSeconds} s: stripe-node says ${official}`);
    }
    // What the official package decides: a timestamp 301 s old is refused, 301 s ahead accepted.
    const old = stripe.webhooks.generateTestHeaderString({ payload, secret, timestamp: now - 301 });
    assert.throws(() => stripe.webhooks.constructEvent(payload, old, secret));
  });

  test('several v1 entries (a secret being rolled): any one may match; v0 alone is not enough', () => {
    const wrong = 'ab'.repeat(32);
    const body = Buffer.from(VECTOR_BODY);
    assert.equal(
      verifyStripeSignature(
        body,
        { 'stripe-signature': `t=${VECTOR_T},v1=${wrong},v1=${VECTOR_V1}` },
        secrets,
        VECTOR_T,
      ).ok,
      true,
    );
    assert.equal(
      verifyStripeSignature(
        body,
        { 'stripe-signature': `t=${VECTOR_T},v1=${VECTOR_V1},v1=${wrong},v0=${wrong}` },
        secrets,
        VECTOR_T,
      ).ok,
      true,
    );
    assert.equal(
      verifyStripeSignature(body, { 'stripe-signature': `t=${VECTOR_T},v1=${wrong},v1=${wrong}` }, secrets, VECTOR_T)
        .ok,
      false,
    );
    assert.equal(
      verifyStripeSignature(body, { 'stripe-signature': `t=${VECTOR_T},v0=${VECTOR_V1}` }, secrets, VECTOR_T).ok,
      false,
    );
  });

  test('the secret that matches decides the mode; whsec_ stripped or base64-decoded does not match', () => {
    const both = [
      { mode: 'test' as const, secret: new Secret(randomSecret()) },
      { mode: 'live' as const, secret: new Secret(VECTOR_SECRET) },
    ];
    assert.deepEqual(
      verifyStripeSignature(
        Buffer.from(VECTOR_BODY),
        { 'stripe-signature': `t=${VECTOR_T},v1=${VECTOR_V1}` },
        both,
        VECTOR_T,
      ),
      { ok: true, mode: 'live', scheme: 'stripe-signature-v1' },
    );
    // The Standard Webhooks reading of the secret is the classic mistake (lessons-from-peers.md).
    assert.notEqual(stripeSignature(VECTOR_BODY, String(VECTOR_T), 'test_secret'), VECTOR_V1);
  });

  test('tampered body, re-serialised JSON, missing or malformed header are refused', () => {
    const header = { 'stripe-signature': `t=${VECTOR_T},v1=${VECTOR_V1}` };
    assert.equal(
      verifyStripeSignature(Buffer.from(VECTOR_BODY.replace('evt_1', 'evt_2')), header, secrets, VECTOR_T).ok,
      false,
    );
    assert.equal(
      verifyStripeSignature(Buffer.from(JSON.stringify(JSON.parse(VECTOR_BODY), null, 1)), header, secrets, VECTOR_T)
        .ok,
      false,
    );
    for (const bad of [
      {},
      { 'stripe-signature': '' },
      { 'stripe-signature': `v1=${VECTOR_V1}` },
      { 'stripe-signature': `t=abc,v1=${VECTOR_V1}` },
      { 'stripe-signature': `t=${VECTOR_T}` },
      { 'stripe-signature': `t=${VECTOR_T},v1=zz` },
    ]) {
      assert.equal(
        verifyStripeSignature(Buffer.from(VECTOR_BODY), bad, secrets, VECTOR_T).ok,
        false,
        JSON.stringify(bad),
      );
    }
    // A different t than the one signed.
    assert.equal(
      verifyStripeSignature(
        Buffer.from(VECTOR_BODY),
        { 'stripe-signature': `t=${VECTOR_T + 1},v1=${VECTOR_V1}` },
        secrets,
        VECTOR_T,
      ).ok,
      false,
    );
  });

  test('cross-check: headers from stripe-node generateTestHeaderString pass our verifier', () => {
    for (let i = 0; i < 20; i++) {
      const secret = randomSecret();
      const payload = JSON.stringify({
        id: `evt_${i}`,
        object: 'event',
        note: randomBytes(16).toString('hex'),
        text: 'ünïcödé ✓',
      });
      const timestamp = 1_700_000_000 + i * 997;
      const header = stripe.webhooks.generateTestHeaderString({ payload, secret, timestamp });
      const check = verifyStripeSignature(
        Buffer.from(payload),
        { 'stripe-signature': header },
        [{ mode: 'test', secret: new Secret(secret) }],
        timestamp + 5,
      );
      assert.equal(check.ok, true, header);
    }
  });

  test('the handler reads the time from the injected clock', () => {
    const handler = createStripeWebhookHandler(secrets, { nowMs: () => (VECTOR_T + 100) * 1000 });
    assert.equal(handler.name, 'stripe');
    assert.equal(
      handler.verifySignature(Buffer.from(VECTOR_BODY), { 'stripe-signature': `t=${VECTOR_T},v1=${VECTOR_V1}` }).ok,
      true,
    );
    const late = createStripeWebhookHandler(secrets, { nowMs: () => (VECTOR_T + 301) * 1000 });
    assert.equal(
      late.verifySignature(Buffer.from(VECTOR_BODY), { 'stripe-signature': `t=${VECTOR_T},v1=${VECTOR_V1}` }).ok,
      false,
    );
  });
});

describe('Stripe webhook payloads', () => {
  const event = (type: string, object: Record<string, unknown>, id = 'evt_1A2b') =>
    Buffer.from(JSON.stringify({ id, object: 'event', type, data: { object } }));

  test('session events: our id from client_reference_id or metadata, the session id as hint', () => {
    assert.deepEqual(
      parseStripeWebhook(
        event('checkout.session.completed', {
          id: 'cs_test_a1',
          object: 'checkout.session',
          client_reference_id: 'pay_1',
          metadata: {},
        }),
      ),
      {
        ok: true,
        event: {
          dedupeKey: 'stripe:evt_1A2b',
          eventType: 'checkout.session.completed',
          paymentId: 'pay_1',
          providerTxId: 'cs_test_a1',
        },
      },
    );
    for (const type of [
      'checkout.session.expired',
      'checkout.session.async_payment_succeeded',
      'checkout.session.async_payment_failed',
    ]) {
      const parsed = parseStripeWebhook(
        event(type, {
          id: 'cs_test_a1',
          object: 'checkout.session',
          client_reference_id: null,
          metadata: { paywarden_payment_id: 'pay_2' },
        }),
      );
      assert.equal(parsed.ok && parsed.event.paymentId, 'pay_2', type);
    }
    const vector = parseStripeWebhook(Buffer.from(VECTOR_BODY));
    assert.deepEqual(vector, {
      ok: true,
      event: {
        dedupeKey: 'stripe:evt_1',
        eventType: 'checkout.session.completed',
        paymentId: undefined,
        providerTxId: 'cs_test_1',
      },
    });
  });

  test('payment_intent events: our id from metadata, the pi_ id as hint', () => {
    for (const type of ['payment_intent.succeeded', 'payment_intent.payment_failed']) {
      const parsed = parseStripeWebhook(
        event(type, { id: 'pi_3Xy', object: 'payment_intent', metadata: { paywarden_payment_id: 'pay_3' } }),
      );
      assert.deepEqual(parsed, {
        ok: true,
        event: { dedupeKey: 'stripe:evt_1A2b', eventType: type, paymentId: 'pay_3', providerTxId: 'pi_3Xy' },
      });
    }
  });

  test('other well-formed events are accepted but name no payment; junk is refused', () => {
    assert.deepEqual(
      parseStripeWebhook(
        event('charge.refunded', { id: 'ch_1', object: 'charge', metadata: { paywarden_payment_id: 'pay_4' } }),
      ),
      {
        ok: true,
        event: {
          dedupeKey: 'stripe:evt_1A2b',
          eventType: 'charge.refunded',
          paymentId: undefined,
          providerTxId: undefined,
        },
      },
    );
    const junk = [
      'not json',
      '[]',
      '{}',
      '{"id":"evt_1","object":"event","type":"checkout.session.completed"}',
      '{"id":"evt_1; drop","object":"event","type":"checkout.session.completed","data":{"object":{"id":"cs_1","object":"checkout.session"}}}',
      '{"id":"evt_1","object":"event","type":"checkout.session.completed","data":{"object":{"id":"pi_1","object":"payment_intent"}}}',
      '{"id":"evt_1","object":"event","type":"payment_intent.succeeded","data":{"object":{"id":"cs_1","object":"checkout.session"}}}',
      '{"id":"evt_1","object":"charge","type":"checkout.session.completed","data":{"object":{"id":"cs_1","object":"checkout.session"}}}',
    ];
    for (const body of junk) assert.equal(parseStripeWebhook(Buffer.from(body)).ok, false, body);
  });
});

describe('Stripe transformers', () => {
  test('Checkout Session form: bracket nesting, lowercase currency, integer minor units, our id three ways', () => {
    const nowMs = 1_700_000_000_000;
    const request = checkoutRequest({ paymentId: 'pay_x', expiresAt: nowMs + 3_600_000 });
    const body = encodeForm(toCheckoutSessionParams(request, nowMs));
    const pairs = [...new URLSearchParams(body)];
    assert.deepEqual(pairs, [
      ['mode', 'payment'],
      ['client_reference_id', 'pay_x'],
      ['success_url', 'https://merchant.example/back?order=1'],
      ['cancel_url', 'https://merchant.example/back?order=1'],
      ['customer_email', 'ada@example.com'],
      ['line_items[0][quantity]', '1'],
      ['line_items[0][price_data][currency]', 'usd'],
      ['line_items[0][price_data][unit_amount]', '7550'],
      ['line_items[0][price_data][product_data][name]', 'Order #1 & more'],
      ['metadata[paywarden_payment_id]', 'pay_x'],
      ['metadata[merchant_reference]', 'order-1'],
      ['payment_intent_data[metadata][paywarden_payment_id]', 'pay_x'],
      ['payment_intent_data[metadata][merchant_reference]', 'order-1'],
      // Our expiry (an hour ahead) as the session's.
      ['expires_at', String(1_700_000_000 + 3600)],
    ]);
    // Outside Stripe's 30 min to 24 h: the nearest bound, a minute inside it.
    const soon = toCheckoutSessionParams(checkoutRequest({ expiresAt: nowMs + 60_000 }), nowMs);
    assert.equal(soon.expires_at, 1_700_000_000 + 31 * 60);
    const late = toCheckoutSessionParams(checkoutRequest({ expiresAt: nowMs + 7 * 86_400_000 }), nowMs);
    assert.equal(late.expires_at, 1_700_000_000 + 86_400 - 60);
    assert.ok(body.includes('line_items[0][price_data][currency]=usd'), 'brackets stay literal on the wire');
    assert.ok(body.includes('[name]=Order%20%231%20%26%20more'), 'values are percent-encoded');
    assert.equal(toCheckoutSessionParams(checkoutRequest({ description: null })).line_items !== undefined, true);
    assert.throws(() => toCheckoutSessionParams(checkoutRequest({ amountMinor: 1.5 })));
  });

  test('cross-check: stripe-node sends the same pairs for the same parameters', async () => {
    let captured = '';
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        captured = Buffer.concat(chunks).toString('utf8');
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ id: 'cs_test_x', object: 'checkout.session' }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const client = new Stripe('sk_test_' + randomBytes(8).toString('hex'), {
        telemetry: false,
        maxNetworkRetries: 0,
        host: '127.0.0.1',
        port: (server.address() as { port: number }).port,
        protocol: 'http',
      });
      const params = toCheckoutSessionParams(checkoutRequest({ description: "Tea (Earl Grey) 'hot' *100%*" }));
      await client.checkout.sessions.create(params as unknown as Stripe.Checkout.SessionCreateParams);
      assert.deepEqual([...new URLSearchParams(captured)], [...new URLSearchParams(encodeForm(params))]);
    } finally {
      server.close();
    }
  });

  test('status table: paid succeeds; expired-unpaid and a failed delayed method fail; a settling one is in flight', () => {
    const read = (session: Record<string, unknown>) => normaliseSessionStatus(session);
    assert.deepEqual(read({ status: 'complete', payment_status: 'paid' }), { status: 'succeeded', inFlight: false });
    assert.deepEqual(read({ status: 'expired', payment_status: 'unpaid' }), { status: 'failed', inFlight: false });
    // checkout.session.async_payment_failed: complete, unpaid, the PaymentIntent back to requires_payment_method.
    for (const intent of ['requires_payment_method', 'canceled'])
      assert.deepEqual(
        read({
          status: 'complete',
          payment_status: 'unpaid',
          payment_intent: { object: 'payment_intent', status: intent },
        }),
        { status: 'failed', inFlight: false },
        intent,
      );
    // A bank debit still settling (or a PaymentIntent we could not read): pending, in flight.
    for (const payment_intent of [{ object: 'payment_intent', status: 'processing' }, 'pi_123', null])
      assert.deepEqual(read({ status: 'complete', payment_status: 'unpaid', payment_intent }), {
        status: 'pending',
        inFlight: true,
      });
    for (const pending of [
      { status: 'open', payment_status: 'unpaid' },
      // A declined card: the session stays open, its PaymentIntent wants another method. Not a failure.
      { status: 'open', payment_status: 'unpaid', payment_intent: { status: 'requires_payment_method' } },
      { status: 'complete', payment_status: 'no_payment_required' },
      { status: 'expired', payment_status: 'no_payment_required' },
      {},
      { payment_status: 'PAID' },
    ]) {
      assert.deepEqual(read(pending), { status: 'pending', inFlight: false }, JSON.stringify(pending));
    }
  });

  test('sessions read back: currency uppercased, amount_total as is, reference from client_reference_id', () => {
    const found = sessionToTransaction({
      id: 'cs_test_1',
      object: 'checkout.session',
      status: 'complete',
      payment_status: 'paid',
      amount_total: 7550,
      currency: 'usd',
      client_reference_id: 'pay_1',
    });
    assert.deepEqual(found, {
      kind: 'found',
      transaction: {
        status: 'succeeded',
        providerStatus: 'complete/paid',
        amountMinor: 7550,
        currency: 'USD',
        reference: 'pay_1',
        providerTxId: 'cs_test_1',
      },
    });
    const inexact = sessionToTransaction({
      id: 'cs_test_1',
      object: 'checkout.session',
      amount_total: 75.5,
      currency: 'usd',
      client_reference_id: 'pay_1',
    });
    assert.equal(inexact.kind === 'found' && inexact.transaction.amountMinor, undefined);
    assert.equal(
      sessionToTransaction({ id: 'cs_test_1', object: 'checkout.session', amount_total: 1, currency: 'usd' }).kind,
      'malformed',
    );
    assert.equal(sessionToTransaction({ id: 'pi_1', object: 'payment_intent' }).kind, 'malformed');
  });

  test('error envelopes: a short reason with type and code, never the provider message', () => {
    const envelope = JSON.stringify({
      error: {
        type: 'invalid_request_error',
        code: 'parameter_missing',
        message: 'Missing required param: secret customer text',
        param: 'line_items[0][price_data][currency]',
      },
    });
    const reason = errorReason(400, envelope);
    assert.equal(
      reason,
      'stripe refused the request: invalid_request_error/parameter_missing (param line_items[0][price_data][currency]), HTTP 400',
    );
    assert.ok(!reason.includes('secret customer text'));
    assert.deepEqual(parseCheckoutSessionResponse(400, envelope), { ok: false, reason });
    assert.equal(
      parseCheckoutSessionResponse(200, '{"id":"cs_test_1","object":"checkout.session","url":"javascript:alert(1)"}')
        .ok,
      false,
    );
    assert.equal(
      parseRetrieveSessionResponse(
        404,
        JSON.stringify({
          error: { type: 'invalid_request_error', code: 'resource_missing', message: 'No such checkout.session' },
        }),
      ).kind,
      'not_found',
    );
    assert.equal(
      parseRetrieveSessionResponse(
        401,
        JSON.stringify({ error: { type: 'invalid_request_error', message: 'Invalid API Key provided.' } }),
      ).kind,
      'rejected',
    );
    assert.equal(parseRetrieveSessionResponse(200, '<html>').kind, 'malformed');
    assert.equal(
      errorReason(400, JSON.stringify({ error: { type: '<script>', code: 'x y' } })),
      'stripe refused the request: unknown error, HTTP 400',
    );
  });
});

describe('Stripe adapter against the simulator', () => {
  const secretKey = `sk_test_${randomBytes(12).toString('hex')}`;
  let sim: Awaited<ReturnType<typeof startStripeSimulator>>;
  const http = createOutboundHttp({
    provider: 'stripe',
    limiter: undefined,
    clock: systemClock,
    logger: createLogger('silent'),
    defaultTimeoutMs: 2000,
  });
  const provider = () => createStripeProvider({ baseUrl: sim.url, secretKey: new Secret(secretKey), http });
  const control = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${sim.url}${path}`, {
      method,
      ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
    });
    return res.json() as Promise<any>;
  };

  before(async () => {
    sim = await startStripeSimulator({ secretKey, webhookSecret: randomSecret() });
  });
  after(() => sim.close());

  test('name, currencies, and the pinned Stripe-Version', () => {
    const p = provider();
    assert.equal(p.name, 'stripe');
    assert.deepEqual(p.currencies, ['USD', 'EUR', 'GBP', 'JPY', 'ISK', 'HUF', 'TWD', 'UGX']);
    assert.match(STRIPE_API_VERSION, /^\d{4}-\d{2}-\d{2}\.[a-z]+$/);
  });

  test('create, pay, verify by session id and by payment intent id; a retry gets the same session', async () => {
    const p = provider();
    // An expiry inside Stripe's bounds is sent as it is, so the retry's parameters are the same
    // bytes (a 24 h expiry is clamped to "now + 24 h", which moves with the second: real Stripe
    // would then answer idempotency_error, as the simulator does).
    const request = checkoutRequest({ expiresAt: Date.now() + 2 * 3_600_000 });
    const created = await p.createCheckout(request);
    assert.equal(created.kind, 'ok');
    if (created.kind !== 'ok') return;
    const sessionId = created.value.providerReference!;
    assert.match(sessionId, /^cs_test_/);
    assert.equal(created.value.checkoutUrl, `${sim.url}/c/pay/${sessionId}`);
    const again = await p.createCheckout(request);
    assert.deepEqual(again, created, 'the Idempotency-Key (our payment id) replays the first session');

    const open = await p.verifyPayment({ paymentId: request.paymentId, providerTxId: sessionId });
    assert.equal(open.kind === 'ok' && open.value.status, 'pending');

    const completed = await control('POST', `/_sim/transactions/${request.paymentId}/complete`, {
      status: 'successful',
    });
    assert.equal(completed.id, sessionId);
    const paid = await p.verifyPayment({ paymentId: request.paymentId, providerTxId: sessionId });
    assert.deepEqual(paid, {
      kind: 'ok',
      value: {
        status: 'succeeded',
        providerStatus: 'complete/paid/succeeded',
        amountMinor: 7550,
        currency: 'USD',
        reference: request.paymentId,
        providerTxId: sessionId,
      },
    });
    const byIntent = await p.verifyPayment({ paymentId: request.paymentId, providerTxId: completed.payment_intent });
    assert.deepEqual(byIntent, paid);
  });

  test('a declined card leaves the session open (pending); expiry and a failed bank debit fail; a settling one is in flight', async () => {
    const p = provider();
    const request = checkoutRequest({ currency: 'EUR' });
    const created = await p.createCheckout(request);
    const sessionId = created.kind === 'ok' ? created.value.providerReference! : '';
    await control('POST', `/_sim/transactions/${request.paymentId}/complete`, { status: 'failed' });
    const declined = await p.verifyPayment({ paymentId: request.paymentId, providerTxId: sessionId });
    assert.equal(declined.kind === 'ok' && declined.value.status, 'pending', 'the customer may try another card');
    assert.equal(declined.kind === 'ok' && declined.value.currency, 'EUR');
    const expire = await fetch(`${sim.url}/v1/checkout/sessions/${sessionId}/expire`, {
      method: 'POST',
      headers: { authorization: `Bearer ${secretKey}` },
    });
    assert.equal(expire.status, 200);
    const failed = await p.verifyPayment({ paymentId: request.paymentId, providerTxId: sessionId });
    assert.equal(failed.kind === 'ok' && failed.value.status, 'failed');

    const debit = checkoutRequest();
    const debitSession = await p.createCheckout(debit);
    const debitId = debitSession.kind === 'ok' ? debitSession.value.providerReference! : '';
    await control('POST', `/_sim/transactions/${debit.paymentId}/complete`, { status: 'processing' });
    const settling = await p.verifyPayment({ paymentId: debit.paymentId, providerTxId: debitId });
    assert.equal(settling.kind === 'ok' && settling.value.status, 'pending');
    assert.equal(settling.kind === 'ok' && settling.value.inFlight, true);
    assert.equal(settling.kind === 'ok' && settling.value.providerStatus, 'complete/unpaid/processing');
    await control('POST', `/_sim/transactions/${debit.paymentId}/complete`, { status: 'failed' });
    const bounced = await p.verifyPayment({ paymentId: debit.paymentId, providerTxId: debitId });
    assert.equal(bounced.kind === 'ok' && bounced.value.status, 'failed', 'async_payment_failed is a failure');
    assert.deepEqual(await p.verifyPayment({ paymentId: request.paymentId, providerTxId: null }), {
      kind: 'indefinite',
      reason: 'stripe verification needs the session id',
    });
    assert.deepEqual(await p.verifyPayment({ paymentId: request.paymentId, providerTxId: '12345' }), {
      kind: 'indefinite',
      reason: 'stripe verification needs the session id',
    });
    assert.deepEqual(await p.verifyPayment({ paymentId: request.paymentId, providerTxId: 'cs_test_doesnotexist' }), {
      kind: 'not_found',
    });
    assert.deepEqual(await p.verifyPayment({ paymentId: request.paymentId, providerTxId: 'pi_doesnotexist' }), {
      kind: 'not_found',
    });
  });

  test('faults: 5xx and timeouts are indefinite; a wrong key or bad parameters are rejected; wrong amounts surface', async () => {
    const p = provider();
    await control('POST', '/_sim/faults', { fault: 'http_503' });
    const unavailable = await p.createCheckout(checkoutRequest());
    assert.equal(unavailable.kind, 'indefinite');
    await control('POST', '/_sim/faults', { fault: 'timeout' });
    const slowHttp = createOutboundHttp({
      provider: 'stripe',
      limiter: undefined,
      clock: systemClock,
      logger: createLogger('silent'),
      defaultTimeoutMs: 200,
    });
    const timedOut = await createStripeProvider({
      baseUrl: sim.url,
      secretKey: new Secret(secretKey),
      http: slowHttp,
    }).createCheckout(checkoutRequest());
    assert.equal(timedOut.kind, 'indefinite');
    await control('DELETE', '/_sim/faults');

    const wrongKey = await createStripeProvider({
      baseUrl: sim.url,
      secretKey: new Secret('sk_test_wrong'),
      http,
    }).createCheckout(checkoutRequest());
    assert.equal(wrongKey.kind, 'rejected');
    // Below Stripe's minimum (the core checks first; the simulator refuses as Stripe does): the
    // refusal names our field and why, without Stripe's own text.
    const tooSmall = await p.createCheckout(checkoutRequest({ amountMinor: 49 }));
    assert.deepEqual(tooSmall, {
      kind: 'rejected',
      reason:
        'stripe refused the request: invalid_request_error/amount_too_small (param line_items[0][price_data][unit_amount]), HTTP 400',
      problem: { code: 'provider_refused_field', param: 'amount', message: "amount is below Stripe's minimum charge." },
    });
    assert.deepEqual(
      p.checkRequest?.({ amountMinor: 49, currency: 'USD', customer: { email: 'a@b.co', name: null, phone: null } }),
      {
        code: 'amount_below_minimum',
        param: 'amount',
        message: "Stripe's minimum charge in USD is 0.50 (amount 50).",
      },
    );
    // ISK: our 500 krónur are 50000 in Stripe's API, and read back as 500.
    const isk = checkoutRequest({ currency: 'ISK', amountMinor: 500 });
    const iskCreated = await p.createCheckout(isk);
    assert.equal(iskCreated.kind, 'ok');
    const iskSession = iskCreated.kind === 'ok' ? iskCreated.value.providerReference! : '';
    const iskDone = await control('POST', `/_sim/transactions/${isk.paymentId}/complete`, { status: 'successful' });
    assert.equal(iskDone.amount_total, 50_000, 'what Stripe was asked to charge');
    const iskPaid = await p.verifyPayment({ paymentId: isk.paymentId, providerTxId: iskSession });
    assert.equal(iskPaid.kind === 'ok' && iskPaid.value.amountMinor, 500);

    const request = checkoutRequest();
    const created = await p.createCheckout(request);
    const sessionId = created.kind === 'ok' ? created.value.providerReference! : '';
    await control('POST', `/_sim/transactions/${request.paymentId}/complete`, { status: 'successful' });
    await control('POST', '/_sim/faults', { fault: 'wrong_amount', tx_ref: request.paymentId });
    const short = await p.verifyPayment({ paymentId: request.paymentId, providerTxId: sessionId });
    assert.equal(short.kind === 'ok' && short.value.amountMinor, 7450);
    await control('POST', '/_sim/faults', { fault: 'wrong_currency', tx_ref: request.paymentId });
    const other = await p.verifyPayment({ paymentId: request.paymentId, providerTxId: sessionId });
    assert.equal(other.kind === 'ok' && other.value.currency, 'EUR');
  });
});
