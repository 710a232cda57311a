import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Webhook } from 'standardwebhooks';
import {
  buildWebhookHeaders,
  generateEndpointSecret,
  signPayload,
  verifySignature,
  type VerifyResult,
} from './signing.ts';

// The published vector (shared/provider-wire-formats.md §7). Its secret is assembled from the
// documented plain bytes rather than written out, to keep secret-shaped strings out of the repo.
const VECTOR_SECRET = 'whsec_' + Buffer.from('0123456789abcdef0123456789abcdef').toString('base64');
const VECTOR = {
  msgId: 'msg_2KWPBgLlAfxdpx2AI54pPJ85f4W',
  timestampSeconds: 1674087231,
  body: '{"type":"payment.succeeded"}',
};
const VECTOR_SIGNATURE = 'v1,8BkJyaY2A2kXsJ+h9KPFyE8VcXWDoMw6KrXbaOoHIE8=';

const accepted: VerifyResult = { ok: true };
const refused = (
  reason: 'missing_headers' | 'timestamp_too_old' | 'timestamp_too_new' | 'no_matching_signature',
): VerifyResult => ({ ok: false, reason });
const nowSeconds = () => Math.floor(Date.now() / 1000);

test('the Standard Webhooks test vector', () => {
  assert.equal(signPayload({ ...VECTOR, secrets: [VECTOR_SECRET] }), VECTOR_SIGNATURE);
  assert.equal(
    signPayload({ ...VECTOR, body: Buffer.from(VECTOR.body), secrets: [VECTOR_SECRET] }),
    VECTOR_SIGNATURE,
    'raw bytes sign the same',
  );
  assert.deepEqual(buildWebhookHeaders({ ...VECTOR, secrets: [VECTOR_SECRET] }), {
    'webhook-id': VECTOR.msgId,
    'webhook-timestamp': '1674087231',
    'webhook-signature': VECTOR_SIGNATURE,
  });
  const headers = {
    'webhook-id': VECTOR.msgId,
    'webhook-timestamp': '1674087231',
    'webhook-signature': VECTOR_SIGNATURE,
  };
  assert.deepEqual(
    verifySignature({ headers, body: VECTOR.body, secrets: [VECTOR_SECRET], nowSeconds: VECTOR.timestampSeconds }),
    accepted,
  );
  // The prefix is optional, as in the official library.
  assert.equal(signPayload({ ...VECTOR, secrets: [VECTOR_SECRET.slice('whsec_'.length)] }), VECTOR_SIGNATURE);
});

test('the official standardwebhooks library accepts our signatures', () => {
  for (let i = 0; i < 20; i += 1) {
    const secret = generateEndpointSecret();
    const body = JSON.stringify({
      type: 'payment.succeeded',
      timestamp: new Date().toISOString(),
      data: { id: `pay_${i}`, note: 'ünïcödé ✓ "quoted"' },
    });
    const headers = buildWebhookHeaders({ msgId: `evt_${i}`, timestampSeconds: nowSeconds(), body, secrets: [secret] });
    assert.deepEqual(new Webhook(secret).verify(body, { ...headers }), JSON.parse(body));
    assert.throws(() => new Webhook(secret).verify(body + ' ', { ...headers }), /No matching signature/);
  }
});

test('we accept signatures made by the official library', () => {
  for (let i = 0; i < 20; i += 1) {
    const secret = generateEndpointSecret();
    const now = nowSeconds();
    const body = JSON.stringify({ type: 'refund.created', data: { n: i } });
    const theirs = new Webhook(secret).sign(`msg_${i}`, new Date(now * 1000), body);
    const headers = { 'webhook-id': `msg_${i}`, 'webhook-timestamp': String(now), 'webhook-signature': theirs };
    assert.equal(
      theirs,
      signPayload({ msgId: `msg_${i}`, timestampSeconds: now, body, secrets: [secret] }),
      'bit-identical',
    );
    assert.deepEqual(verifySignature({ headers, body, secrets: [secret], nowSeconds: now }), accepted);
    assert.deepEqual(
      verifySignature({ headers, body, secrets: [generateEndpointSecret()], nowSeconds: now }),
      refused('no_matching_signature'),
    );
  }
});

test('rotation: two signatures, a verifier holding either secret accepts, and so does the official library', () => {
  const oldSecret = generateEndpointSecret();
  const newSecret = generateEndpointSecret();
  const now = nowSeconds();
  const body = '{"type":"payment.succeeded"}';
  const headers = buildWebhookHeaders({
    msgId: 'evt_rotate',
    timestampSeconds: now,
    body,
    secrets: [newSecret, oldSecret],
  });
  const entries = headers['webhook-signature'].split(' ');
  assert.equal(entries.length, 2);
  for (const entry of entries) assert.match(entry, /^v1,[A-Za-z0-9+/]{43}=$/);
  for (const secret of [oldSecret, newSecret]) {
    assert.deepEqual(verifySignature({ headers, body, secrets: [secret], nowSeconds: now }), accepted);
    new Webhook(secret).verify(body, { ...headers });
  }
  // The receiver's side of a rotation: it holds both while the sender has moved on.
  const onlyNew = buildWebhookHeaders({ msgId: 'evt_rotate', timestampSeconds: now, body, secrets: [newSecret] });
  assert.deepEqual(
    verifySignature({ headers: onlyNew, body, secrets: [oldSecret, newSecret], nowSeconds: now }),
    accepted,
  );
  assert.deepEqual(
    verifySignature({ headers: onlyNew, body, secrets: [oldSecret], nowSeconds: now }),
    refused('no_matching_signature'),
  );
});

test('tampering with the body, id, timestamp or signature is refused', () => {
  const secret = generateEndpointSecret();
  const now = 1_700_000_000;
  const body = '{"a":1}';
  const headers = buildWebhookHeaders({ msgId: 'evt_t', timestampSeconds: now, body, secrets: [secret] });
  const verify = (overrides: Partial<typeof headers>, verifyBody = body) =>
    verifySignature({ headers: { ...headers, ...overrides }, body: verifyBody, secrets: [secret], nowSeconds: now });
  assert.deepEqual(verify({}), accepted);
  assert.deepEqual(verify({}, '{"a":2}'), refused('no_matching_signature'));
  assert.deepEqual(verify({}, '{"a": 1}'), refused('no_matching_signature'), 're-serialised JSON is not the raw body');
  assert.deepEqual(verify({ 'webhook-id': 'evt_u' }), refused('no_matching_signature'));
  assert.deepEqual(verify({ 'webhook-timestamp': String(now + 1) }), refused('no_matching_signature'));
  const signature = headers['webhook-signature'];
  const flipped = signature.slice(0, 10) + (signature[10] === 'A' ? 'B' : 'A') + signature.slice(11);
  assert.deepEqual(verify({ 'webhook-signature': flipped }), refused('no_matching_signature'));
  assert.deepEqual(verify({ 'webhook-signature': signature.replace('v1,', 'v2,') }), refused('no_matching_signature'));
  assert.deepEqual(verify({ 'webhook-signature': signature.replace('v1,', 'v1a,') }), refused('no_matching_signature'));
  assert.deepEqual(
    verify({ 'webhook-signature': signature.slice(0, -1) }),
    refused('no_matching_signature'),
    'truncated',
  );
  assert.deepEqual(
    verify({ 'webhook-signature': `${signature.slice(0, 20)}!${signature.slice(20)}` }),
    refused('no_matching_signature'),
    'junk the lenient base64 decoder would skip',
  );
  assert.deepEqual(verify({ 'webhook-signature': '' }), refused('no_matching_signature'));
  // Our valid entry among others is enough.
  assert.deepEqual(verify({ 'webhook-signature': `v1a,abc v1,${'A'.repeat(43)}= ${signature}  v9,x` }), accepted);
});

test('wrong secret, and the Stripe-style key mix-up, are refused', () => {
  const secret = generateEndpointSecret();
  const now = 1_700_000_000;
  const body = '{"a":1}';
  const headers = buildWebhookHeaders({ msgId: 'evt_k', timestampSeconds: now, body, secrets: [secret] });
  assert.deepEqual(
    verifySignature({ headers, body, secrets: [generateEndpointSecret()], nowSeconds: now }),
    refused('no_matching_signature'),
  );
  assert.throws(
    () => verifySignature({ headers, body, secrets: ['whsec_test_secret'], nowSeconds: now }),
    /standard base64/,
  );
  assert.throws(() => verifySignature({ headers, body, secrets: [`${secret}\n`], nowSeconds: now }), /whitespace/);
  assert.throws(() => verifySignature({ headers, body, secrets: [` ${secret}`], nowSeconds: now }), /whitespace/);
  assert.throws(
    () =>
      signPayload({
        msgId: 'evt',
        timestampSeconds: now,
        body,
        secrets: ['whsec_' + Buffer.alloc(16).toString('base64')],
      }),
    /16 bytes/,
  );
  assert.throws(() => verifySignature({ headers, body, secrets: [], nowSeconds: now }), /no secret/);
});

test('timestamps: five minutes either way by default, integer seconds only', () => {
  const secret = generateEndpointSecret();
  const sentAt = 1_700_000_000;
  const body = '{}';
  const headers = buildWebhookHeaders({ msgId: 'evt_ts', timestampSeconds: sentAt, body, secrets: [secret] });
  const at = (now: number, toleranceSeconds?: number) =>
    verifySignature({
      headers,
      body,
      secrets: [secret],
      nowSeconds: now,
      ...(toleranceSeconds === undefined ? {} : { toleranceSeconds }),
    });
  assert.deepEqual(at(sentAt + 300), accepted);
  assert.deepEqual(at(sentAt - 300), accepted);
  assert.deepEqual(at(sentAt + 301), refused('timestamp_too_old'));
  assert.deepEqual(at(sentAt - 301), refused('timestamp_too_new'));
  assert.deepEqual(at(sentAt + 60, 30), refused('timestamp_too_old'));
  assert.deepEqual(at(sentAt + 3600, 7200), accepted);
  // The replay window is checked before the signature: a stale but valid request is still stale.
  assert.deepEqual(at(sentAt + 86_400), refused('timestamp_too_old'));
  assert.throws(() => at(sentAt * 1000), /milliseconds/);
  assert.throws(() => at(sentAt, -1), /toleranceSeconds/);
  for (const bad of [Date.now(), 1.5, -1, Number.NaN])
    assert.throws(
      () => signPayload({ msgId: 'evt', timestampSeconds: bad, body, secrets: [secret] }),
      /seconds/,
      String(bad),
    );
  // A millisecond timestamp in the header is just too new.
  const msHeaders = { ...headers, 'webhook-timestamp': String(sentAt * 1000) };
  assert.deepEqual(
    verifySignature({ headers: msHeaders, body, secrets: [secret], nowSeconds: sentAt }),
    refused('timestamp_too_new'),
  );
});

test('missing or malformed headers', () => {
  const secret = generateEndpointSecret();
  const now = 1_700_000_000;
  const body = '{}';
  const headers = buildWebhookHeaders({ msgId: 'evt_h', timestampSeconds: now, body, secrets: [secret] });
  const verify = (h: Record<string, string | string[] | undefined>) =>
    verifySignature({ headers: h, body, secrets: [secret], nowSeconds: now });
  assert.deepEqual(verify({}), refused('missing_headers'));
  for (const name of ['webhook-id', 'webhook-timestamp', 'webhook-signature'] as const)
    assert.deepEqual(verify({ ...headers, [name]: undefined }), refused('missing_headers'), name);
  for (const timestamp of ['', 'abc', '1700000000.5', '-1700000000', ' 1700000000', '1e9'])
    assert.deepEqual(verify({ ...headers, 'webhook-timestamp': timestamp }), refused('missing_headers'), timestamp);
  for (const id of ['', 'evt.1', 'evt 1', 'evt\n1'])
    assert.deepEqual(verify({ ...headers, 'webhook-id': id }), refused('missing_headers'), JSON.stringify(id));
  assert.deepEqual(
    verify({ ...headers, 'webhook-id': ['evt_h', 'evt_other'] }),
    refused('missing_headers'),
    'repeated id header',
  );
  assert.deepEqual(verify({ ...headers, 'webhook-id': ['evt_h'] }), accepted);
  // Header names are case-insensitive, and fetch-style Headers objects work.
  assert.deepEqual(
    verify({
      'Webhook-Id': headers['webhook-id'],
      'WEBHOOK-TIMESTAMP': headers['webhook-timestamp'],
      'webhook-Signature': headers['webhook-signature'],
    }),
    accepted,
  );
  assert.deepEqual(
    verifySignature({ headers: new Headers({ ...headers }), body, secrets: [secret], nowSeconds: now }),
    accepted,
  );
  assert.deepEqual(
    verifySignature({
      headers: new Headers({ ...headers }),
      body: Buffer.from(body),
      secrets: [secret],
      nowSeconds: now,
    }),
    accepted,
  );
});

test('signing refuses ids that would make the signed content ambiguous or break the header', () => {
  const secret = generateEndpointSecret();
  for (const msgId of ['a.b', '', ' evt', 'evt\r\nx-injected: 1', 'évt', 'x'.repeat(257)]) {
    assert.throws(
      () => signPayload({ msgId, timestampSeconds: 1_700_000_000, body: '', secrets: [secret] }),
      /webhook id/,
      JSON.stringify(msgId),
    );
  }
  assert.throws(
    () => signPayload({ msgId: 'evt', timestampSeconds: 1_700_000_000, body: '', secrets: [] }),
    /no signing secret/,
  );
  assert.equal(
    signPayload({ msgId: 'evt_01J9Z-x_y', timestampSeconds: 0, body: '', secrets: [secret] }).split(' ').length,
    1,
  );
});

test('endpoint secrets are 32 CSPRNG bytes behind whsec_, never repeated', () => {
  const secrets = new Set(Array.from({ length: 200 }, generateEndpointSecret));
  assert.equal(secrets.size, 200);
  for (const secret of secrets) {
    assert.match(secret, /^whsec_[A-Za-z0-9+/]{43}=$/);
    assert.equal(Buffer.from(secret.slice(6), 'base64').length, 32);
  }
});
