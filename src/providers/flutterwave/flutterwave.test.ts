import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Secret } from '../../crypto/secret.ts';
import { compareWithPayment } from '../../payments/verification.ts';
import { flutterwaveSignature, parseFlutterwaveWebhook, verifyFlutterwaveSignature } from './webhook.ts';
import {
  flutterwaveRequestProblem,
  isDuplicateTxRef,
  normaliseChargeStatus,
  parseCheckoutResponse,
  parseVerifyResponse,
  toStandardPaymentBody,
} from './transformers.ts';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');
// The published test vector (shared/provider-wire-formats.md §7).
const VECTOR_BODY =
  '{"event":"charge.completed","data":{"id":285959875,"tx_ref":"ord_1","status":"successful","amount":100,"currency":"NGN"}}';
const VECTOR_HASH = 'my_secret_hash';
const VECTOR_SIGNATURE = 'XKL/FllEQrTsZ5n5jfj83YQ8MkDhlzgUXURw8lI+hFs=';
const hashes = [{ mode: 'test' as const, secretHash: new Secret(VECTOR_HASH) }];

test('flutterwave-signature: the published test vector', () => {
  assert.equal(flutterwaveSignature(VECTOR_BODY, VECTOR_HASH), VECTOR_SIGNATURE);
  assert.deepEqual(
    verifyFlutterwaveSignature(Buffer.from(VECTOR_BODY), { 'flutterwave-signature': VECTOR_SIGNATURE }, hashes),
    { ok: true, mode: 'test', scheme: 'flutterwave-signature' },
  );
});

test('verif-hash alone is accepted (legacy accounts), compared to the secret hash', () => {
  assert.deepEqual(verifyFlutterwaveSignature(Buffer.from(VECTOR_BODY), { 'verif-hash': VECTOR_HASH }, hashes), {
    ok: true,
    mode: 'test',
    scheme: 'verif-hash',
  });
  assert.equal(
    verifyFlutterwaveSignature(Buffer.from(VECTOR_BODY), { 'verif-hash': 'my_secret_has' }, hashes).ok,
    false,
  );
});

test('a body changed by one byte, a missing header, or no proof that matches is refused', () => {
  const tampered = Buffer.from(VECTOR_BODY.replace('100', '101'));
  assert.equal(verifyFlutterwaveSignature(tampered, { 'flutterwave-signature': VECTOR_SIGNATURE }, hashes).ok, false);
  assert.equal(verifyFlutterwaveSignature(Buffer.from(VECTOR_BODY), {}, hashes).ok, false);
  assert.equal(
    verifyFlutterwaveSignature(tampered, { 'flutterwave-signature': VECTOR_SIGNATURE, 'verif-hash': 'wrong' }, hashes)
      .ok,
    false,
  );
  // Re-serialised JSON (whitespace) no longer matches: the raw bytes are what is signed.
  const reserialised = Buffer.from(JSON.stringify(JSON.parse(VECTOR_BODY), null, 1));
  assert.equal(
    verifyFlutterwaveSignature(reserialised, { 'flutterwave-signature': VECTOR_SIGNATURE }, hashes).ok,
    false,
  );
});

test('flutterwave-signature in either documented form; a differently-formed one never refuses a right verif-hash', () => {
  const body = Buffer.from(VECTOR_BODY);
  // The docs mirror's reading: the header carries the plain secret hash.
  assert.deepEqual(verifyFlutterwaveSignature(body, { 'flutterwave-signature': VECTOR_HASH }, hashes), {
    ok: true,
    mode: 'test',
    scheme: 'flutterwave-signature-plain',
  });
  // Some other scheme (say, hex instead of base64) beside the right verif-hash: verif-hash decides.
  const hex = Buffer.from(VECTOR_SIGNATURE, 'base64').toString('hex');
  for (const signature of [hex, 'v1=abc', VECTOR_HASH.toUpperCase(), ''])
    assert.deepEqual(
      verifyFlutterwaveSignature(body, { 'flutterwave-signature': signature, 'verif-hash': VECTOR_HASH }, hashes),
      { ok: true, mode: 'test', scheme: 'verif-hash' },
      signature,
    );
  assert.equal(verifyFlutterwaveSignature(body, { 'flutterwave-signature': hex }, hashes).ok, false);
});

test('requireSignature: only the HMAC counts; verif-hash alone and the plain form are refused (issue 16 §4)', () => {
  const body = Buffer.from(VECTOR_BODY);
  const strict = { requireSignature: true };
  assert.deepEqual(verifyFlutterwaveSignature(body, { 'flutterwave-signature': VECTOR_SIGNATURE }, hashes, strict), {
    ok: true,
    mode: 'test',
    scheme: 'flutterwave-signature',
  });
  const onlyStatic = verifyFlutterwaveSignature(body, { 'verif-hash': VECTOR_HASH }, hashes, strict);
  assert.equal(onlyStatic.ok, false);
  assert.match(onlyStatic.ok ? '' : onlyStatic.reason, /FLUTTERWAVE_WEBHOOK_REQUIRE_SIGNATURE/);
  assert.equal(
    verifyFlutterwaveSignature(
      body,
      { 'flutterwave-signature': VECTOR_HASH, 'verif-hash': VECTOR_HASH },
      hashes,
      strict,
    ).ok,
    false,
  );
  // Off (the default), the same static header is accepted.
  assert.equal(verifyFlutterwaveSignature(body, { 'verif-hash': VECTOR_HASH }, hashes).ok, true);
});

test('the secret hash that matches decides the mode', () => {
  const both = [
    { mode: 'test' as const, secretHash: new Secret('test-hash-value-123') },
    { mode: 'live' as const, secretHash: new Secret(VECTOR_HASH) },
  ];
  const check = verifyFlutterwaveSignature(
    Buffer.from(VECTOR_BODY),
    { 'flutterwave-signature': VECTOR_SIGNATURE },
    both,
  );
  assert.deepEqual(check, { ok: true, mode: 'live', scheme: 'flutterwave-signature' });
});

test('webhook payloads: v3 envelope, legacy flat charge, legacy transfer, and junk', () => {
  const v3 = parseFlutterwaveWebhook(Buffer.from(VECTOR_BODY));
  assert.deepEqual(v3, {
    ok: true,
    event: {
      dedupeKey: 'flutterwave:285959875:charge.completed:successful',
      eventType: 'charge.completed',
      paymentId: 'ord_1',
      providerTxId: '285959875',
    },
  });
  const flat = parseFlutterwaveWebhook(Buffer.from(fixture('webhook-flat-legacy.json')));
  assert.deepEqual(flat, {
    ok: true,
    event: {
      dedupeKey: 'flutterwave:126122:charge.completed:successful',
      eventType: 'charge.completed',
      paymentId: 'pay_0123456789abcdefghijkl',
      providerTxId: '126122',
    },
  });
  const transfer = parseFlutterwaveWebhook(
    Buffer.from('{"event.type":"Transfer","transfer":{"id":33286,"status":"SUCCESSFUL"}}'),
  );
  assert.equal(transfer.ok && transfer.event.paymentId, undefined);
  for (const junk of [
    'not json',
    '[]',
    '{"event":"charge.completed","data":{}}',
    '{"event":"charge.completed"}',
    '{"event":"charge.completed","data":{"id":"1; drop table"}}',
    '{"event":"transfer.completed","data":{"status":"SUCCESSFUL"}}',
  ]) {
    assert.equal(parseFlutterwaveWebhook(Buffer.from(junk)).ok, false, junk);
  }
});

test('the dedupe key normalises the status: SUCCESSFUL, "successful " and successful are one event (issue 16 §4)', () => {
  const keys = ['successful', 'SUCCESSFUL', 'successful ', ' Successful'].map((status) => {
    const parsed = parseFlutterwaveWebhook(
      Buffer.from(JSON.stringify({ event: 'charge.completed', data: { id: 285959875, tx_ref: 'ord_1', status } })),
    );
    return parsed.ok ? parsed.event.dedupeKey : parsed.reason;
  });
  assert.deepEqual(new Set(keys), new Set(['flutterwave:285959875:charge.completed:successful']));
  const flat = JSON.parse(fixture('webhook-flat-legacy.json'));
  const flatKey = parseFlutterwaveWebhook(Buffer.from(JSON.stringify({ ...flat, status: 'SUCCESSFUL' })));
  assert.equal(flatKey.ok && flatKey.event.dedupeKey, 'flutterwave:126122:charge.completed:successful');
});

test('the legacy flat refund webhook and events we do not act on are acknowledged, not refused', () => {
  // §1.4: the flat PascalCase refund (developer.flutterwave.com/docs/refunds, as quoted).
  const refund = parseFlutterwaveWebhook(Buffer.from(fixture('webhook-refund-flat.json')));
  assert.deepEqual(refund, {
    ok: true,
    event: {
      dedupeKey: 'flutterwave:refund-89074:refund.completed:completed',
      eventType: 'refund.completed',
      paymentId: undefined,
      providerTxId: undefined,
    },
  });
  for (const body of [
    '{"event":"subscription.cancelled","data":{"id":12,"status":"cancelled"}}',
    '{"event":"bvn.completed","data":{"bvn":"123"}}',
    '{"event":"singlebillpayment.status","data":[]}',
    '{"event":"a.type.nobody.documented"}',
    '{}',
    '{"hello":"world"}',
  ]) {
    const parsed = parseFlutterwaveWebhook(Buffer.from(body));
    assert.ok(parsed.ok, body);
    assert.equal(parsed.event.paymentId, undefined, body);
  }
  const cancelled = parseFlutterwaveWebhook(Buffer.from('{"event":"subscription.cancelled","data":{"id":12}}'));
  assert.equal(cancelled.ok && cancelled.event.dedupeKey, 'flutterwave:12:subscription.cancelled');
});

test('status table: only explicit success or failure leaves pending', () => {
  assert.equal(normaliseChargeStatus('successful'), 'succeeded');
  assert.equal(normaliseChargeStatus('SUCCESSFUL'), 'succeeded');
  assert.equal(normaliseChargeStatus('failed'), 'failed');
  for (const unknown of ['pending', 'processing', 'success-ish', '', null, 42, undefined])
    assert.equal(normaliseChargeStatus(unknown), 'pending');
});

test('verify answers: amounts converted exactly from major units; not-found in both HTTP variants', () => {
  const found = parseVerifyResponse(200, fixture('verify-success.json'));
  assert.equal(found.kind, 'found');
  if (found.kind === 'found') {
    assert.equal(found.transaction.amountMinor, 7550);
    assert.equal(found.transaction.status, 'succeeded');
    assert.equal(found.transaction.reference, 'pay_0123456789abcdefghijkl');
    assert.equal(found.transaction.providerTxId, '288200108');
    assert.equal(found.transaction.feeMinor, 140, 'app_fee 1.4 NGN, in kobo');
  }
  // A fee finer than the currency's minor unit is not recorded (never rounded).
  const finer = parseVerifyResponse(200, fixture('verify-success.json').replace('"app_fee": 1.4', '"app_fee": 1.057'));
  assert.equal(finer.kind === 'found' && 'feeMinor' in finer.transaction, false);
  const notFound = '{"status":"error","message":"No transaction was found for this id","data":null}';
  assert.equal(parseVerifyResponse(400, notFound).kind, 'not_found');
  assert.equal(parseVerifyResponse(200, notFound).kind, 'not_found');
  assert.equal(parseVerifyResponse(200, '<html>').kind, 'malformed');
  assert.equal(
    parseVerifyResponse(401, '{"status":"error","message":"Invalid authorization key","data":null}').kind,
    'malformed',
  );
  // A fraction of a kobo cannot be an exact NGN amount: it must not compare equal to anything.
  const inexact = parseVerifyResponse(
    200,
    fixture('verify-success.json').replace('"amount": 75.5', '"amount": 75.505'),
  );
  assert.equal(inexact.kind === 'found' && inexact.transaction.amountMinor, undefined);
});

test('a verify answer without a currency is a mismatch to flag, not an exception that kills the job', () => {
  const answer = JSON.parse(fixture('verify-success.json')) as { data: Record<string, unknown> };
  const order = { id: 'pay_0123456789abcdefghijkl', currency: 'NGN', amount_minor: 7550 };
  delete answer.data.currency;
  const parsed = parseVerifyResponse(200, JSON.stringify(answer));
  assert.equal(parsed.kind, 'found');
  if (parsed.kind !== 'found') return;
  // Without a currency, 75.5 has no exponent to convert with: neither field can match the order.
  assert.equal(parsed.transaction.currency, '');
  assert.equal(parsed.transaction.amountMinor, undefined);
  assert.equal(parsed.transaction.status, 'succeeded');
  assert.deepEqual(compareWithPayment(order, parsed.transaction), ['currency', 'amount']);
  // A code with no known minor unit is the same: kept for the alert, never converted.
  const unknown = parseVerifyResponse(200, JSON.stringify({ ...answer, data: { ...answer.data, currency: 'XYZ' } }));
  assert.equal(unknown.kind === 'found' && unknown.transaction.currency, 'XYZ');
  assert.equal(unknown.kind === 'found' && unknown.transaction.amountMinor, undefined);
  // Flutterwave has been seen to write the code in lower case; that is still the code.
  const lower = parseVerifyResponse(
    200,
    fixture('verify-success.json').replace('"currency": "NGN"', '"currency": "ngn"'),
  );
  assert.deepEqual(lower.kind === 'found' && compareWithPayment(order, lower.transaction), []);
});

test('a webhook without a currency is still a hint to verify: it names the payment and the transaction', () => {
  const body =
    '{"event":"charge.completed","data":{"id":285959875,"tx_ref":"pay_1","status":"successful","amount":100}}';
  assert.deepEqual(parseFlutterwaveWebhook(Buffer.from(body)), {
    ok: true,
    event: {
      dedupeKey: 'flutterwave:285959875:charge.completed:successful',
      eventType: 'charge.completed',
      paymentId: 'pay_1',
      providerTxId: '285959875',
    },
  });
});

test('Standard checkout body: major units as an exact string, our payment id as tx_ref, phonenumber spelling', () => {
  const body = toStandardPaymentBody({
    paymentId: 'pay_x',
    amountMinor: 150005,
    currency: 'NGN',
    customer: { email: 'a@b.co', name: 'Ada', phone: '+2348000000000' },
    redirectUrl: 'https://m.example/r',
    description: null,
    merchantReference: 'order-1',
    expiresAt: Date.now() + 86_400_000,
  });
  assert.equal(body.amount, '1500.05');
  assert.equal(body.tx_ref, 'pay_x');
  assert.deepEqual(body.customer, { email: 'a@b.co', name: 'Ada', phonenumber: '+2348000000000' });
  assert.equal(
    toStandardPaymentBody({
      paymentId: 'p',
      amountMinor: 5000,
      currency: 'UGX',
      customer: { email: 'a@b.co', name: null, phone: null },
      redirectUrl: 'x',
      description: null,
      merchantReference: 'r',
      expiresAt: Date.now() + 86_400_000,
    }).amount,
    '5000',
  );
});

test("session_duration from our payment expiry, in minutes, within Flutterwave's 1 to 1440", () => {
  const nowMs = 1_700_000_000_000;
  const request = (expiresAt: number) => ({
    paymentId: 'p',
    amountMinor: 5000,
    currency: 'NGN',
    customer: { email: 'a@b.co', name: null, phone: null },
    redirectUrl: 'https://m.example/r',
    description: null,
    merchantReference: 'r',
    expiresAt,
  });
  assert.equal(toStandardPaymentBody(request(nowMs + 3_600_000), nowMs).session_duration, 60);
  assert.equal(toStandardPaymentBody(request(nowMs + 90_500), nowMs).session_duration, 2, 'rounded up: never shorter');
  assert.equal(toStandardPaymentBody(request(nowMs + 7 * 86_400_000), nowMs).session_duration, 1440);
  assert.equal(toStandardPaymentBody(request(nowMs - 1), nowMs).session_duration, 1);
});

test('checkout answers: the hosted link, or a rejection reason without the body', () => {
  assert.deepEqual(
    parseCheckoutResponse(
      200,
      '{"status":"success","message":"Hosted Link","data":{"link":"https://checkout.example/pay/x"}}',
    ),
    { ok: true, link: 'https://checkout.example/pay/x' },
  );
  assert.equal(parseCheckoutResponse(400, '{"status":"error","message":"Invalid currency","data":null}').ok, false);
  assert.equal(parseCheckoutResponse(200, 'nope').ok, false);
});

test('refusals the merchant can fix name our field and why, in the form Flutterwave documents', () => {
  const error = (message: string) => JSON.stringify({ status: 'error', message, data: null });
  assert.deepEqual(flutterwaveRequestProblem(400, error('Invalid currency')), {
    code: 'provider_refused_field',
    param: 'currency',
    message: 'currency is not enabled for collections on your Flutterwave account.',
  });
  // The documented validation form, "<Field> is required": of a field we send only when given.
  assert.deepEqual(flutterwaveRequestProblem(400, error('customer.phonenumber is required')), {
    code: 'provider_field_required',
    param: 'customer.phone',
    message: 'Flutterwave requires customer.phone for this payment.',
  });
  assert.equal(flutterwaveRequestProblem(400, error('customer.name is required'))?.param, 'customer.name');
  assert.equal(flutterwaveRequestProblem(400, error('customer.email is required'))?.code, 'provider_refused_field');
  assert.equal(flutterwaveRequestProblem(400, error('redirect_url is required'))?.param, 'redirect_url');
  assert.equal(flutterwaveRequestProblem(400, error('amount must be a number greater than 0'))?.param, 'amount');
  for (const [status, body] of [
    [400, error('tx_ref is required')],
    [400, error('Duplicate transaction reference')],
    [401, error('Invalid authorization key')],
    [400, error('Merchant requires approval to use resource, please contact support')],
    [400, '<html>'],
  ] as const)
    assert.equal(flutterwaveRequestProblem(status, body), undefined, body);
});

test('a repeated tx_ref is told apart from other refusals (its wording is undocumented, §8.2)', () => {
  const error = (message: string) => JSON.stringify({ status: 'error', message, data: null });
  for (const message of ['Duplicate transaction reference', 'tx_ref has already been used', 'Duplicate tx_ref'])
    assert.equal(isDuplicateTxRef(400, error(message)), true, message);
  for (const [status, body] of [
    [400, error('tx_ref is required')],
    [400, error('amount must be a number greater than 0')],
    [500, error('Duplicate transaction reference')],
    [400, '<html>'],
  ] as const)
    assert.equal(isDuplicateTxRef(status, body), false, body);
});
