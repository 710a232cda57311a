// The payout faults of issue 9 §3 on Stripe Connect, each with the ledger checked: exactly one
// transfer (and payout) per reference, whatever the fault did to the answer.
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { type ConnectHarness, startConnectHarness } from './connect-harness.ts';
import { REVERSAL_DELAY_SECONDS } from './connect-lifecycle.ts';

describe('Stripe Connect simulator: payout faults', () => {
  let h: ConnectHarness;
  let acct: string;
  let n = 0;
  const ref = () => `ref_${process.pid}_${++n}`;
  const transferForm = (reference: string, amount = '250') => ({
    amount,
    currency: 'usd',
    destination: acct,
    transfer_group: reference,
    'metadata[reference]': reference,
  });
  const payoutForm = (reference: string, amount = '250') => ({
    amount,
    currency: 'usd',
    'metadata[reference]': reference,
  });
  const fault = (body: Record<string, unknown>) => h.control('POST', '/faults', body);
  const transfers = async (reference: string) => (await h.ledger(reference)).filter((r) => r.kind === 'transfer');

  before(async () => {
    h = await startConnectHarness();
  });
  after(async () => h.close());
  beforeEach(async () => {
    await h.reset();
    acct = await h.account();
    await h.control('POST', '/balance', { account: acct, currency: 'usd', amountMinor: 10_000 });
  });

  test('drop_request: the connection resets, nothing exists; the retry with the key creates it once', async () => {
    const reference = ref();
    await fault({ fault: 'drop_request', reference });
    await assert.rejects(h.call('POST', '/v1/transfers', { form: transferForm(reference), key: `${reference}:t` }));
    assert.equal((await transfers(reference)).length, 0);
    const retry = await h.call('POST', '/v1/transfers', { form: transferForm(reference), key: `${reference}:t` });
    assert.equal(retry.status, 200);
    assert.equal(retry.headers.get('idempotent-replayed'), null);
    assert.equal((await transfers(reference)).length, 1);
  });

  test('lost_answer_timeout and lost_answer_reset: processed, no answer; the key replays the transfer', async () => {
    for (const name of ['lost_answer_timeout', 'lost_answer_reset']) {
      const reference = ref();
      await fault({ fault: name, reference });
      await assert.rejects(
        h.call('POST', '/v1/transfers', { form: transferForm(reference), key: `${reference}:t`, timeoutMs: 300 }),
      );
      const [row] = await transfers(reference);
      assert.ok(row, `${name}: the transfer exists`);
      const retry = await h.call('POST', '/v1/transfers', { form: transferForm(reference), key: `${reference}:t` });
      assert.equal(retry.body.id, row.id);
      assert.equal(retry.headers.get('idempotent-replayed'), 'true');
      assert.equal((await transfers(reference)).length, 1, name);
    }
  });

  test('lost_answer_500: processed, a 500 saved under the key (replayed); the transfer_group list finds it', async () => {
    const reference = ref();
    await fault({ fault: 'lost_answer_500', reference });
    const first = await h.call('POST', '/v1/transfers', { form: transferForm(reference), key: `${reference}:t` });
    assert.equal(first.status, 500);
    assert.equal(first.body.error.type, 'api_error');
    const replay = await h.call('POST', '/v1/transfers', { form: transferForm(reference), key: `${reference}:t` });
    assert.equal(replay.status, 500, 'Stripe replays a saved 500');
    assert.equal(replay.headers.get('idempotent-replayed'), 'true');
    const listed = await h.call('GET', `/v1/transfers?transfer_group=${reference}`);
    assert.equal(listed.body.data.length, 1);
    assert.equal((await transfers(reference)).length, 1);
  });

  test('delay: slower than the client, processed anyway', async () => {
    const reference = ref();
    await fault({ fault: 'delay', reference, value: 400 });
    await assert.rejects(
      h.call('POST', '/v1/transfers', { form: transferForm(reference), key: `${reference}:t`, timeoutMs: 100 }),
    );
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal((await transfers(reference)).length, 1);
  });

  test('http_429 carries Retry-After and processes nothing', async () => {
    const reference = ref();
    await fault({ fault: 'http_429', reference, value: 3 });
    const limited = await h.call('POST', '/v1/transfers', { form: transferForm(reference), key: `${reference}:t` });
    assert.equal(limited.status, 429);
    assert.equal(limited.headers.get('retry-after'), '3');
    assert.equal((await transfers(reference)).length, 0);
  });

  test('duplicate_reference: 409 idempotency_key_in_use, the transfer exists, the retry replays it', async () => {
    const reference = ref();
    await fault({ fault: 'duplicate_reference', reference });
    const refused = await h.call('POST', '/v1/transfers', { form: transferForm(reference), key: `${reference}:t` });
    assert.equal(refused.status, 409);
    assert.equal(refused.body.error.code, 'idempotency_key_in_use');
    const retry = await h.call('POST', '/v1/transfers', { form: transferForm(reference), key: `${reference}:t` });
    assert.equal(retry.status, 200);
    assert.equal((await transfers(reference)).length, 1);
  });

  test('not_found_after_create: the next `value` lookups miss the payout, then it is there', async () => {
    const reference = ref();
    await fault({ fault: 'not_found_after_create', reference, value: 2 });
    const created = await h.call('POST', '/v1/payouts', {
      form: payoutForm(reference),
      key: `${reference}:p`,
      account: acct,
    });
    assert.equal((await h.call('GET', `/v1/payouts/${created.body.id}`, { account: acct })).status, 404);
    assert.equal((await h.call('GET', '/v1/payouts', { account: acct })).body.data.length, 0);
    assert.equal((await h.call('GET', `/v1/payouts/${created.body.id}`, { account: acct })).status, 200);
  });

  test('stuck_pending: the payout stays pending until settled through the control API', async () => {
    const reference = ref();
    await fault({ fault: 'stuck_pending', reference });
    const created = await h.call('POST', '/v1/payouts', { form: payoutForm(reference), account: acct });
    await h.webhooks(1);
    assert.equal((await h.call('GET', `/v1/payouts/${created.body.id}`, { account: acct })).body.status, 'pending');
    const settled = await h.control('POST', `/payouts/${reference}/complete`, { status: 'paid' });
    assert.equal(settled.body.status, 'paid');
  });

  test('reversal_after_success: paid, still paid on lookups until half a day has passed, then failed (money back)', async () => {
    const reference = ref();
    await fault({ fault: 'reversal_after_success', reference });
    const created = await h.call('POST', '/v1/payouts', { form: payoutForm(reference), account: acct });
    await h.webhooks(3);
    // Several look-ups in a row (one check of the gateway may make two) all see it paid.
    for (let i = 0; i < 3; i += 1)
      assert.equal((await h.call('GET', `/v1/payouts/${created.body.id}`, { account: acct })).body.status, 'paid');
    await h.control('POST', '/clock', { advanceSeconds: REVERSAL_DELAY_SECONDS - 60 });
    assert.equal((await h.call('GET', `/v1/payouts/${created.body.id}`, { account: acct })).body.status, 'paid');
    await h.control('POST', '/clock', { advanceSeconds: 60 });
    const events = await h.webhooks(4);
    assert.equal(events[3]!.event.type, 'payout.failed', 'the failure is announced when it happens');
    const later = await h.call('GET', `/v1/payouts/${created.body.id}`, { account: acct });
    assert.equal(later.body.status, 'failed');
    assert.equal(later.body.failure_code, 'account_closed');
    assert.equal((await h.call('GET', '/v1/balance', { account: acct })).body.available[0].amount, 10_000);
  });

  test('webhook_before_answer: payout.paid has been delivered when the create answer arrives', async () => {
    const reference = ref();
    await fault({ fault: 'webhook_before_answer', reference });
    const created = await h.call('POST', '/v1/payouts', { form: payoutForm(reference), account: acct });
    assert.equal(created.body.status, 'pending', 'the answer says what was true when it was made');
    const types = h.received.map((r) => JSON.parse(r.body).type);
    assert.deepEqual(types.slice(-3), ['payout.created', 'payout.updated', 'payout.paid']);
  });

  test('payout webhooks: duplicate_webhook, out_of_order (stale in_transit after paid), no_webhook', async () => {
    const dup = ref();
    await fault({ fault: 'duplicate_webhook', reference: dup, value: 3 });
    await h.call('POST', '/v1/payouts', { form: payoutForm(dup, '10'), account: acct });
    const afterDup = await h.webhooks(5);
    const paid = afterDup.filter((w) => w.event.type === 'payout.paid');
    assert.equal(paid.length, 3);
    assert.equal(new Set(paid.map((w) => w.event.id)).size, 1, 'the same event, three times');

    const late = ref();
    await fault({ fault: 'out_of_order', reference: late });
    await h.call('POST', '/v1/payouts', { form: payoutForm(late, '10'), account: acct });
    const afterLate = await h.webhooks(9);
    assert.deepEqual(
      afterLate.slice(5).map((w) => [w.event.type, w.event.data.object.status]),
      [
        ['payout.created', 'pending'],
        ['payout.updated', 'in_transit'],
        ['payout.paid', 'paid'],
        ['payout.updated', 'in_transit'],
      ],
    );

    const silent = ref();
    await fault({ fault: 'no_webhook', reference: silent });
    await h.call('POST', '/v1/payouts', { form: payoutForm(silent, '10'), account: acct });
    const afterSilent = await h.webhooks(11);
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal((await h.control('GET', '/webhooks')).body.length, 11, 'created and in_transit only');
    assert.deepEqual(
      afterSilent.slice(9).map((w) => w.event.type),
      ['payout.created', 'payout.updated'],
    );
  });

  test('insufficient_balance: a definite refusal, nothing moved; payout:REF aims at the payout only', async () => {
    const reference = ref();
    await fault({ fault: 'insufficient_balance', reference: `payout:${reference}` });
    const transfer = await h.call('POST', '/v1/transfers', { form: transferForm(reference), key: `${reference}:t` });
    assert.equal(transfer.status, 200, 'the transfer is not aimed at');
    const payout = await h.call('POST', '/v1/payouts', {
      form: payoutForm(reference),
      key: `${reference}:p`,
      account: acct,
    });
    assert.equal(payout.status, 400);
    assert.equal(payout.body.error.code, 'balance_insufficient');
    assert.deepEqual(
      (await h.ledger(reference)).map((r) => r.kind),
      ['transfer'],
    );
  });
});
