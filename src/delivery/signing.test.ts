import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Webhook } from 'standardwebhooks';
import { buildWebhookHeaders, generateEndpointSecret, signPayload, verifySignature } from './signing.ts';

// The published vector (shared/provider-wire-formats.md §7). Its secret is assembled here from
// the documented plain bytes rather than written out, to keep secret-shaped strings out of the repo.
const VECTOR_SECRET = 'whsec_' + Buffer.from('0123456789abcdef0123456789abcdef').toString('base64');

test('the Standard Webhooks test vector', () => {
  assert.equal(signPayload({ msgId: 'msg_2KWPBgLlAfxdpx2AI54pPJ85f4W', timestampSeconds: 1674087231, body: '{"type":"payment.succeeded"}', secrets: [VECTOR_SECRET] }), 'v1,8BkJyaY2A2kXsJ+h9KPFyE8VcXWDoMw6KrXbaOoHIE8=');
});

test('the official standardwebhooks library accepts ours, and we accept its signatures', () => {
  const secret = generateEndpointSecret();
  const now = Math.floor(Date.now() / 1000);
  const body = JSON.stringify({ type: 'payment.succeeded', data: { id: 'pay_1' } });
  const headers = buildWebhookHeaders({ msgId: 'evt_abc', timestampSeconds: now, body, secrets: [secret] });
  assert.deepEqual(new Webhook(secret).verify(body, headers), JSON.parse(body));
  const theirs = new Webhook(secret).sign('evt_def', new Date(now * 1000), body);
  assert.deepEqual(verifySignature({ headers: { 'webhook-id': 'evt_def', 'webhook-timestamp': String(now), 'webhook-signature': theirs }, body, secrets: [secret], nowSeconds: now }), { ok: true });
});

test('rotation: two signatures, either secret verifies', () => {
  const [oldSecret, newSecret] = [generateEndpointSecret(), generateEndpointSecret()];
  const now = 1_700_000_000;
  const body = '{"x":1}';
  const headers = buildWebhookHeaders({ msgId: 'evt_r', timestampSeconds: now, body, secrets: [newSecret, oldSecret] });
  assert.equal(headers['webhook-signature'].split(' ').length, 2);
  for (const secret of [oldSecret, newSecret]) assert.deepEqual(verifySignature({ headers, body, secrets: [secret], nowSeconds: now }), { ok: true });
});

test('tampered body, wrong secret, stale or future timestamp, missing headers are refused', () => {
  const secret = generateEndpointSecret();
  const now = 1_700_000_000;
  const headers = buildWebhookHeaders({ msgId: 'evt_t', timestampSeconds: now, body: '{"a":1}', secrets: [secret] });
  assert.deepEqual(verifySignature({ headers, body: '{"a":2}', secrets: [secret], nowSeconds: now }), { ok: false, reason: 'no_matching_signature' });
  assert.deepEqual(verifySignature({ headers, body: '{"a":1}', secrets: [generateEndpointSecret()], nowSeconds: now }), { ok: false, reason: 'no_matching_signature' });
  assert.deepEqual(verifySignature({ headers, body: '{"a":1}', secrets: [secret], nowSeconds: now + 301 }), { ok: false, reason: 'timestamp_too_old' });
  assert.deepEqual(verifySignature({ headers, body: '{"a":1}', secrets: [secret], nowSeconds: now - 301 }), { ok: false, reason: 'timestamp_too_new' });
  assert.deepEqual(verifySignature({ headers: {}, body: '{"a":1}', secrets: [secret], nowSeconds: now }), { ok: false, reason: 'missing_headers' });
  assert.throws(() => signPayload({ msgId: 'a.b', timestampSeconds: now, body: '', secrets: [secret] }));
});

test('endpoint secrets are 32 CSPRNG bytes with the whsec_ prefix, never repeated', () => {
  const secrets = new Set(Array.from({ length: 100 }, generateEndpointSecret));
  assert.equal(secrets.size, 100);
  for (const s of secrets) assert.equal(Buffer.from(s.slice(6), 'base64').length, 32);
});
