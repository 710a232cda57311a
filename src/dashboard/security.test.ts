import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkSameOrigin, DASHBOARD_CSP, DASHBOARD_HEADERS } from './security.ts';

const ours = 'https://pay.merchant.example';
const req = (headers: Record<string, string>) => ({ headers });

test('same-origin requests pass; cross-site ones and ones that say nothing are refused', () => {
  assert.deepEqual(checkSameOrigin(req({ 'sec-fetch-site': 'same-origin' }), ours), { ok: true });
  assert.deepEqual(checkSameOrigin(req({ 'sec-fetch-site': 'cross-site', origin: ours }), ours), {
    ok: false,
    reason: 'cross_site',
  });
  assert.deepEqual(checkSameOrigin(req({ 'sec-fetch-site': 'same-site' }), ours), { ok: false, reason: 'cross_site' });
  assert.deepEqual(checkSameOrigin(req({ origin: ours }), ours), { ok: true });
  assert.deepEqual(checkSameOrigin(req({ origin: 'https://evil.example' }), ours), { ok: false, reason: 'cross_site' });
  assert.deepEqual(checkSameOrigin(req({ referer: `${ours}/dashboard/keys` }), ours), { ok: true });
  assert.deepEqual(checkSameOrigin(req({}), ours), { ok: false, reason: 'missing_origin' });
});

test('the policy forbids inline script and style, foreign sources and framing', () => {
  assert.doesNotMatch(DASHBOARD_CSP, /unsafe-inline|unsafe-eval|\*/);
  assert.match(DASHBOARD_CSP, /default-src 'none'/);
  assert.match(DASHBOARD_CSP, /frame-ancestors 'none'/);
  assert.equal(DASHBOARD_HEADERS['cache-control'], 'no-store');
});
