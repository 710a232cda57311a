import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ControlApiError } from './control-client.ts';
import { startHarness, type Harness } from './test-harness.ts';
import { flutterwaveSignature } from './wire.ts';

describe('Flutterwave simulator payouts and refunds', () => {
  let h: Harness;
  let n = 0;
  before(async () => {
    h = await startHarness();
  });
  after(() => h.close());
  beforeEach(async () => {
    await h.control.reset();
    await h.control.configure({
      transferCompletion: 'immediate',
      payloadShape: 'v3',
      signatureHeaders: 'both',
      notFoundHttpStatus: 400,
    });
    h.received.length = 0;
  });

  const initiate = async (overrides: Record<string, unknown> = {}) => {
    n += 1;
    const res = await h.v3('POST', '/v3/transfers', {
      account_bank: '058',
      account_number: '0123456789',
      amount: 1000,
      currency: 'NGN',
      narration: 'payout',
      reference: `trf_${process.pid}_${n}`,
      ...overrides,
    });
    return { status: res.status, json: (await res.json()) as any };
  };

  test('manual completion: NEW until the control call, then transfer.completed to the account webhook URL', async () => {
    await h.control.configure({ transferCompletion: 'manual' });
    const queued = await initiate();
    assert.equal(queued.status, 200);
    assert.equal(queued.json.data.status, 'NEW');
    assert.equal(queued.json.data.fee, 10.75);
    assert.equal(queued.json.data.bank_name, 'GTBANK PLC');
    const { id, reference } = queued.json.data;
    assert.equal(((await (await h.v3('GET', `/v3/transfers/${id}`)).json()) as any).data.status, 'NEW');
    await assert.rejects(h.control.waitForWebhooks(1, 50), ControlApiError);

    const settled = await h.control.completeTransfer(
      reference,
      'FAILED',
      'DISBURSE FAILED: Insufficient funds in customer wallet',
    );
    assert.equal(settled.status, 'FAILED');
    const [entry] = await h.control.waitForWebhooks(1);
    assert.equal(entry?.url, `${h.receiverUrl}/hook`);
    const hook = h.received[0]!;
    assert.equal(hook.headers['verif-hash'], h.secretHash);
    assert.equal(hook.headers['flutterwave-signature'], flutterwaveSignature(hook.rawBody, h.secretHash));
    const event = JSON.parse(hook.rawBody);
    assert.equal(event.event, 'transfer.completed');
    assert.equal(event.data.status, 'FAILED');
    assert.equal(event.data.complete_message, 'DISBURSE FAILED: Insufficient funds in customer wallet');
    const fetched: any = await (await h.v3('GET', `//v3/transfers/${id}`)).json();
    assert.equal(fetched.data.status, 'FAILED');
    await assert.rejects(
      h.control.completeTransfer(reference),
      (e: unknown) => e instanceof ControlApiError && e.status === 409,
    );
    await assert.rejects(
      h.control.completeTransfer('no_such_reference'),
      (e: unknown) => e instanceof ControlApiError && e.status === 404,
    );
  });

  test('immediate completion: an account that does not resolve fails; the flat shape wraps `transfer`', async () => {
    await h.control.configure({ payloadShape: 'flat' });
    const queued = await initiate({ account_number: '0690000000' });
    assert.equal(queued.json.data.status, 'NEW', 'the answer is always NEW; the outcome comes later');
    await h.control.waitForWebhooks(1);
    const flat = JSON.parse(h.received[0]!.rawBody);
    assert.equal(flat['event.type'], 'Transfer');
    assert.equal(flat.transfer.status, 'FAILED');
    assert.match(flat.transfer.complete_message, /DISBURSE FAILED/);
    assert.equal((await h.control.transfers())[0]?.status, 'FAILED');
  });

  test('webhook faults aim at a transfer by its reference', async () => {
    await h.control.configure({ transferCompletion: 'manual' });
    const quiet = await initiate();
    const doubled = await initiate();
    await h.control.addFault({ fault: 'no_webhook', tx_ref: quiet.json.data.reference });
    await h.control.addFault({ fault: 'duplicate_webhook', tx_ref: doubled.json.data.reference, value: 2 });
    await h.control.completeTransfer(quiet.json.data.reference);
    await h.control.completeTransfer(doubled.json.data.reference);
    await h.control.waitForWebhooks(2);
    assert.equal(h.received.length, 2);
    assert.ok(h.received.every((r) => JSON.parse(r.rawBody).data.reference === doubled.json.data.reference));
  });

  test('out_of_order: a stale transfer.completed (the transfer still NEW) arrives after the final one', async () => {
    await h.control.configure({ transferCompletion: 'manual' });
    const queued = await initiate();
    const { reference } = queued.json.data;
    await h.control.addFault({ fault: 'out_of_order', tx_ref: reference });
    await h.control.completeTransfer(reference);
    await h.control.waitForWebhooks(2);
    const bodies = h.received.map((r) => JSON.parse(r.rawBody));
    assert.deepEqual(
      bodies.map((b) => [b.event, b.data.reference, b.data.status]),
      [
        ['transfer.completed', reference, 'SUCCESSFUL'],
        ['transfer.completed', reference, 'NEW'],
      ],
    );
    assert.equal(bodies[1].data.amount, 1000, 'the same transfer, in major units');
    assert.equal(
      ((await (await h.v3('GET', `/v3/transfers/${queued.json.data.id}`)).json()) as any).data.status,
      'SUCCESSFUL',
    );
  });

  test('validation, duplicate references, unknown transfers', async () => {
    const first = await initiate({ reference: 'same_ref' });
    assert.equal(first.status, 200);
    const again = await initiate({ reference: 'same_ref' });
    assert.equal(again.status, 400);
    assert.equal(again.json.status, 'error');
    assert.equal(again.json.data, null);
    for (const bad of [
      { amount: 0 },
      { account_bank: '999' },
      { account_number: 'abc' },
      { currency: 'NAIRA' },
      { narration: 'x'.repeat(101) },
    ]) {
      const res = await initiate(bad);
      assert.equal(res.status, 400, JSON.stringify(bad));
      assert.equal(res.json.status, 'error');
    }
    const generated = await initiate({ reference: undefined });
    assert.match(generated.json.data.reference, /^SIM-TRF-\d+$/);
    const missing = await h.v3('GET', '/v3/transfers/1');
    assert.equal(missing.status, 400);
    assert.equal(((await missing.json()) as any).status, 'error');
  });

  test('refunds: only successful transactions, never more than was paid', async () => {
    const paid = await h.createCheckout({ amount: 100 });
    const tx = await h.control.complete(paid.txRef, 'successful');
    const full: any = await (await h.v3('POST', `/v3/transactions/${tx.id}/refund`, {})).json();
    assert.equal(full.data.amount_refunded, 100, 'no amount: the whole of it');
    const over = await h.v3('POST', `/v3/transactions/${tx.id}/refund`, { amount: 1 });
    assert.equal(over.status, 400);

    const declined = await h.createCheckout();
    const failedTx = await h.control.complete(declined.txRef, 'failed');
    const refused = await h.v3('POST', `/v3/transactions/${failedTx.id}/refund`, { amount: 1 });
    assert.equal(refused.status, 400);
    assert.match(((await refused.json()) as any).message, /successful/);
    const unknown = await h.v3('POST', '/v3/transactions/42/refund', { amount: 1 });
    assert.equal(unknown.status, 400);
    assert.equal(((await unknown.json()) as any).message, 'No transaction was found for this id');
  });
});
