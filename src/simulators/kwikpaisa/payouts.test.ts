// KwikPaisa v3 payouts in the simulator: signed create and status, the wallet, the lifecycle with
// payout.* webhooks (payout.reversed too), the documented variants, and the payout faults of
// issue 9 §3 with the ledger checked (one payout per payout_order_id).
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { randomBytes } from 'node:crypto';
import { Secret } from '../../crypto/secret.ts';
import { verifyKwikPaisaSignature } from '../../providers/kwikpaisa/webhook.ts';
import { SIM_WALLET_ID } from './payouts.ts';
import { startKwikPaisaSimulator } from './simulator.ts';
import { kwikPaisaSignature, sortedJson } from './wire.ts';

describe('KwikPaisa simulator: payouts', () => {
  const apiKey = `pk_test_${randomBytes(8).toString('hex')}`;
  const secretKey = `sk_test_${randomBytes(16).toString('hex')}`;
  const secrets = [{ mode: 'test' as const, secretKey: new Secret(secretKey) }];
  const received: Array<{ event: string; status: string; verified: boolean; body: string }> = [];
  const receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const verified = verifyKwikPaisaSignature(raw, req.headers, secrets, Math.floor(Date.now() / 1000)).ok;
      const parsed = JSON.parse(raw.toString('utf8'));
      received.push({ event: parsed.event, status: parsed.data.status, verified, body: raw.toString('utf8') });
      res.end();
    });
  });
  let sim: Awaited<ReturnType<typeof startKwikPaisaSimulator>>;
  let n = 0;
  const nextId = () => `pwo_${process.pid}_${++n}`;

  before(async () => {
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    sim = await startKwikPaisaSimulator({
      apiKey,
      secretKey,
      webhookUrl: `http://127.0.0.1:${(receiver.address() as { port: number }).port}/hook`,
    });
  });
  after(async () => {
    await sim.close();
    receiver.close();
  });
  beforeEach(async () => {
    await control('POST', '/_sim/reset');
    await control('PUT', '/_sim/config', {
      payoutCompletion: 'immediate',
      payoutDataKey: 'data',
      payoutStatusCase: 'lower',
    });
    received.length = 0;
  });

  const control = async (method: string, path: string, body?: unknown): Promise<any> => {
    const res = await fetch(`${sim.url}${path}`, {
      method,
      ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
    });
    return res.json();
  };
  const api = async (path: string, body: unknown, timeoutMs = 5000): Promise<{ status: number; json: any }> => {
    const timestamp = String(Math.floor(Date.now() / 1000));
    const res = await fetch(`${sim.url}${path}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-api-key': apiKey,
        'x-timestamp': timestamp,
        'x-signature': kwikPaisaSignature(sortedJson(body, 'recursive'), timestamp, secretKey),
      },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
    return { status: res.status, json: await res.json() };
  };
  const payoutBody = (id: string, overrides: Record<string, unknown> = {}) => ({
    kwikx_wallet_id: SIM_WALLET_ID,
    debit_account_type: 'kwikx_wallet',
    transfer_type: 'direct',
    mobile: '9876543210',
    email: 'payee@example.com',
    beneficiary_mode: 'onetimetransfer',
    transfer_mode: 'IMPS',
    transfer_amount: '1050.25',
    account_transfer: {
      account_owner_name: 'Ajay Kumar',
      account_number: '123456789012',
      ifsc_code: 'HDFC0001234',
      is_validate: 'false',
      payment_for: 'vendor payout',
    },
    payout_order_id: id,
    ...overrides,
  });
  const create = (id: string, overrides: Record<string, unknown> = {}, timeoutMs?: number) =>
    api('/api/v3/banking/payment/create', payoutBody(id, overrides), timeoutMs);
  const status = (id: string) =>
    api('/api/v3/banking/payment/status', {
      kwikx_wallet_id: SIM_WALLET_ID,
      debit_account_type: 'kwikx_wallet',
      payout_order_id: id,
    });
  const ledger = async (id: string) =>
    (await control('GET', `/_sim/ledger?reference=${id}`)) as Array<{ status: string }>;
  const waitWebhooks = (count: number) => control('GET', `/_sim/webhooks/wait?count=${count}&timeoutMs=5000`);
  const fault = (body: Record<string, unknown>) => control('POST', '/_sim/faults', body);

  test('create, then status: pending -> processing -> success, signed payout.* webhooks, exact rupees', async () => {
    const id = nextId();
    const created = await create(id);
    assert.equal(created.status, 200);
    assert.equal(created.json.status, true);
    assert.equal(created.json.code, 200);
    assert.equal(created.json.data.txn_status, 'pending');
    assert.equal(created.json.data.transfer_amount, '1050.25');
    assert.equal(created.json.data.available_balance_before, '10000000.00');
    assert.equal(created.json.data.available_balance_after, '9998949.75');
    await waitWebhooks(2);
    assert.deepEqual(
      received.map((r) => [r.event, r.status, r.verified]),
      [
        ['payout.processing', 'processing', true],
        ['payout.success', 'success', true],
      ],
    );
    const found = await status(id);
    assert.equal(found.json.message, 'Payout status fetched successfully.');
    assert.equal(found.json.data.txn_status, 'success');
    assert.equal(found.json.data.payout_order_id, id);
    assert.equal(found.json.data.posted_data.transfer_amount, '1050.25');
    assert.deepEqual(
      (await ledger(id)).map((r) => r.status),
      ['success'],
    );
  });

  test('the documented variants: a numeric amount, return_data, upper-case statuses', async () => {
    await control('PUT', '/_sim/config', { payoutDataKey: 'return_data', payoutStatusCase: 'upper' });
    const id = nextId();
    const created = await create(id, { transfer_amount: 99.5 });
    assert.equal(created.json.return_data.transfer_amount, '99.50');
    assert.equal(created.json.return_data.txn_status, 'PENDING');
    assert.equal(created.json.data, undefined);
  });

  test('refusals: 422 fields (nothing created), 403 wallet, 409 repeat, 401 signature, no third decimal', async () => {
    const id = nextId();
    assert.equal((await create(id, { transfer_amount: '10.005' })).status, 422);
    assert.equal((await create(id, { transfer_mode: 'SWIFT' })).status, 422);
    assert.equal(
      (await create(id, { account_transfer: { account_owner_name: 'A', account_number: '12', ifsc_code: 'x' } }))
        .status,
      422,
    );
    assert.equal((await ledger(id)).length, 0);
    const wallet = await create(id, { kwikx_wallet_id: 'other' });
    assert.equal(wallet.status, 403);
    assert.equal(wallet.json.message, 'Invalid wallet ID for selected environment.');
    assert.equal((await create(id)).status, 200);
    const again = await create(id);
    assert.equal(again.status, 409);
    assert.equal(again.json.code, 409);
    assert.equal((await ledger(id)).length, 1);
    assert.equal((await status('nobody_here')).status, 404);
    const unsigned = await fetch(`${sim.url}/api/v3/banking/payment/create`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': apiKey, 'x-timestamp': '1', 'x-signature': 'x' },
      body: JSON.stringify(payoutBody(nextId())),
    });
    assert.equal(unsigned.status, 401);
  });

  test('the wallet: account_info, insufficient balance refused, a failed payout refunds', async () => {
    await control('POST', '/_sim/balance', { amountMinor: 50_000 });
    const info = await api('/api/v3/banking/payment/account_info', { kwikx_wallet_id: SIM_WALLET_ID });
    assert.equal(info.json.data.wallet_balance, '500.00');
    const poor = await create(nextId(), { transfer_amount: '500.01' });
    assert.equal(poor.status, 422);
    assert.equal(poor.json.message, 'Insufficient wallet balance.');
    const failing = nextId();
    await create(failing, {
      account_transfer: { account_owner_name: 'X Y', account_number: '123450000', ifsc_code: 'HDFC0001234' },
      transfer_amount: '100',
    });
    await waitWebhooks(2);
    assert.equal(received.at(-1)!.event, 'payout.failed');
    assert.equal((await status(failing)).json.data.txn_status, 'failed');
    const after = await api('/api/v3/banking/payment/account_info', { kwikx_wallet_id: SIM_WALLET_ID });
    assert.equal(after.json.data.wallet_balance, '500.00');
  });

  test('faults before and after processing: drop_request, lost_answer_*; one payout per id', async () => {
    const dropped = nextId();
    await fault({ fault: 'drop_request', payout_order_id: dropped });
    await assert.rejects(create(dropped));
    assert.equal((await ledger(dropped)).length, 0);
    assert.equal((await create(dropped)).status, 200, 'the retry with the same id creates it');
    for (const name of ['lost_answer_timeout', 'lost_answer_reset']) {
      const id = nextId();
      await fault({ fault: name, payout_order_id: id });
      await assert.rejects(create(id, {}, 300));
      assert.equal((await ledger(id)).length, 1, name);
      assert.equal((await create(id)).status, 409, `${name}: the repeat is a duplicate`);
    }
    const id = nextId();
    await fault({ fault: 'lost_answer_500', payout_order_id: id });
    assert.equal((await create(id)).status, 500);
    assert.equal((await status(id)).json.data.payout_order_id, id);
    assert.equal((await ledger(id)).length, 1);
  });

  test('duplicate_reference, http_429, insufficient_balance, not_found_after_create, stuck_pending', async () => {
    const dup = nextId();
    await fault({ fault: 'duplicate_reference', payout_order_id: dup });
    assert.equal((await create(dup)).status, 409);
    assert.equal((await ledger(dup)).length, 1, 'the payout exists');
    const limited = nextId();
    await fault({ fault: 'http_429', payout_order_id: limited, value: 7 });
    const answer = await fetch(`${sim.url}/api/v3/banking/payment/create`, { method: 'POST' });
    assert.equal(answer.status, 401, 'authentication first');
    assert.equal((await create(limited)).status, 429);
    assert.equal((await ledger(limited)).length, 0);
    const poor = nextId();
    await fault({ fault: 'insufficient_balance', payout_order_id: poor });
    assert.equal((await create(poor)).status, 422);
    assert.equal((await ledger(poor)).length, 0);
    const hidden = nextId();
    await fault({ fault: 'not_found_after_create', payout_order_id: hidden, value: 2 });
    await create(hidden);
    assert.equal((await status(hidden)).status, 404);
    assert.equal((await status(hidden)).status, 404);
    assert.equal((await status(hidden)).status, 200);
    const stuck = nextId();
    await fault({ fault: 'stuck_pending', payout_order_id: stuck });
    await create(stuck);
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal((await status(stuck)).json.data.txn_status, 'pending');
    const settled = await control('POST', `/_sim/payouts/${stuck}/complete`, { status: 'success' });
    assert.deepEqual(settled.history, ['pending', 'processing', 'success']);
  });

  test('reversal_after_success: success at the first status call, then payout.reversed and the money back', async () => {
    await control('POST', '/_sim/balance', { amountMinor: 100_000 });
    const id = nextId();
    await fault({ fault: 'reversal_after_success', payout_order_id: id });
    await create(id, { transfer_amount: '1000' });
    await waitWebhooks(2);
    assert.equal((await status(id)).json.data.txn_status, 'success');
    await waitWebhooks(3);
    assert.equal(received.at(-1)!.event, 'payout.reversed');
    assert.equal((await status(id)).json.data.txn_status, 'reversed');
    const info = await api('/api/v3/banking/payment/account_info', { kwikx_wallet_id: SIM_WALLET_ID });
    assert.equal(info.json.data.wallet_balance, '1000.00');
  });

  test('webhooks: before the answer, duplicated, out of order, missing', async () => {
    const first = nextId();
    await fault({ fault: 'webhook_before_answer', payout_order_id: first });
    const created = await create(first);
    assert.equal(created.json.data.txn_status, 'pending');
    assert.deepEqual(
      received.map((r) => r.event),
      ['payout.processing', 'payout.success'],
      'delivered before the answer arrived',
    );
    received.length = 0;
    await control('POST', '/_sim/reset');
    const dup = nextId();
    await fault({ fault: 'duplicate_webhook', payout_order_id: dup, value: 3 });
    await create(dup);
    await waitWebhooks(4);
    assert.deepEqual(
      received.map((r) => r.event),
      ['payout.processing', 'payout.success', 'payout.success', 'payout.success'],
    );
    assert.equal(new Set(received.slice(1).map((r) => r.body)).size, 1, 'identical bytes');
    received.length = 0;
    await control('POST', '/_sim/reset');
    const late = nextId();
    await fault({ fault: 'out_of_order', payout_order_id: late });
    await create(late);
    await waitWebhooks(3);
    assert.deepEqual(
      received.map((r) => r.event),
      ['payout.processing', 'payout.success', 'payout.processing'],
    );
    received.length = 0;
    await control('POST', '/_sim/reset');
    const silent = nextId();
    await fault({ fault: 'no_webhook', payout_order_id: silent });
    await create(silent);
    await waitWebhooks(1);
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.deepEqual(
      received.map((r) => r.event),
      ['payout.processing'],
    );
  });
});
