import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { PaymentRow } from '../../db/schema.ts';
import { layout } from '../layout.ts';
import { paymentDetailPage, paymentsPage } from './payments.ts';
import { auditPage } from './audit.ts';

const hostile = ['<script>window.pwned=1</script>', '"><img src=x onerror="window.pwned=1">'];
const payment: PaymentRow = {
  id: 'pay_0123456789abcdefghijkl',
  mode: 'test',
  reference: 'order-1',
  amount_minor: 150005,
  currency: 'NGN',
  status: 'succeeded',
  status_reason: 'verified_with_provider',
  provider: 'flutterwave',
  provider_tx_id: '285959875',
  checkout_url: null,
  customer_email: 'ada@example.com',
  customer_name: hostile[1]!,
  customer_phone: null,
  redirect_url: 'https://m.example/r',
  description: hostile[0]!,
  metadata_json: JSON.stringify({ note: hostile[0], [hostile[1]!]: hostile[1] }),
  created_at: 1_800_000_000_000,
  updated_at: 1_800_000_000_000,
  expires_at: 1_800_086_400_000,
  next_reconcile_at: null,
  reconcile_step: 0,
  version: 2,
  customer_id: null,
  customer_email_index: null,
  client_secret_hash: null,
  provider_fee_minor: null,
  checkout_claimed_until: null,
  checkout_expires_at: null,
};

function assertInert(out: string) {
  assert.ok(!out.includes('<script>'), 'no script element from data');
  assert.ok(!out.includes('<img'), 'no img element from data');
  assert.ok(out.includes('&lt;script&gt;window.pwned=1&lt;/script&gt;'), 'shown as text');
  assert.ok(out.includes('&quot;&gt;&lt;img src=x onerror=&quot;window.pwned=1&quot;&gt;'), 'shown as text');
}

test('payment pages render hostile customer names, descriptions and metadata as text', () => {
  const timeline = { payment, webhooks: [], verifications: [], events: [], deliveries: [], audit: [] };
  assertInert(paymentDetailPage(timeline).value);
  assertInert(paymentsPage([{ ...payment, reference: 'ok', description: null }], hostile[0]).value);
  assert.match(paymentDetailPage(timeline).value, /NGN 1500\.05/);
});

test('the audit page and the layout escape what they show', () => {
  const out = auditPage(
    [
      {
        id: 'aud_x',
        mode: 'test',
        actor_type: 'operator',
        actor_id: hostile[1]!,
        action: 'payment.create',
        object_type: 'payment',
        object_id: 'pay_x',
        request_id: 'req_x',
        ip: '127.0.0.1',
        user_agent: hostile[0]!,
        result: 'success',
        details_json: JSON.stringify({ v: hostile[0] }),
        created_at: 1,
        chain: 'test',
        seq: 1,
        prev_hash: '0'.repeat(64),
        hash: 'f'.repeat(64),
        position: 1,
      },
    ],
    { action: hostile[1]! },
  ).value;
  assert.ok(!out.includes('<img') && !out.includes('<script>'));
  const page = layout(
    {
      title: hostile[0]!,
      active: 'payments',
      operator: { email: hostile[1]!, role: 'owner' },
      mode: 'test',
      csrfToken: 'tok"en',
    },
    paymentsPage([], undefined),
  ).value;
  assert.ok(!page.includes('<script>') && !page.includes('<img'));
  assert.match(page, /name="csrf_token" value="tok&quot;en"/);
  assert.match(page, /<form method="post" action="\/dashboard\/logout"/, 'logout on every page');
  assert.doesNotMatch(page, /style=|<style|onclick|javascript:/, 'nothing a strict CSP would block');
});
