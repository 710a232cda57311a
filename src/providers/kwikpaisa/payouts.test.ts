// The KwikPaisa payout adapter: its pure tables, and the adapter against the simulator (real
// signed HTTP). Each fault case checks the simulator's ledger: one payout per payout_order_id.
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { systemClock } from '../../clock.ts';
import { Secret } from '../../crypto/secret.ts';
import { createOutboundHttp } from '../../http/outbound.ts';
import { createLogger } from '../../log.ts';
import { startKwikPaisaSimulator } from '../../simulators/kwikpaisa/simulator.ts';
import type { CreateTransferRequest, PayoutProvider } from '../payout-types.ts';
import { createKwikPaisaProvider } from './flow.ts';
import { classifyPayoutCreate, parsePayoutStatus, payoutStatusOf, toPayoutCreateBody } from './payout-transformers.ts';
import { parseKwikPaisaWebhook } from './webhook.ts';

let n = 0;
const request = (overrides: Partial<CreateTransferRequest> = {}): CreateTransferRequest => ({
  payoutId: `pout_${++n}`,
  reference: `pwo-${process.pid}-kwik-${String(n).padStart(10, '0')}`,
  amountMinor: 105_025,
  currency: 'INR',
  narration: 'Vendor payout',
  destination: {
    type: 'bank_account',
    country: 'IN',
    bankCode: 'HDFC0001234',
    accountNumber: '123456789012',
    accountName: 'Ajay Kumar',
  },
  recipient: undefined,
  ...overrides,
});

describe('KwikPaisa payout tables', () => {
  test('status words: only explicit ones leave pending; any case', () => {
    assert.equal(payoutStatusOf('pending'), 'pending');
    assert.equal(payoutStatusOf('PROCESSING'), 'processing');
    assert.equal(payoutStatusOf('Success'), 'succeeded');
    assert.equal(payoutStatusOf('failed'), 'failed');
    assert.equal(payoutStatusOf('REVERSED'), 'reversed');
    assert.equal(payoutStatusOf('queued'), 'unknown');
    assert.equal(payoutStatusOf(undefined), 'unknown');
  });

  test('the create body: exact rupees as a string, our reference as payout_order_id', () => {
    const body = toPayoutCreateBody(request({ amountMinor: 1 }), { walletId: 'w', mobile: '9000000000' });
    assert.equal(body.transfer_amount, '0.01');
    assert.equal(body.payout_order_id, `pwo-${process.pid}-kwik-${String(n).padStart(10, '0')}`);
    assert.deepEqual(body.account_transfer, {
      account_owner_name: 'Ajay Kumar',
      account_number: '123456789012',
      ifsc_code: 'HDFC0001234',
      is_validate: 'false',
      payment_for: 'Vendor payout',
    });
  });

  test('create answers: 409 exists, 422 refused, 401 and 429 not processed, 5xx and junk indefinite', () => {
    const env = (code: number, message: string) => JSON.stringify({ status: false, code, message });
    const c = (status: number, body: string) => classifyPayoutCreate(status, {}, body, 'ref').kind;
    assert.equal(c(409, env(409, 'Duplicate request')), 'duplicate_reference');
    const poor = classifyPayoutCreate(422, {}, env(422, 'Insufficient wallet balance.'), 'ref');
    assert.deepEqual(poor.kind === 'rejected' && poor.reason, 'insufficient_funds');
    assert.equal(c(403, env(403, 'Invalid wallet ID for selected environment.')), 'rejected');
    const unsigned = classifyPayoutCreate(401, {}, env(401, 'Invalid signature.'), 'ref');
    assert.deepEqual(unsigned.kind === 'indefinite' && unsigned.notSent, true);
    assert.equal(c(500, env(500, 'Internal server error.')), 'indefinite');
    assert.equal(c(200, '<html>'), 'indefinite');
    assert.equal(c(200, JSON.stringify({ status: false, code: 200 })), 'indefinite');
    // The variants: "success" and "200", return_data, upper case, a number amount.
    const v2 = classifyPayoutCreate(
      200,
      {},
      JSON.stringify({
        status: 'success',
        code: '200',
        return_data: { txn_status: 'PENDING', transfer_amount: 10.5, payout_order_id: 'ref' },
      }),
      'ref',
    );
    assert.deepEqual(v2.kind === 'accepted' && [v2.transfer.status, v2.transfer.amountMinor], ['pending', 1050]);
    const status = parsePayoutStatus(
      200,
      JSON.stringify({ status: true, code: 200, data: { txn_status: 'success', transfer_amount: '1.005' } }),
      'ref',
    );
    assert.deepEqual(status.kind === 'ok' && [status.value.amountMinor, status.value.reference], [undefined, 'ref']);
    assert.equal(parsePayoutStatus(404, '{}', 'ref').kind, 'not_found');
  });
});

describe('KwikPaisa payout adapter against the simulator', () => {
  const apiKey = `pk_test_${randomBytes(8).toString('hex')}`;
  const secretKey = `sk_test_${randomBytes(16).toString('hex')}`;
  const walletId = `kwx_test_${randomBytes(4).toString('hex')}`;
  let sim: Awaited<ReturnType<typeof startKwikPaisaSimulator>>;
  let adapter: PayoutProvider;
  const http = createOutboundHttp({
    provider: 'kwikpaisa',
    limiter: undefined,
    clock: systemClock,
    logger: createLogger('silent'),
    defaultTimeoutMs: 400,
  });
  const control = async (method: string, path: string, body?: unknown): Promise<any> =>
    (
      await fetch(`${sim.url}/_sim${path}`, {
        method,
        ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
      })
    ).json();
  const ledger = async (reference: string) =>
    ((await control('GET', `/ledger?reference=${reference}`)) as unknown[]).length;
  const fault = (body: Record<string, unknown>) => control('POST', '/faults', body);

  before(async () => {
    sim = await startKwikPaisaSimulator({ apiKey, secretKey, walletId });
    const provider = createKwikPaisaProvider({
      baseUrl: sim.url,
      apiKey: new Secret(apiKey),
      secretKey: new Secret(secretKey),
      payoutAccount: { walletId: new Secret(walletId), mobile: new Secret('9000000000') },
      http,
      clock: systemClock,
    });
    assert.ok(provider.payouts);
    adapter = provider.payouts;
  });
  after(() => sim.close());
  beforeEach(async () => {
    await control('POST', '/reset');
  });

  test('accepted pending, then the status call says success; amounts exact; the wallet', async () => {
    const r = request();
    const created = await adapter.createTransfer(r);
    assert.ok(created.kind === 'accepted');
    assert.deepEqual(
      [created.transfer.status, created.transfer.amountMinor, created.transfer.reference],
      ['pending', 105_025, r.reference],
    );
    await new Promise((resolve) => setTimeout(resolve, 30));
    const found = await adapter.getTransfer({ reference: r.reference, providerTransferId: null });
    assert.deepEqual(found.kind === 'ok' && [found.value.status, found.value.currency], ['succeeded', 'INR']);
    const balances = await adapter.getBalances();
    assert.deepEqual(balances.kind === 'ok' && balances.value, [
      { currency: 'INR', availableMinor: 1_000_000_000 - 105_025, ledgerMinor: undefined },
    ]);
    const again = await adapter.createTransfer(r);
    assert.equal(again.kind, 'duplicate_reference', 'the same payout_order_id again: it exists');
    assert.equal(await ledger(r.reference), 1);
  });

  test('refused before sending: other countries, non-IFSC codes, other currencies', async () => {
    const ng = await adapter.createTransfer(
      request({
        destination: {
          type: 'bank_account',
          country: 'NG',
          bankCode: '044',
          accountNumber: '0690000031',
          accountName: 'A',
        },
      }),
    );
    assert.deepEqual(ng.kind === 'rejected' && ng.reason, 'destination_not_supported');
    const code = await adapter.createTransfer(
      request({
        destination: {
          type: 'bank_account',
          country: 'IN',
          bankCode: '044',
          accountNumber: '123456789',
          accountName: 'A',
        },
      }),
    );
    assert.deepEqual(code.kind === 'rejected' && code.reason, 'invalid_account');
    const usd = await adapter.createTransfer(request({ currency: 'USD' }));
    assert.deepEqual(usd.kind === 'rejected' && usd.reason, 'currency_not_supported');
  });

  test('answers lost after processing and drops: indefinite; the status call or the re-send settles it, one payout', async () => {
    for (const name of ['lost_answer_timeout', 'lost_answer_500', 'lost_answer_reset', 'duplicate_reference']) {
      const r = request();
      await fault({ fault: name, payout_order_id: r.reference });
      const first = await adapter.createTransfer(r);
      assert.equal(first.kind, name === 'duplicate_reference' ? 'duplicate_reference' : 'indefinite', name);
      const query = await adapter.getTransfer({ reference: r.reference, providerTransferId: null });
      assert.equal(query.kind, 'ok', name);
      assert.equal((await adapter.createTransfer(r)).kind, 'duplicate_reference', name);
      assert.equal(await ledger(r.reference), 1, name);
    }
    const dropped = request();
    await fault({ fault: 'drop_request', payout_order_id: dropped.reference });
    assert.equal((await adapter.createTransfer(dropped)).kind, 'indefinite');
    assert.equal(
      (await adapter.getTransfer({ reference: dropped.reference, providerTransferId: null })).kind,
      'not_found',
    );
    assert.equal((await adapter.createTransfer(dropped)).kind, 'accepted', 'the re-send with the same id');
    assert.equal(await ledger(dropped.reference), 1);
  });

  test('insufficient balance is a definite refusal; 429 is not processed; reversal after success', async () => {
    const poor = request();
    await fault({ fault: 'insufficient_balance', payout_order_id: poor.reference });
    const refused = await adapter.createTransfer(poor);
    assert.deepEqual(refused.kind === 'rejected' && refused.reason, 'insufficient_funds');
    assert.equal(await ledger(poor.reference), 0);
    const limited = request();
    await fault({ fault: 'http_429', payout_order_id: limited.reference, value: 2 });
    const answer = await adapter.createTransfer(limited);
    // Our HTTP client reads 429 itself: indefinite, with the provider's Retry-After.
    assert.deepEqual(answer.kind === 'indefinite' && answer.retryAfterMs, 2000);
    assert.equal(await ledger(limited.reference), 0);
    const back = request();
    await fault({ fault: 'reversal_after_success', payout_order_id: back.reference });
    await adapter.createTransfer(back);
    await new Promise((resolve) => setTimeout(resolve, 30));
    const paid = await adapter.getTransfer({ reference: back.reference, providerTransferId: null });
    assert.equal(paid.kind === 'ok' && paid.value.status, 'succeeded');
    await new Promise((resolve) => setTimeout(resolve, 30));
    const reversed = await adapter.getTransfer({ reference: back.reference, providerTransferId: null });
    assert.equal(reversed.kind === 'ok' && reversed.value.status, 'reversed');
  });

  test('the variants the docs leave open: return_data and upper-case words read the same', async () => {
    await control('PUT', '/config', { payoutDataKey: 'return_data', payoutStatusCase: 'upper' });
    const r = request();
    const created = await adapter.createTransfer(r);
    assert.deepEqual(created.kind === 'accepted' && [created.transfer.status, created.transfer.providerStatus], [
      'pending',
      'PENDING',
    ]);
    await control('PUT', '/config', { payoutDataKey: 'data', payoutStatusCase: 'lower' });
  });

  test('payout webhooks parse into a hint with our reference', () => {
    const parsed = parseKwikPaisaWebhook(
      Buffer.from(
        JSON.stringify({
          event: 'payout.reversed',
          data: { payout_order_id: 'pwo-abc', status: 'reversed', unique_system_order_id: 'payout_1' },
        }),
      ),
      '1700000000',
    );
    assert.ok(parsed.ok);
    assert.deepEqual(parsed.event.transfer, {
      reference: 'pwo-abc',
      providerTransferId: 'payout_1',
      providerStatus: 'reversed',
    });
  });
});
