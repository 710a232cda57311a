// The official Node client against the simulator: if its calls (including its quirks: a JSON
// content type on GETs, an unencoded tx_ref, `//v3/transfers/:id`) work here, the simulator
// speaks the wire the way Flutterwave's own code expects.
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { randomBytes } from 'node:crypto';
import { startHarness, type Harness } from './test-harness.ts';
import { flutterwaveSignature } from './wire.ts';

// Pinned to 1.3.2 (package.json, exactly): later versions send telemetry to outside servers
// (§1.11). 1.3.2 takes its base URL as the constructor's third argument and calls global fetch,
// so every request it makes is recorded below and must go to the simulator on loopback.
// CommonJS, so required.
const require = createRequire(import.meta.url);
const SDK_VERSION = (require('flutterwave-node-v3/package.json') as { version: string }).version;
const Flutterwave = require('flutterwave-node-v3') as new (
  publicKey: string,
  secretKey: string,
  baseUrl: string,
) => any;

describe('flutterwave-node-v3 1.3.2 against the simulator', () => {
  let h: Harness;
  let flw: any;
  const requested: string[] = [];
  const realFetch = globalThis.fetch;
  before(async () => {
    globalThis.fetch = (input, init) => {
      requested.push(input instanceof Request ? input.url : String(input));
      return realFetch(input, init);
    };
    h = await startHarness();
    // The SDK builds URLs as baseUrl + "v3/...", so the base must end with a slash.
    flw = new Flutterwave(`FLWPUBK_TEST-${randomBytes(16).toString('hex')}-X`, h.secretKey, `${h.url}/`);
  });
  after(async () => {
    globalThis.fetch = realFetch;
    await h.close();
  });

  test('the SDK under test is 1.3.2, the pinned version', () => {
    assert.equal(SDK_VERSION, '1.3.2');
  });
  beforeEach(async () => {
    await h.control.reset();
    await h.control.configure({ transferCompletion: 'immediate', payloadShape: 'v3' });
    h.received.length = 0;
  });

  test('Transaction.verify and verify_by_tx, with a reference the SDK leaves unencoded', async () => {
    const txRef = 'ord-1/a b:c';
    const { link } = await h.createCheckout({ tx_ref: txRef, amount: 7500 });
    const txId = Number(
      new URL((await h.press(link)).headers.get('location') ?? '').searchParams.get('transaction_id'),
    );

    const byId = await flw.Transaction.verify({ id: String(txId) });
    assert.equal(byId.status, 'success');
    assert.equal(byId.data.id, txId);
    assert.equal(byId.data.tx_ref, txRef);
    assert.equal(byId.data.amount, 7500);
    assert.equal(byId.data.status, 'successful');

    const byRef = await flw.Transaction.verify_by_tx({ tx_ref: txRef });
    assert.equal(byRef.status, 'success');
    assert.equal(byRef.data.id, txId);
    assert.equal(byRef.data.currency, 'NGN');

    const missing = await flw.Transaction.verify({ id: '1' });
    assert.deepEqual(missing, { status: 'error', message: 'No transaction was found for this id', data: null });
  });

  test('Transaction.refund: partial, then the rest is all that is left', async () => {
    const { txRef } = await h.createCheckout({ amount: 100 });
    const tx = await h.control.complete(txRef);
    const refund = await flw.Transaction.refund({ id: String(tx.id), amount: '40' });
    assert.equal(refund.status, 'success');
    assert.equal(refund.message, 'Transaction refund initiated');
    assert.equal(refund.data.tx_id, tx.id);
    assert.equal(refund.data.amount_refunded, 40);
    assert.equal(refund.data.status, 'completed');
    const tooMuch = await flw.Transaction.refund({ id: String(tx.id), amount: '61' });
    assert.equal(tooMuch.status, 'error');
    assert.equal((await flw.Transaction.refund({ id: String(tx.id), amount: '60' })).data.amount_refunded, 60);
    assert.equal((await h.control.refunds()).length, 2);
  });

  test('Bank.country and Misc.verify_Account, the M-Pesa variant without its plus sign', async () => {
    const banks = await flw.Bank.country({ country: 'NG' });
    assert.equal(banks.status, 'success');
    const codes = banks.data.map((b: { code: string }) => b.code);
    for (const code of ['044', '058', '011']) assert.ok(codes.includes(code), code);
    const kenya = await flw.Bank.country({ country: 'KE' });
    assert.ok(kenya.data.some((b: { code: string; name: string }) => b.code === 'MPS' && /M-Pesa/.test(b.name)));

    const account = await flw.Misc.verify_Account({ account_number: '0690000032', account_bank: '044' });
    assert.equal(account.status, 'success');
    assert.equal(account.data.account_number, '0690000032');
    assert.equal(typeof account.data.account_name, 'string');
    const again = await flw.Misc.verify_Account({ account_number: '0690000032', account_bank: '044' });
    assert.equal(again.data.account_name, account.data.account_name, 'names are deterministic');

    const mpesa = await flw.Misc.verify_Account({
      account_number: '+254706000006',
      account_bank: 'MPS',
      type: 'MOBILEMONEY',
      country: 'KE',
    });
    assert.equal(mpesa.data.account_number, '254706000006');

    const unknownBank = await flw.Misc.verify_Account({ account_number: '0690000032', account_bank: '999' });
    assert.equal(unknownBank.status, 'error');
    assert.equal(unknownBank.data, null);
  });

  test('Transfer.initiate, get_a_transfer (the doubled slash), fetch and fee', async () => {
    const reference = `trf_${randomBytes(4).toString('hex')}`;
    const payload = {
      account_bank: '044',
      account_number: '0690000040',
      amount: 5500,
      narration: 'payout',
      currency: 'NGN',
      reference,
      callback_url: `${h.receiverUrl}/transfers`,
      debit_currency: 'NGN',
    };
    const queued = await flw.Transfer.initiate(payload);
    assert.equal(queued.status, 'success');
    assert.equal(queued.message, 'Transfer Queued Successfully');
    assert.equal(queued.data.status, 'NEW');
    assert.equal(queued.data.reference, reference);
    assert.equal(queued.data.fee, 26.875);
    assert.equal(queued.data.bank_code, '044');
    assert.equal(typeof queued.data.full_name, 'string');

    const [entry] = await h.control.waitForWebhooks(1);
    assert.equal(entry?.url, `${h.receiverUrl}/transfers`, 'sent to the callback_url');
    const hook = h.received[0]!;
    assert.equal(hook.headers['flutterwave-signature'], flutterwaveSignature(hook.rawBody, h.secretHash));
    const event = JSON.parse(hook.rawBody);
    assert.equal(event.event, 'transfer.completed');
    assert.equal(event.data.status, 'SUCCESSFUL');
    assert.equal(event.data.fullname, queued.data.full_name);

    const fetched = await flw.Transfer.get_a_transfer({ id: String(queued.data.id) });
    assert.equal(fetched.status, 'success');
    assert.equal(fetched.data.status, 'SUCCESSFUL');
    assert.equal(fetched.data.complete_message, 'Successful');

    const duplicate = await flw.Transfer.initiate(payload);
    assert.equal(duplicate.status, 'error');
    assert.equal(duplicate.data, null);

    const list = await flw.Transfer.fetch({ status: 'SUCCESSFUL' });
    assert.equal(list.meta.page_info.total, 1);
    assert.equal(list.data[0].reference, reference);
    const fee = await flw.Transfer.fee({ amount: '5500', currency: 'NGN' });
    assert.deepEqual(fee.data, [{ currency: 'NGN', fee_type: 'value', fee: 26.875 }]);
  });

  test('Transfer.initiate in other currencies: major units exactly both ways; an inexact amount refused', async () => {
    const reference = `trf_${randomBytes(4).toString('hex')}`;
    const ghs = await flw.Transfer.initiate({
      account_bank: 'GH280100',
      account_number: '0031625807099',
      amount: 1234.56,
      narration: 'payout',
      currency: 'GHS',
      reference,
      debit_currency: 'GHS',
    });
    assert.equal(ghs.status, 'success', JSON.stringify(ghs));
    assert.equal(ghs.data.amount, 1234.56);
    assert.equal(ghs.data.fee, 12.34, '1 %, whole pesewas');
    const [row] = await h.control.ledger(reference);
    assert.deepEqual([row?.amountMinor, row?.currency], [123_456, 'GHS'], 'integer minor units inside');
    const fetched = await flw.Transfer.get_a_transfer({ id: String(ghs.data.id) });
    assert.equal(fetched.data.amount, 1234.56);
    const fee = await flw.Transfer.fee({ amount: '1234.56', currency: 'GHS' });
    assert.deepEqual(fee.data, [{ currency: 'GHS', fee_type: 'value', fee: 12.34 }]);
    // More decimals than naira has: Flutterwave's envelope refusal, nothing queued.
    const inexact = await flw.Transfer.initiate({
      account_bank: '044',
      account_number: '0690000040',
      amount: 75.505,
      narration: 'payout',
      currency: 'NGN',
      reference: `trf_${randomBytes(4).toString('hex')}`,
      debit_currency: 'NGN',
    });
    assert.deepEqual([inexact.status, inexact.data], ['error', null]);
    assert.equal((await h.control.transfers()).length, 1);
  });

  test('every request the SDK made went to the simulator on loopback', () => {
    assert.ok(requested.length > 10, String(requested.length));
    for (const url of requested) assert.equal(new URL(url).hostname, '127.0.0.1', url);
  });
});
