import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Stripe from 'stripe';
import { type ConnectHarness, startConnectHarness } from './connect-harness.ts';

describe('Stripe Connect simulator: transfers, payouts, idempotency', () => {
  let h: ConnectHarness;
  let n = 0;
  const ref = () => `po_ref_${process.pid}_${++n}`;
  before(async () => {
    h = await startConnectHarness();
  });
  after(async () => h.close());
  beforeEach(async () => {
    await h.reset();
  });

  test('the official stripe client: transfer to a connected account, then a payout on it (stripeAccount)', async () => {
    const acct = await h.account({ business_name: 'Kofi Stores' });
    const reference = ref();
    const transfer = await h.stripe.transfers.create(
      { amount: 12_345, currency: 'usd', destination: acct, transfer_group: reference, metadata: { reference } },
      { idempotencyKey: `${reference}:transfer` },
    );
    assert.match(transfer.id, /^tr_/);
    assert.equal(transfer.amount, 12_345);
    assert.equal(transfer.destination, acct);
    assert.equal(transfer.reversed, false);
    const balance = await h.stripe.balance.retrieve({}, { stripeAccount: acct });
    assert.deepEqual(
      balance.available.map((b) => [b.currency, b.amount]),
      [['usd', 12_345]],
    );
    const payout = await h.stripe.payouts.create(
      { amount: 12_345, currency: 'usd', metadata: { reference } },
      { stripeAccount: acct, idempotencyKey: `${reference}:payout` },
    );
    assert.match(payout.id, /^po_/);
    assert.equal(payout.status, 'pending');
    // Settles right after the answer (payoutCompletion: immediate): pending -> in_transit -> paid.
    const events = await h.webhooks(4);
    assert.deepEqual(
      events.map((w) => w.event.type),
      ['transfer.created', 'payout.created', 'payout.updated', 'payout.paid'],
    );
    const paid = events[3]!;
    // Connect events carry the connected account; the signature is Stripe's own (official verifier).
    const verified = h.stripe.webhooks.constructEvent(paid.body, paid.headers['stripe-signature']!, h.webhookSecret);
    assert.equal(verified.account, acct);
    assert.equal(events[0]!.event.account, undefined, 'a transfer is a platform event');
    const fetched = await h.stripe.payouts.retrieve(payout.id, {}, { stripeAccount: acct });
    assert.equal(fetched.status, 'paid');
    const listed = await h.stripe.payouts.list({ limit: 10 }, { stripeAccount: acct });
    assert.deepEqual(
      listed.data.map((p) => p.id),
      [payout.id],
    );
    const transfers = await h.stripe.transfers.list({ transfer_group: reference });
    assert.deepEqual(
      transfers.data.map((t) => t.id),
      [transfer.id],
    );
    assert.equal((await h.stripe.balance.retrieve({}, { stripeAccount: acct })).available[0]!.amount, 0);
    // Another account does not see the payout.
    const other = await h.account();
    await assert.rejects(h.stripe.payouts.retrieve(payout.id, {}, { stripeAccount: other }), /No such payout/);
    assert.deepEqual(
      (await h.ledger(reference)).map((r) => [r.kind, r.amountMinor, r.status]),
      [
        ['transfer', 12_345, 'created'],
        ['payout', 12_345, 'paid'],
      ],
    );
  });

  test('same key and parameters replays the first answer (Idempotent-Replayed); one transfer', async () => {
    const acct = await h.account();
    const form = { amount: '500', currency: 'usd', destination: acct, 'metadata[reference]': ref() };
    const first = await h.call('POST', '/v1/transfers', { form, key: 'k-1' });
    const again = await h.call('POST', '/v1/transfers', { form, key: 'k-1' });
    assert.equal(first.status, 200);
    assert.equal(again.status, 200);
    assert.equal(again.body.id, first.body.id);
    assert.equal(again.headers.get('idempotent-replayed'), 'true');
    assert.equal(first.headers.get('idempotent-replayed'), null);
    assert.equal((await h.ledger()).length, 1);
  });

  test('same key with other parameters is 400 idempotency_error (StripeIdempotencyError in the client)', async () => {
    const acct = await h.account();
    await h.stripe.transfers.create({ amount: 500, currency: 'usd', destination: acct }, { idempotencyKey: 'k-2' });
    await assert.rejects(
      h.stripe.transfers.create({ amount: 501, currency: 'usd', destination: acct }, { idempotencyKey: 'k-2' }),
      (error: unknown) =>
        error instanceof Stripe.errors.StripeIdempotencyError && /same parameters/.test(error.message),
    );
    // ...and on another endpoint.
    const other = await h.call('POST', '/v1/payouts', { form: { amount: '1', currency: 'usd' }, key: 'k-2' });
    assert.equal(other.status, 400);
    assert.equal(other.body.error.type, 'idempotency_error');
    assert.equal((await h.ledger()).length, 1);
  });

  test('an error raised while executing is saved: balance_insufficient replays even after funding', async () => {
    const acct = await h.account();
    await h.control('POST', '/balance', { currency: 'usd', amountMinor: 100 });
    const form = { amount: '500', currency: 'usd', destination: acct };
    const refused = await h.call('POST', '/v1/transfers', { form, key: 'k-3' });
    assert.equal(refused.status, 400);
    assert.equal(refused.body.error.code, 'balance_insufficient');
    await h.control('POST', '/balance', { currency: 'usd', amountMinor: 10_000 });
    const replay = await h.call('POST', '/v1/transfers', { form, key: 'k-3' });
    assert.equal(replay.status, 400, 'the cached refusal, as Stripe does for 24 h');
    assert.equal(replay.headers.get('idempotent-replayed'), 'true');
    const fresh = await h.call('POST', '/v1/transfers', { form, key: 'k-3b' });
    assert.equal(fresh.status, 200, 'a new key after a definite failure runs again');
  });

  test('refused parameters are not saved: the same key then works with good parameters', async () => {
    const acct = await h.account();
    const bad = await h.call('POST', '/v1/transfers', {
      form: { amount: 'ten', currency: 'usd', destination: acct },
      key: 'k-4',
    });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.code, 'parameter_invalid_integer');
    const unknown = await h.call('POST', '/v1/transfers', {
      form: { amount: '1', currency: 'usd', destination: acct, colour: 'red' },
      key: 'k-4',
    });
    assert.equal(unknown.body.error.code, 'parameter_unknown');
    const missing = await h.call('POST', '/v1/transfers', { form: { currency: 'usd', destination: acct }, key: 'k-4' });
    assert.equal(missing.body.error.code, 'parameter_missing');
    const good = await h.call('POST', '/v1/transfers', {
      form: { amount: '1', currency: 'usd', destination: acct },
      key: 'k-4',
    });
    assert.equal(good.status, 200);
    const stranger = await h.call('POST', '/v1/transfers', {
      form: { amount: '1', currency: 'usd', destination: 'acct_nobody' },
    });
    assert.equal(stranger.status, 400);
    assert.equal(stranger.body.error.param, 'destination');
  });

  test('keys expire after 24 hours: the same key then creates a second transfer', async () => {
    const acct = await h.account();
    const form = { amount: '700', currency: 'usd', destination: acct };
    const first = await h.call('POST', '/v1/transfers', { form, key: 'k-5' });
    // Well inside the 24 h (the wall clock also moves while the test runs under load).
    await h.control('POST', '/clock', { advanceSeconds: 86_000 });
    assert.equal((await h.call('POST', '/v1/transfers', { form, key: 'k-5' })).body.id, first.body.id);
    await h.control('POST', '/clock', { advanceSeconds: 400 });
    const later = await h.call('POST', '/v1/transfers', { form, key: 'k-5' });
    assert.notEqual(later.body.id, first.body.id, 'pruned: Stripe runs it again (payouts-research §2 #9)');
    assert.equal((await h.ledger()).length, 2);
  });

  test('keys are scoped to the account: the same key on two connected accounts makes two payouts', async () => {
    const a = await h.account();
    const b = await h.account();
    for (const acct of [a, b])
      await h.control('POST', '/balance', { account: acct, currency: 'usd', amountMinor: 1000 });
    const form = { amount: '100', currency: 'usd' };
    const one = await h.call('POST', '/v1/payouts', { form, key: 'k-6', account: a });
    const two = await h.call('POST', '/v1/payouts', { form, key: 'k-6', account: b });
    assert.equal(one.status, 200);
    assert.equal(two.status, 200);
    assert.notEqual(one.body.id, two.body.id);
    const unknown = await h.call('POST', '/v1/payouts', { form, account: 'acct_nobody1234' });
    assert.equal(unknown.status, 403);
  });

  test('payout refusals: insufficient balance on the connected account, payouts disabled', async () => {
    const acct = await h.account();
    const poor = await h.call('POST', '/v1/payouts', { form: { amount: '100', currency: 'usd' }, account: acct });
    assert.equal(poor.status, 400);
    assert.equal(poor.body.error.code, 'balance_insufficient');
    const disabled = await h.account({ payouts_enabled: false });
    await h.control('POST', '/balance', { account: disabled, currency: 'usd', amountMinor: 1000 });
    const off = await h.call('POST', '/v1/payouts', { form: { amount: '100', currency: 'usd' }, account: disabled });
    assert.equal(off.body.error.code, 'payouts_not_allowed');
    assert.equal((await h.ledger()).length, 0);
  });

  test('a bank account ending in 0000 fails the payout and returns the money; cancel while pending', async () => {
    const acct = await h.account({ account_number: '000123450000' });
    await h.control('POST', '/balance', { account: acct, currency: 'usd', amountMinor: 1000 });
    const payout = await h.call('POST', '/v1/payouts', { form: { amount: '400', currency: 'usd' }, account: acct });
    const events = await h.webhooks(3);
    assert.equal(events.at(-1)!.event.type, 'payout.failed');
    assert.equal(events.at(-1)!.event.data.object.failure_code, 'account_closed');
    const failed = await h.call('GET', `/v1/payouts/${payout.body.id}`, { account: acct });
    assert.equal(failed.body.status, 'failed');
    assert.match(failed.body.failure_balance_transaction, /^txn_/);
    assert.equal((await h.call('GET', '/v1/balance', { account: acct })).body.available[0].amount, 1000);

    await h.control('PUT', '/config', { payoutCompletion: 'manual' });
    const pending = await h.call('POST', '/v1/payouts', { form: { amount: '300', currency: 'usd' }, account: acct });
    const canceled = await h.call('POST', `/v1/payouts/${pending.body.id}/cancel`, { account: acct });
    assert.equal(canceled.body.status, 'canceled');
    const again = await h.call('POST', `/v1/payouts/${pending.body.id}/cancel`, { account: acct });
    assert.equal(again.status, 400);
    assert.equal((await h.call('GET', '/v1/balance', { account: acct })).body.available[0].amount, 1000);
    await h.control('PUT', '/config', { payoutCompletion: 'immediate' });
  });

  test('a paid payout can later fail (the reversal Stripe warns about): money back, payout.failed', async () => {
    const acct = await h.account();
    await h.control('POST', '/balance', { account: acct, currency: 'usd', amountMinor: 1000 });
    const payout = await h.call('POST', '/v1/payouts', { form: { amount: '1000', currency: 'usd' }, account: acct });
    await h.webhooks(3);
    const late = await h.control('POST', `/payouts/${payout.body.id}/complete`, {
      status: 'failed',
      failure_code: 'account_closed',
    });
    assert.deepEqual(late.body.history, ['pending', 'in_transit', 'paid', 'failed']);
    const events = await h.webhooks(4);
    assert.equal(events[3]!.event.type, 'payout.failed');
    assert.deepEqual(events[3]!.event.data.previous_attributes, { status: 'paid' });
    assert.equal((await h.call('GET', '/v1/balance', { account: acct })).body.available[0].amount, 1000);
    const bad = await h.control('POST', `/payouts/${payout.body.id}/complete`, { status: 'paid' });
    assert.equal(bad.status, 409, 'a failed payout stays failed');
  });

  test('transfer reversals move the money back and send transfer.reversed', async () => {
    const acct = await h.account();
    const transfer = await h.stripe.transfers.create({ amount: 900, currency: 'usd', destination: acct });
    const reversal = await h.stripe.transfers.createReversal(transfer.id, { amount: 400 });
    assert.equal(reversal.amount, 400);
    assert.equal((await h.stripe.transfers.retrieve(transfer.id)).amount_reversed, 400);
    await h.stripe.transfers.createReversal(transfer.id);
    const done = await h.stripe.transfers.retrieve(transfer.id);
    assert.equal(done.reversed, true);
    await assert.rejects(h.stripe.transfers.createReversal(transfer.id), /already been reversed/);
    assert.equal((await h.call('GET', '/v1/balance', { account: acct })).body.available[0].amount, 0);
    const events = await h.webhooks(3);
    assert.deepEqual(
      events.map((e) => e.event.type),
      ['transfer.created', 'transfer.reversed', 'transfer.reversed'],
    );
    assert.equal((await h.ledger())[0]!.status, 'reversed');
  });

  test('lists: newest first, cursor paging, unknown filters refused (metadata is no filter)', async () => {
    const acct = await h.account();
    const ids: string[] = [];
    for (let i = 0; i < 3; i++)
      ids.push(
        (await h.call('POST', '/v1/transfers', { form: { amount: '1', currency: 'usd', destination: acct } })).body.id,
      );
    const page = await h.call('GET', '/v1/transfers?limit=2');
    assert.deepEqual(
      page.body.data.map((t: { id: string }) => t.id),
      [ids[2], ids[1]],
    );
    assert.equal(page.body.has_more, true);
    const next = await h.call('GET', `/v1/transfers?limit=2&starting_after=${ids[1]}`);
    assert.deepEqual(
      next.body.data.map((t: { id: string }) => t.id),
      [ids[0]],
    );
    const refused = await h.call('GET', '/v1/transfers?metadata[reference]=x');
    assert.equal(refused.status, 400);
    assert.equal(refused.body.error.code, 'parameter_unknown');
    const auto: string[] = [];
    for await (const t of h.stripe.transfers.list({ limit: 1, destination: acct })) auto.push(t.id);
    assert.deepEqual(auto, [...ids].reverse(), 'the official client pages with starting_after');
  });

  test('accounts: the platform creates one (POST /v1/accounts) and retrieves it; a stranger is 403', async () => {
    const created = await h.stripe.accounts.create({
      type: 'custom',
      country: 'GB',
      default_currency: 'gbp',
      business_profile: { name: 'Ama Ltd' },
    });
    const fetched = await h.stripe.accounts.retrieve(created.id);
    assert.equal(fetched.country, 'GB');
    assert.equal(fetched.payouts_enabled, true);
    assert.equal(fetched.business_profile?.name, 'Ama Ltd');
    assert.equal(fetched.external_accounts?.data[0]?.object, 'bank_account');
    await assert.rejects(h.stripe.accounts.retrieve('acct_1nobody000000'), /does not have access/);
  });
});
