// The Stripe Connect payout adapter against the simulator (real HTTP, real idempotency), and its
// pure status and answer tables. Each fault case checks the simulator's ledger: one transfer and
// one payout per reference, whatever happened to the answers.
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { systemClock } from '../../clock.ts';
import { Secret } from '../../crypto/secret.ts';
import { createOutboundHttp } from '../../http/outbound.ts';
import { createLogger } from '../../log.ts';
import { type ConnectHarness, startConnectHarness } from '../../simulators/stripe/connect-harness.ts';
import { REVERSAL_DELAY_SECONDS } from '../../simulators/stripe/connect-lifecycle.ts';
import type { CreateTransferRequest, PayoutProvider } from '../payout-types.ts';
import { createStripePayouts } from './payout-flow.ts';
import { classifyCreateAnswer, payoutStatus } from './payout-transformers.ts';
import { parseStripeWebhook } from './webhook.ts';

describe('Stripe payout tables', () => {
  test('payout statuses: pending unless Stripe says; failed after succeeded is a reversal', () => {
    assert.equal(payoutStatus('pending', undefined), 'pending');
    assert.equal(payoutStatus('in_transit', undefined), 'processing');
    assert.equal(payoutStatus('paid', undefined), 'succeeded');
    assert.equal(payoutStatus('failed', undefined), 'failed');
    assert.equal(payoutStatus('canceled', 'processing'), 'failed');
    assert.equal(payoutStatus('failed', 'succeeded'), 'reversed');
    assert.equal(payoutStatus('PAID', undefined), 'unknown');
    assert.equal(payoutStatus(undefined, undefined), 'unknown');
  });

  test('create answers: definite only for a 200 object or an invalid_request_error Stripe raised', () => {
    const error = (type: string, code?: string) => JSON.stringify({ error: { type, code, message: 'm' } });
    const c = (status: number, body: string, headers = {}) =>
      classifyCreateAnswer(status, headers, body, 'payout').kind;
    assert.equal(c(200, JSON.stringify({ object: 'payout', id: 'po_1' })), 'object');
    assert.equal(c(200, '{"object":"transfer","id":"tr_1"}'), 'indefinite', 'the wrong object is no answer');
    assert.equal(c(400, error('invalid_request_error', 'balance_insufficient')), 'refused');
    assert.equal(c(400, error('idempotency_error')), 'indefinite', 'the key was used for something else');
    assert.equal(c(409, error('invalid_request_error', 'idempotency_key_in_use')), 'indefinite');
    assert.equal(c(400, error('invalid_request_error'), { 'stripe-should-retry': 'true' }), 'indefinite');
    assert.equal(c(500, error('api_error')), 'indefinite', 'a saved 500: the money may have moved');
    assert.equal(c(502, '<html>bad gateway</html>'), 'indefinite');
    assert.equal(c(401, error('invalid_request_error')), 'indefinite');
    const limited = classifyCreateAnswer(
      429,
      { 'retry-after': '2' },
      error('invalid_request_error', 'rate_limit'),
      'payout',
    );
    assert.deepEqual(limited.kind === 'indefinite' && [limited.notSent, limited.retryAfterMs], [true, 2000]);
  });
});

describe('Stripe payout adapter against the Connect simulator', () => {
  let h: ConnectHarness;
  let adapter: PayoutProvider;
  let acct: string;
  let n = 0;
  const http = createOutboundHttp({
    provider: 'stripe',
    limiter: undefined,
    clock: systemClock,
    logger: createLogger('silent'),
    defaultTimeoutMs: 400,
  });
  const request = (overrides: Partial<CreateTransferRequest> = {}): CreateTransferRequest => ({
    payoutId: `pout_${++n}`,
    reference: `pwo-${process.pid}-stripe-${String(n).padStart(8, '0')}`,
    amountMinor: 2500,
    currency: 'USD',
    narration: 'Seller payout',
    destination: { type: 'connected_account', country: 'US', accountId: acct, accountName: 'Kofi Stores' },
    recipient: undefined,
    ...overrides,
  });
  const rows = async (reference: string, kind: string) =>
    (await h.ledger(reference)).filter((r) => r.kind === kind).map((r) => r.status);
  const fault = (body: Record<string, unknown>) => h.control('POST', '/faults', body);

  before(async () => {
    h = await startConnectHarness();
    adapter = createStripePayouts({ baseUrl: h.sim.url, secretKey: new Secret(h.secretKey), http });
  });
  after(async () => h.close());
  beforeEach(async () => {
    await h.reset();
    acct = await h.account({ business_name: 'Kofi Stores' });
  });

  test('a payout is a transfer then a payout on the account; getTransfer follows it to paid', async () => {
    const r = request();
    const created = await adapter.createTransfer(r);
    assert.equal(created.kind, 'accepted');
    assert.ok(created.kind === 'accepted');
    assert.equal(created.transfer.status, 'pending');
    assert.equal(created.transfer.reference, r.reference);
    assert.equal(created.transfer.amountMinor, 2500);
    assert.equal(created.transfer.currency, 'USD');
    assert.match(created.transfer.providerTransferId ?? '', /^po_/);
    await h.webhooks(4);
    const found = await adapter.getTransfer({ reference: r.reference, providerTransferId: null });
    assert.deepEqual(found.kind === 'ok' && [found.value.status, found.value.providerStatus], [
      'succeeded',
      'payout:paid',
    ]);
    assert.deepEqual(await rows(r.reference, 'transfer'), ['created']);
    assert.deepEqual(await rows(r.reference, 'payout'), ['paid']);
    // Calling again (a re-submission) replays: still one of each.
    const again = await adapter.createTransfer(r);
    assert.equal(
      again.kind === 'accepted' && again.transfer.providerTransferId,
      found.kind === 'ok' && found.value.providerTransferId,
    );
    assert.equal((await h.ledger(r.reference)).length, 2);
    const balances = await adapter.getBalances();
    assert.ok(balances.kind === 'ok');
    assert.equal(balances.value.find((b) => b.currency === 'USD')?.availableMinor, 100_000_000 - 2500);
  });

  test('refused before anything is sent: other destinations, currencies, amounts', async () => {
    const bank = await adapter.createTransfer(
      request({
        destination: { type: 'bank_account', country: 'US', bankCode: '1', accountNumber: '1', accountName: 'x' },
      }),
    );
    assert.deepEqual(bank.kind === 'rejected' && bank.reason, 'destination_not_supported');
    const ngn = await adapter.createTransfer(request({ currency: 'NGN' }));
    assert.deepEqual(ngn.kind === 'rejected' && ngn.reason, 'currency_not_supported');
    const fraction = await adapter.createTransfer(request({ amountMinor: 10.5 }));
    assert.deepEqual(fraction.kind === 'rejected' && fraction.reason, 'amount_not_representable');
    assert.equal((await h.ledger()).length, 0);
  });

  test('lost_answer_500 on the transfer (a saved 500): indefinite, not_found, then the re-submission finds the transfer', async () => {
    const r = request();
    await fault({ fault: 'lost_answer_500', reference: `transfer:${r.reference}` });
    const first = await adapter.createTransfer(r);
    assert.equal(first.kind, 'indefinite');
    assert.deepEqual(await rows(r.reference, 'transfer'), ['created'], 'the money moved anyway');
    const query = await adapter.getTransfer({ reference: r.reference, providerTransferId: null });
    assert.equal(query.kind, 'not_found', 'the pair is incomplete: the payout step never ran');
    // The key would replay the 500 forever; the transfer_group lookup finds the transfer instead.
    const resubmitted = await adapter.createTransfer(r);
    assert.equal(resubmitted.kind, 'accepted');
    assert.deepEqual(await rows(r.reference, 'transfer'), ['created']);
    assert.equal((await rows(r.reference, 'payout')).length, 1);
  });

  test('answers lost on the payout (timeout, reset), a drop, a 409: the re-submission replays; one payout', async () => {
    for (const name of ['lost_answer_timeout', 'lost_answer_reset', 'drop_request', 'duplicate_reference']) {
      const r = request();
      await fault({ fault: name, reference: `payout:${r.reference}` });
      const first = await adapter.createTransfer(r);
      assert.equal(first.kind, 'indefinite', name);
      const again = await adapter.createTransfer(r);
      assert.equal(again.kind, 'accepted', name);
      assert.equal((await rows(r.reference, 'transfer')).length, 1, name);
      assert.equal((await rows(r.reference, 'payout')).length, 1, name);
    }
  });

  test('keys pruned after 24 h: a late re-submission finds both objects instead of paying again', async () => {
    const r = request();
    const first = await adapter.createTransfer(r);
    await h.webhooks(4);
    await h.control('POST', '/clock', { advanceSeconds: 90_000 });
    const late = await adapter.createTransfer(r);
    assert.equal(
      late.kind === 'accepted' && late.transfer.providerTransferId,
      first.kind === 'accepted' && first.transfer.providerTransferId,
    );
    assert.equal((await h.ledger(r.reference)).length, 2);
  });

  test('a refused payout step reverses the transfer before saying rejected; getTransfer then says failed', async () => {
    const r = request();
    await fault({ fault: 'insufficient_balance', reference: `payout:${r.reference}` });
    const refused = await adapter.createTransfer(r);
    assert.deepEqual(refused.kind === 'rejected' && refused.reason, 'insufficient_funds');
    assert.deepEqual(await rows(r.reference, 'transfer'), ['reversed']);
    assert.equal((await h.call('GET', '/v1/balance', { account: acct })).body.available[0].amount, 0);
    const query = await adapter.getTransfer({ reference: r.reference, providerTransferId: null });
    assert.deepEqual(query.kind === 'ok' && [query.value.status, query.value.providerStatus], [
      'failed',
      'transfer:reversed',
    ]);
    // The platform itself short of money: a definite refusal, nothing moved.
    const poor = request();
    await fault({ fault: 'insufficient_balance', reference: `transfer:${poor.reference}` });
    const none = await adapter.createTransfer(poor);
    assert.deepEqual(none.kind === 'rejected' && none.reason, 'insufficient_funds');
    assert.equal((await h.ledger(poor.reference)).length, 0);
  });

  test('paid then failed: reversed once the core has seen it succeed; failed before it was paid', async () => {
    const r = request();
    await fault({ fault: 'reversal_after_success', reference: r.reference });
    const created = await adapter.createTransfer(r);
    assert.ok(created.kind === 'accepted');
    await h.webhooks(4);
    const paid = await adapter.getTransfer({
      reference: r.reference,
      providerTransferId: created.transfer.providerTransferId ?? null,
    });
    assert.equal(paid.kind === 'ok' && paid.value.status, 'succeeded');
    // Stripe fails such a payout later, at the bank: half a day on the simulator's Connect clock.
    await h.control('POST', '/clock', { advanceSeconds: REVERSAL_DELAY_SECONDS });
    await h.webhooks(5);
    const later = await adapter.getTransfer({
      reference: r.reference,
      providerTransferId: created.transfer.providerTransferId ?? null,
      lastStatus: 'succeeded',
    });
    assert.deepEqual(later.kind === 'ok' && [later.value.status, later.value.failureReason], [
      'reversed',
      'invalid_account',
    ]);

    await h.control('PUT', '/config', { payoutCompletion: 'manual' });
    const early = request();
    await adapter.createTransfer(early);
    await h.control('POST', `/payouts/${early.reference}/complete`, {
      status: 'failed',
      failure_code: 'insufficient_funds',
    });
    const failed = await adapter.getTransfer({
      reference: early.reference,
      providerTransferId: null,
      lastStatus: 'pending',
    });
    assert.deepEqual(failed.kind === 'ok' && [failed.value.status, failed.value.failureReason], [
      'failed',
      'insufficient_funds',
    ]);
    await h.control('PUT', '/config', { payoutCompletion: 'immediate' });
  });

  test('queries: unknown reference is not_found; not_found_after_create, 429 and 5xx are not answers', async () => {
    assert.equal(
      (await adapter.getTransfer({ reference: 'pwo-nothing-here-000000', providerTransferId: null })).kind,
      'not_found',
    );
    const r = request();
    await adapter.createTransfer(r);
    await fault({ fault: 'http_429', value: 4 });
    const limited = await adapter.getTransfer({ reference: r.reference, providerTransferId: null });
    assert.deepEqual(limited.kind === 'indefinite' && limited.retryAfterMs, 4000);
    await fault({ fault: 'http_503' });
    assert.equal((await adapter.getTransfer({ reference: r.reference, providerTransferId: null })).kind, 'indefinite');
    const hidden = request();
    await fault({ fault: 'not_found_after_create', reference: `payout:${hidden.reference}`, value: 1 });
    await adapter.createTransfer(hidden);
    assert.equal(
      (await adapter.getTransfer({ reference: hidden.reference, providerTransferId: null })).kind,
      'not_found',
    );
    assert.equal((await adapter.getTransfer({ reference: hidden.reference, providerTransferId: null })).kind, 'ok');
  });

  test('a connected account is looked up (named, payouts enabled); a stranger is not_found', async () => {
    const found = await adapter.lookupConnectedAccount?.(acct);
    assert.deepEqual(found, {
      kind: 'ok',
      value: { accountId: acct, accountName: 'Kofi Stores', country: 'US', payoutsEnabled: true },
    });
    const off = await h.account({ payouts_enabled: false });
    const disabled = await adapter.lookupConnectedAccount?.(off);
    assert.equal(disabled?.kind === 'ok' && disabled.value.payoutsEnabled, false);
    assert.equal((await adapter.lookupConnectedAccount?.('acct_1nobody00000000'))?.kind, 'not_found');
    assert.equal((await adapter.lookupConnectedAccount?.('ba_123'))?.kind, 'not_found');
  });

  test('the simulator signed payout and transfer events parse into hints naming our reference', async () => {
    const r = request();
    const created = await adapter.createTransfer(r);
    // Only this payout's events (an earlier test's late delivery may land in the log too).
    const ours = async () =>
      (await h.control('GET', '/webhooks')).body
        .map((e: { body: string }) => parseStripeWebhook(Buffer.from(e.body)))
        .filter((p: ReturnType<typeof parseStripeWebhook>) => p.ok && p.event.transfer?.reference === r.reference);
    for (let i = 0; i < 200 && (await ours()).length < 4; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    const hints = (await ours()).map((parsed: ReturnType<typeof parseStripeWebhook>) => {
      assert.ok(parsed.ok);
      return [parsed.event.eventType, parsed.event.transfer?.reference, parsed.event.transfer?.providerTransferId];
    });
    const payoutId = created.kind === 'accepted' ? created.transfer.providerTransferId : undefined;
    assert.deepEqual(hints, [
      ['transfer.created', r.reference, undefined],
      ['payout.created', r.reference, payoutId],
      ['payout.updated', r.reference, payoutId],
      ['payout.paid', r.reference, payoutId],
    ]);
  });
});
