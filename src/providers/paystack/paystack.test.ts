import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Secret } from '../../crypto/secret.ts';
import { compareWithPayment } from '../../payments/verification.ts';
import type { HttpClient, HttpOutcome } from '../../http/outbound.ts';
import type { CheckoutRequest } from '../types.ts';
import { createPaystackProvider } from './flow.ts';
import {
  paystackRequestProblem,
  fromPaystackReference,
  normaliseTransactionStatus,
  parseInitializeResponse,
  parseVerifyResponse,
  toInitializeBody,
  toPaystackReference,
} from './transformers.ts';
import {
  createPaystackWebhookHandler,
  isPaystackSourceIp,
  parsePaystackWebhook,
  paystackSignature,
  paystackSourceIpAllowed,
  verifyPaystackSignature,
} from './webhook.ts';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');

// The published test vector (shared/provider-wire-formats.md §7). The key is assembled at run
// time so that no secret-looking literal sits in the source.
const VECTOR_KEY = 'sk_' + 'test_secret';
const VECTOR_BODY =
  '{"event":"charge.success","data":{"reference":"ref_123","amount":500000,"currency":"NGN","status":"success"}}';
const VECTOR_SIGNATURE =
  '3ba2ebb7a8afeabfd032c0889429b32c67a516a1648a039ec1c0d5b74d21657fb478363cb07c564f3756eee7e9a547dde5ceeb561ea80c1c5a5430f30b24d7ea';
const keys = [{ mode: 'test' as const, secretKey: new Secret(VECTOR_KEY) }];
const sig = (value: string) => ({ 'x-paystack-signature': value });

test('x-paystack-signature: the published test vector', () => {
  assert.equal(paystackSignature(VECTOR_BODY, VECTOR_KEY), VECTOR_SIGNATURE);
  assert.deepEqual(verifyPaystackSignature(Buffer.from(VECTOR_BODY), sig(VECTOR_SIGNATURE), keys), {
    ok: true,
    mode: 'test',
    scheme: 'x-paystack-signature',
  });
  // Hex case does not change the bytes; an array header (repeated) uses the first value.
  assert.equal(verifyPaystackSignature(Buffer.from(VECTOR_BODY), sig(VECTOR_SIGNATURE.toUpperCase()), keys).ok, true);
  assert.equal(
    verifyPaystackSignature(Buffer.from(VECTOR_BODY), { 'x-paystack-signature': [VECTOR_SIGNATURE] }, keys).ok,
    true,
  );
});

test('signatures refused: tampered body, re-serialised body, wrong key, missing, truncated, junk', () => {
  const refused = (body: string, headers: Record<string, string | string[] | undefined>, k = keys) =>
    assert.equal(verifyPaystackSignature(Buffer.from(body), headers, k).ok, false);
  refused(VECTOR_BODY.replace('500000', '500001'), sig(VECTOR_SIGNATURE));
  refused(JSON.stringify(JSON.parse(VECTOR_BODY), null, 1), sig(VECTOR_SIGNATURE));
  refused(VECTOR_BODY, sig(paystackSignature(VECTOR_BODY, 'sk_' + 'test_other')));
  refused(VECTOR_BODY, {});
  refused(VECTOR_BODY, sig(''));
  refused(VECTOR_BODY, sig(VECTOR_SIGNATURE.slice(0, 64)));
  refused(VECTOR_BODY, sig(`${VECTOR_SIGNATURE}00`));
  refused(VECTOR_BODY, sig('z'.repeat(128)));
  // HMAC-SHA256 of the same body (another provider's recipe) is not accepted.
  refused(VECTOR_BODY, sig(Buffer.alloc(32).toString('hex')));
  // The secret key of another header name is not read.
  refused(VECTOR_BODY, { 'x-paystack-signatures': VECTOR_SIGNATURE });
  refused(VECTOR_BODY, sig(VECTOR_SIGNATURE), []);
  const check = verifyPaystackSignature(Buffer.from(VECTOR_BODY), {}, keys);
  assert.ok(!check.ok && /missing/.test(check.reason));
});

test('the secret key that matches decides the mode', () => {
  const both = [
    { mode: 'test' as const, secretKey: new Secret(`sk_test_${randomBytes(16).toString('hex')}`) },
    { mode: 'live' as const, secretKey: new Secret(VECTOR_KEY) },
  ];
  assert.deepEqual(verifyPaystackSignature(Buffer.from(VECTOR_BODY), sig(VECTOR_SIGNATURE), both), {
    ok: true,
    mode: 'live',
    scheme: 'x-paystack-signature',
  });
  const handler = createPaystackWebhookHandler(both);
  assert.equal(handler.name, 'paystack');
  assert.deepEqual(handler.verifySignature(Buffer.from(VECTOR_BODY), sig(VECTOR_SIGNATURE)), {
    ok: true,
    mode: 'live',
    scheme: 'x-paystack-signature',
  });
});

test('charge.success: our payment id from the reference, the transaction id, the dedupe key', () => {
  assert.deepEqual(parsePaystackWebhook(Buffer.from(fixture('webhook-charge-success.json'))), {
    ok: true,
    event: {
      dedupeKey: 'paystack:302961:charge.success',
      eventType: 'charge.success',
      paymentId: 'pay_0123456789abcdefghijkl',
      providerTxId: '302961',
    },
  });
  // A reference that is not in our form is passed unchanged (it names no payment of ours).
  const foreign = parsePaystackWebhook(
    Buffer.from('{"event":"charge.success","data":{"id":1,"reference":"qTPrJoy9Bx","status":"success"}}'),
  );
  assert.equal(foreign.ok && foreign.event.paymentId, 'qTPrJoy9Bx');
  // The §7 vector body has no data.id: there is nothing to deduplicate on, so it is refused.
  assert.equal(parsePaystackWebhook(Buffer.from(VECTOR_BODY)).ok, false);
});

test('transfer and refund events are recognised but are not about payments; transfers carry a payout hint', () => {
  assert.deepEqual(parsePaystackWebhook(Buffer.from(fixture('webhook-transfer-success.json'))), {
    ok: true,
    event: {
      dedupeKey: 'paystack:860703114:transfer.success',
      eventType: 'transfer.success',
      paymentId: undefined,
      providerTxId: '860703114',
      transfer: {
        reference: 'acv_9ee55786-2323-4760-98e2-6380c9cb3f68',
        providerTransferId: 'TRF_v5tip3zx8nna9o78',
        providerStatus: 'transfer.success',
      },
    },
  });
  for (const event of ['transfer.failed', 'transfer.reversed']) {
    const parsed = parsePaystackWebhook(
      Buffer.from(JSON.stringify({ event, data: { id: 860703114, status: event.split('.')[1], reference: 'acv_x' } })),
    );
    assert.equal(parsed.ok && parsed.event.dedupeKey, `paystack:860703114:${event}`);
    assert.equal(parsed.ok && parsed.event.paymentId, undefined);
  }
  assert.deepEqual(parsePaystackWebhook(Buffer.from(fixture('webhook-refund-processed.json'))), {
    ok: true,
    event: {
      dedupeKey: 'paystack:132013318360:refund.processed',
      eventType: 'refund.processed',
      paymentId: undefined,
      providerTxId: undefined,
    },
  });
  for (const event of ['refund.pending', 'refund.processing', 'refund.failed']) {
    const parsed = parsePaystackWebhook(
      Buffer.from(
        JSON.stringify({ event, data: { refund_reference: 'rf-1', transaction_reference: 'pay-abc', amount: 5000 } }),
      ),
    );
    assert.equal(parsed.ok && parsed.event.paymentId, undefined, event);
  }
  const dispute = parsePaystackWebhook(Buffer.from('{"event":"charge.dispute.create","data":{"id":77}}'));
  assert.equal(dispute.ok && dispute.event.paymentId, undefined);
});

test('official samples of events we do not act on are acknowledged, never refused (Paystack retries a 400 for 72 h)', () => {
  // PaystackOSS/doc-code-snippets dist/doc/payments/webhooks/events.js: refund.pending and
  // refund.processing have refund_reference null and no data.id; expiring_cards has an array data.
  for (const [file, eventType] of [
    ['webhook-refund-pending.json', 'refund.pending'],
    ['webhook-refund-processing.json', 'refund.processing'],
    ['webhook-subscription-expiring-cards.json', 'subscription.expiring_cards'],
  ] as const) {
    const raw = Buffer.from(fixture(file));
    const parsed = parsePaystackWebhook(raw);
    assert.ok(parsed.ok, file);
    assert.equal(parsed.event.eventType, eventType);
    assert.equal(parsed.event.paymentId, undefined, 'about no payment of ours: the job marks it ignored');
    assert.match(parsed.event.dedupeKey, new RegExp(`^paystack:sha256-[0-9a-f]{32}:${eventType.replace('.', '\\.')}$`));
    const again = parsePaystackWebhook(raw);
    assert.equal(again.ok && again.event.dedupeKey, parsed.event.dedupeKey, 'a redelivery deduplicates');
  }
  // pending and processing of the same refund are different bodies, so different events.
  const pending = parsePaystackWebhook(Buffer.from(fixture('webhook-refund-pending.json')));
  const processing = parsePaystackWebhook(Buffer.from(fixture('webhook-refund-processing.json')));
  assert.notEqual(pending.ok && pending.event.dedupeKey, processing.ok && processing.event.dedupeKey);
  // A type Paystack has not documented yet, and odd envelopes of types we do not act on.
  for (const body of [
    '{"event":"charge.reversal.create","data":{"id":9}}',
    '{"event":"paymentrequest.expired","data":{}}',
    '{}',
    '{"event":"customeridentification.success","data":"text"}',
    '{"event":{"nested":true},"data":{}}',
  ]) {
    const parsed = parsePaystackWebhook(Buffer.from(body));
    assert.ok(parsed.ok, body);
    assert.equal(parsed.event.paymentId, undefined, body);
  }
  const unknown = parsePaystackWebhook(Buffer.from('{"event":"charge.reversal.create","data":{"id":9}}'));
  assert.equal(unknown.ok && unknown.event.dedupeKey, 'paystack:9:charge.reversal.create');
});

test('malformed events of the types we act on are refused, not guessed', () => {
  for (const junk of [
    'not json',
    '[]',
    '{"event":"charge.success"}',
    '{"event":"charge.success","data":[]}',
    '{"event":"charge.success","data":{"reference":"pay-x"}}',
    '{"event":"charge.success","data":{"id":"1; drop table","reference":"pay-x"}}',
    '{"event":"charge.success","data":{"id":-4,"reference":"pay-x"}}',
    '{"event":"charge.success","data":{"id":4}}',
    '{"event":"transfer.success","data":{"reference":"x"}}',
  ]) {
    assert.equal(parsePaystackWebhook(Buffer.from(junk)).ok, false, junk);
  }
});

test('references: our id to Paystack and back; Paystack allows only - . = and alphanumerics', () => {
  const id = 'pay_0123456789abcdefghijkl';
  assert.equal(toPaystackReference(id), 'pay-0123456789abcdefghijkl');
  assert.match(toPaystackReference(id), /^[A-Za-z0-9.=-]+$/);
  assert.equal(fromPaystackReference(toPaystackReference(id)), id);
  assert.equal(fromPaystackReference('re4lyvq3s3'), 're4lyvq3s3');
  assert.equal(fromPaystackReference('T2154954_412829_3be32076_6lcg3'), 'T2154954_412829_3be32076_6lcg3');
  assert.throws(() => toPaystackReference('pay_with space'));
});

test('status table: only success succeeds; failed and reversed fail; abandoned (not finished yet) and everything else is pending', () => {
  assert.equal(normaliseTransactionStatus('success'), 'succeeded');
  assert.equal(normaliseTransactionStatus('SUCCESS'), 'succeeded');
  for (const failed of ['failed', 'reversed']) assert.equal(normaliseTransactionStatus(failed), 'failed', failed);
  for (const pending of [
    'abandoned',
    'ongoing',
    'pending',
    'processing',
    'queued',
    'successful',
    'paid',
    '',
    null,
    42,
    undefined,
    true,
  ])
    assert.equal(normaliseTransactionStatus(pending), 'pending', String(pending));
});

test('verify answers: data.status decides, never the top-level status; amounts are integer minor units', () => {
  const found = parseVerifyResponse(200, fixture('verify-success.json'));
  assert.deepEqual(found, {
    kind: 'found',
    transaction: {
      status: 'succeeded',
      providerStatus: 'success',
      // The official sample: the customer paid the fees, so the order is requested_amount.
      amountMinor: 30050,
      charged: { amountMinor: 40333 },
      feeMinor: 10283,
      currency: 'NGN',
      reference: 'pay_0123456789abcdefghijkl',
      providerTxId: '4099260516',
    },
  });
  const withStatus = (status: string) =>
    parseVerifyResponse(200, fixture('verify-success.json').replace('"status": "success"', `"status": "${status}"`));
  const abandoned = withStatus('abandoned');
  assert.equal(abandoned.kind === 'found' && abandoned.transaction.status, 'pending');
  assert.equal(abandoned.kind === 'found' && abandoned.transaction.providerStatus, 'abandoned');
  const ongoing = withStatus('ongoing');
  assert.equal(ongoing.kind === 'found' && ongoing.transaction.status, 'pending');
  const reversed = withStatus('reversed');
  assert.equal(reversed.kind === 'found' && reversed.transaction.status, 'failed');
  // A fractional or negative amount cannot be an exact minor-unit amount: undefined, never equal.
  for (const amount of ['403.33', '-40333', '"forty"', '1e400', 'null']) {
    const odd = parseVerifyResponse(
      200,
      fixture('verify-success.json').replace('"amount": 40333', `"amount": ${amount}`),
    );
    assert.equal(odd.kind === 'found' && odd.transaction.charged?.amountMinor, undefined, amount);
  }
  const stringAmount = parseVerifyResponse(
    200,
    fixture('verify-success.json').replace('"amount": 40333', '"amount": "40333"'),
  );
  assert.equal(stringAmount.kind === 'found' && stringAmount.transaction.charged?.amountMinor, 40333);
  const lowerCurrency = parseVerifyResponse(
    200,
    fixture('verify-success.json').replace('"currency": "NGN"', '"currency": "ngn"'),
  );
  assert.equal(lowerCurrency.kind === 'found' && lowerCurrency.transaction.currency, 'NGN');
});

test('fee bearer: the official sample (40333 = 30050 + fees 10283) verifies against its order of 30050', () => {
  const found = parseVerifyResponse(200, fixture('verify-success.json'));
  assert.equal(found.kind, 'found');
  const tx = found.kind === 'found' ? found.transaction : undefined;
  assert.ok(tx !== undefined);
  const order = { id: 'pay_0123456789abcdefghijkl', currency: 'NGN', amount_minor: 30050 };
  assert.deepEqual(compareWithPayment(order, tx), [], 'the customer paid the fees on top: a match');
  assert.deepEqual(compareWithPayment({ ...order, amount_minor: 40333 }, tx), ['amount'], 'the fees are not the order');
  // A charge below the order, or one that cannot be read, is never a match.
  for (const amount of ['30049', '"thirty"']) {
    const short = parseVerifyResponse(
      200,
      fixture('verify-success.json').replace('"amount": 40333', `"amount": ${amount}`),
    );
    assert.ok(short.kind === 'found');
    assert.deepEqual(compareWithPayment(order, short.transaction), ['amount'], amount);
  }
  // Without requested_amount (older answers), data.amount is the order.
  const merchantBears = JSON.parse(fixture('verify-success.json'));
  delete merchantBears.data.requested_amount;
  const plain = parseVerifyResponse(200, JSON.stringify(merchantBears));
  assert.ok(plain.kind === 'found');
  assert.equal(plain.transaction.amountMinor, 40333);
  assert.equal(plain.transaction.charged, undefined);
});

test('verify answers: not found in both documented variants; errors and junk are malformed', () => {
  assert.deepEqual(parseVerifyResponse(404, '{"status":false,"message":"Transaction reference not found"}'), {
    kind: 'not_found',
  });
  assert.deepEqual(
    parseVerifyResponse(
      400,
      '{"status":false,"message":"Transaction reference not found.","type":"validation_error","code":"transaction_not_found"}',
    ),
    { kind: 'not_found' },
  );
  assert.deepEqual(parseVerifyResponse(404, '{"status":false,"message":"Entity not found"}'), { kind: 'not_found' });
  assert.equal(parseVerifyResponse(401, '{"status":false,"message":"Invalid key"}').kind, 'malformed');
  assert.equal(
    parseVerifyResponse(
      400,
      '{"status":false,"message":"Email Address is required","type":"validation_error","code":"missing_params"}',
    ).kind,
    'malformed',
  );
  assert.equal(parseVerifyResponse(200, '<html>').kind, 'malformed');
  assert.equal(
    parseVerifyResponse(404, '<html>Not Found</html>').kind,
    'malformed',
    'a 404 page that is not Paystack is not "not found"',
  );
  assert.equal(
    parseVerifyResponse(200, '{"status":true,"message":"Verification successful","data":null}').kind,
    'malformed',
  );
  assert.equal(
    parseVerifyResponse(
      200,
      '{"status":"success","data":{"id":1,"reference":"pay-x","status":"success","amount":1,"currency":"NGN"}}',
    ).kind,
    'malformed',
    'the top level must be boolean true',
  );
  assert.equal(
    parseVerifyResponse(
      200,
      '{"status":true,"data":{"reference":"pay-x","status":"success","amount":1,"currency":"NGN"}}',
    ).kind,
    'malformed',
    'no id',
  );
  assert.equal(
    parseVerifyResponse(200, '{"status":true,"data":{"id":1,"status":"success","amount":1,"currency":"NGN"}}').kind,
    'malformed',
    'no reference',
  );
});

const checkoutRequest = (overrides: Partial<CheckoutRequest> = {}): CheckoutRequest => ({
  paymentId: 'pay_0123456789abcdefghijkl',
  amountMinor: 150005,
  currency: 'NGN',
  customer: { email: 'ada@example.com', name: 'Ada', phone: null },
  redirectUrl: 'https://merchant.example/back',
  description: 'Order 1',
  merchantReference: 'order-1',
  expiresAt: Date.now() + 86_400_000,
  ...overrides,
});

test('initialize body: integer minor units, the mapped reference, callback_url, metadata', () => {
  assert.deepEqual(toInitializeBody(checkoutRequest()), {
    email: 'ada@example.com',
    amount: 150005,
    currency: 'NGN',
    reference: 'pay-0123456789abcdefghijkl',
    callback_url: 'https://merchant.example/back',
    metadata: {
      paywarden_payment_id: 'pay_0123456789abcdefghijkl',
      merchant_reference: 'order-1',
      description: 'Order 1',
    },
  });
  assert.equal(
    (toInitializeBody(checkoutRequest({ description: null })).metadata as Record<string, unknown>).description,
    undefined,
  );
  assert.throws(() => toInitializeBody(checkoutRequest({ amountMinor: 10.5 })));
});

test('initialize answers: the authorization URL, a definite refusal, or unreadable', () => {
  const ok = parseInitializeResponse(
    200,
    '{"status":true,"message":"Authorization URL created","data":{"authorization_url":"https://checkout.paystack.com/3ni8kdavz62431k","access_code":"3ni8kdavz62431k","reference":"re4lyvq3s3"}}',
  );
  assert.deepEqual(ok, {
    kind: 'ok',
    authorizationUrl: 'https://checkout.paystack.com/3ni8kdavz62431k',
    accessCode: '3ni8kdavz62431k',
    reference: 're4lyvq3s3',
  });
  assert.deepEqual(parseInitializeResponse(400, fixture('duplicate-reference.json')), {
    kind: 'rejected',
    reason: 'Duplicate Transaction Reference (duplicate_reference)',
  });
  assert.deepEqual(parseInitializeResponse(401, '{"status":false,"message":"Invalid key"}'), {
    kind: 'rejected',
    reason: 'Invalid key',
  });
  assert.equal(parseInitializeResponse(200, 'nope').kind, 'malformed');
  assert.equal(
    parseInitializeResponse(200, '{"status":true,"data":{"authorization_url":"javascript:alert(1)"}}').kind,
    'malformed',
  );
  assert.equal(parseInitializeResponse(200, '{"status":false,"message":"odd"}').kind, 'malformed');
});

function fakeHttp(
  answer: (input: { method: string; url: string; headers: Record<string, string>; body?: string }) => HttpOutcome,
) {
  const calls: Array<{ method: string; url: string; headers: Record<string, string>; body?: string }> = [];
  const http: HttpClient = {
    async send(input) {
      calls.push(input);
      return answer(input);
    },
  };
  return { http, calls };
}
const respond = (status: number, body: string): HttpOutcome => ({
  kind: 'response',
  response: { status, headers: {}, body, latencyMs: 1 },
});

test('flow: initialize and verify over the HttpClient, Bearer secret key, our id mapped both ways', async () => {
  const secret = `sk_test_${randomBytes(16).toString('hex')}`;
  const { http, calls } = fakeHttp((input) =>
    input.method === 'POST'
      ? respond(
          200,
          '{"status":true,"message":"Authorization URL created","data":{"authorization_url":"https://checkout.example/abc","access_code":"abc","reference":"pay-0123456789abcdefghijkl"}}',
        )
      : respond(200, fixture('verify-success.json')),
  );
  const provider = createPaystackProvider({ baseUrl: 'https://api.example/', secretKey: new Secret(secret), http });
  assert.equal(provider.name, 'paystack');
  assert.deepEqual([...provider.currencies], ['NGN', 'GHS', 'KES', 'ZAR', 'USD']);
  assert.deepEqual(await provider.createCheckout(checkoutRequest()), {
    kind: 'ok',
    value: { checkoutUrl: 'https://checkout.example/abc' },
  });
  assert.equal(calls[0]!.url, 'https://api.example/transaction/initialize');
  assert.equal(calls[0]!.headers.authorization, `Bearer ${secret}`);
  assert.equal(JSON.parse(calls[0]!.body!).amount, 150005);
  const verified = await provider.verifyPayment({
    paymentId: 'pay_0123456789abcdefghijkl',
    providerTxId: '4099260516',
  });
  assert.equal(calls[1]!.url, 'https://api.example/transaction/verify/pay-0123456789abcdefghijkl');
  assert.equal(verified.kind === 'ok' && verified.value.reference, 'pay_0123456789abcdefghijkl');
  assert.equal(verified.kind === 'ok' && verified.value.amountMinor, 30050);
});

test('flow: indefinite stays indefinite; a repeated reference is told apart from refusals; not found; unreadable is indefinite', async () => {
  const outcomes: HttpOutcome[] = [
    { kind: 'indefinite', reason: 'timeout' },
    respond(400, fixture('duplicate-reference.json')),
    respond(200, '<html>'),
    respond(404, '{"status":false,"message":"Transaction reference not found"}'),
    respond(401, '{"status":false,"message":"Invalid key"}'),
    { kind: 'indefinite', reason: 'provider answered 503' },
  ];
  const { http } = fakeHttp(() => outcomes.shift()!);
  const provider = createPaystackProvider({ baseUrl: 'https://api.example', secretKey: new Secret('k'), http });
  assert.equal((await provider.createCheckout(checkoutRequest())).kind, 'indefinite');
  // §2.1: the first initialize under the reference stands; the core asks verify (checkout-creation.ts).
  assert.deepEqual(await provider.createCheckout(checkoutRequest()), {
    kind: 'reference_exists',
    reason: 'Paystack already holds this reference (duplicate_reference)',
  });
  assert.equal((await provider.createCheckout(checkoutRequest())).kind, 'indefinite');
  assert.deepEqual(await provider.verifyPayment({ paymentId: 'pay_x', providerTxId: null }), { kind: 'not_found' });
  assert.equal((await provider.verifyPayment({ paymentId: 'pay_x', providerTxId: null })).kind, 'indefinite');
  assert.equal((await provider.verifyPayment({ paymentId: 'pay_x', providerTxId: null })).kind, 'indefinite');
});

test('source IP allowlist: Paystack addresses by default, IPv4-mapped form, off in test mode', () => {
  for (const ip of ['52.31.139.75', '52.49.173.169', '52.214.14.220', '::ffff:52.31.139.75'])
    assert.equal(isPaystackSourceIp(ip), true, ip);
  for (const ip of ['127.0.0.1', '52.31.139.7', '', undefined, '::1'])
    assert.equal(isPaystackSourceIp(ip), false, String(ip));
  assert.equal(isPaystackSourceIp('10.0.0.1', ['10.0.0.1']), true);
  assert.equal(paystackSourceIpAllowed('127.0.0.1', 'test'), true);
  assert.equal(paystackSourceIpAllowed('127.0.0.1', 'live'), false);
  assert.equal(paystackSourceIpAllowed('52.49.173.169', 'live'), true);
});

test('banks and resolve answers (§2.6): active banks only, cursor, not-resolved as a definite answer', async () => {
  const { parseBanksResponse, parseResolveResponse } = await import('./transformers.ts');
  const banks = parseBanksResponse(
    200,
    JSON.stringify({
      status: true,
      message: 'Banks retrieved',
      data: [
        { name: 'Abbey Mortgage Bank', code: '801', active: true, is_deleted: false },
        { name: 'Gone Bank', code: '999', active: false },
      ],
      meta: { next: 'YmFuazoxNjk=', previous: null, perPage: 5 },
    }),
  );
  assert.deepEqual(banks, { ok: true, banks: [{ code: '801', name: 'Abbey Mortgage Bank' }], next: 'YmFuazoxNjk=' });
  assert.equal(parseBanksResponse(401, '{"status":false,"message":"Invalid key"}').ok, false);
  assert.deepEqual(
    parseResolveResponse(
      200,
      '{"status":true,"message":"Account number resolved","data":{"account_number":"0022728151","account_name":"WES GIBBONS"}}',
    ),
    { kind: 'ok', accountNumber: '0022728151', accountName: 'WES GIBBONS' },
  );
  assert.equal(
    parseResolveResponse(422, '{"status":false,"message":"Could not resolve account name."}').kind,
    'not_found',
  );
  assert.equal(parseResolveResponse(500, 'oops').kind, 'malformed');
});

test("refusals the merchant can fix name our field and why, from Paystack's documented error bodies", () => {
  // doc-code-snippets api/introduction/sample-error (missing_params) and supported-currency.
  const sampleError = JSON.stringify({
    status: false,
    message: 'Email Address is required',
    meta: { nextStep: 'Provide all required params ' },
    type: 'validation_error',
    code: 'missing_params',
  });
  assert.deepEqual(paystackRequestProblem(400, sampleError), {
    code: 'provider_refused_field',
    param: 'customer.email',
    message: 'customer.email is not an address Paystack accepts.',
  });
  assert.deepEqual(paystackRequestProblem(400, '{"status":false,"message":"Currency not supported by merchant"}'), {
    code: 'provider_refused_field',
    param: 'currency',
    message: 'currency is not enabled on your Paystack account.',
  });
  const invalid = (message: string) =>
    JSON.stringify({ status: false, message, type: 'validation_error', code: 'invalid_params' });
  assert.equal(paystackRequestProblem(400, invalid('Invalid Amount Sent'))?.param, 'amount');
  assert.equal(paystackRequestProblem(400, invalid('Invalid callback_url'))?.param, 'redirect_url');
  // Ours to fix, or nothing a merchant can act on: no problem named.
  assert.equal(paystackRequestProblem(400, invalid('Invalid transaction reference')), undefined);
  assert.equal(
    paystackRequestProblem(
      400,
      '{"status":false,"message":"Duplicate Transaction Reference","type":"validation_error","code":"duplicate_reference"}',
    ),
    undefined,
  );
  assert.equal(paystackRequestProblem(401, '{"status":false,"message":"Invalid key"}'), undefined);
  assert.equal(paystackRequestProblem(400, 'not json'), undefined);
});
