import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readSettings } from './control-routes.ts';
import { readTransferRequest, transferFeeThousandths } from './transfers.ts';
import type { Transaction, Transfer } from './state.ts';
import {
  chargeWebhookBody,
  flutterwaveSignature,
  parseMajorAmount,
  thousandthsNumber,
  transferWebhookBody,
  verifyData,
} from './wire.ts';

const tx: Transaction = {
  id: 285959875,
  tx_ref: 'ord_1',
  flw_ref: 'FLW-SIM-285959875',
  amountMinor: 10_000,
  currency: 'NGN',
  status: 'successful',
  created_at: '2026-01-01T00:00:00.000Z',
  customer: {
    id: 215000001,
    name: 'Ada Okafor',
    phone_number: 'N/A',
    email: 'ada@example.com',
    created_at: '2026-01-01T00:00:00.000Z',
  },
  meta: { order: 'o_1' },
};

test('§7 test vector: flutterwave-signature of the published body and hash', () => {
  const body =
    '{"event":"charge.completed","data":{"id":285959875,"tx_ref":"ord_1","status":"successful","amount":100,"currency":"NGN"}}';
  assert.equal(flutterwaveSignature(body, 'my_secret_hash'), 'XKL/FllEQrTsZ5n5jfj83YQ8MkDhlzgUXURw8lI+hFs=');
  // Bound to the exact bytes: one space more is another signature.
  assert.notEqual(
    flutterwaveSignature(body.replace(':100', ': 100'), 'my_secret_hash'),
    'XKL/FllEQrTsZ5n5jfj83YQ8MkDhlzgUXURw8lI+hFs=',
  );
});

test('verify data has the §1.3 fields, amounts in major units, settled = amount - fee', () => {
  const data = verifyData(tx);
  assert.deepEqual(
    Object.keys(data).sort(),
    [
      'account_id',
      'amount',
      'amount_settled',
      'app_fee',
      'auth_model',
      'card',
      'charged_amount',
      'created_at',
      'currency',
      'customer',
      'device_fingerprint',
      'flw_ref',
      'id',
      'ip',
      'merchant_fee',
      'meta',
      'narration',
      'payment_type',
      'processor_response',
      'status',
      'tx_ref',
    ].sort(),
  );
  assert.equal(data.amount, 100);
  assert.equal(data.app_fee, 1.4);
  assert.equal(data.amount_settled, 98.6);
  assert.equal(data.payment_type, 'card');
  assert.deepEqual(data.meta, { order: 'o_1' });
  assert.equal(verifyData({ ...tx, status: 'pending' }).card, undefined, 'no card on an unpaid checkout');
  assert.equal(verifyData(tx, { amountMinor: 9_900, currency: 'USD' }).amount, 99);
});

test('charge.completed: v3 envelope with a literal "event.type" key; flat legacy form in camelCase', () => {
  const v3 = JSON.parse(chargeWebhookBody(tx, 'v3'));
  assert.equal(v3.event, 'charge.completed');
  assert.equal(v3['event.type'], 'CARD_TRANSACTION');
  assert.equal(v3.data.id, tx.id);
  assert.equal(v3.data.card.token, undefined, 'the webhook sample carries no card token');
  const flat = JSON.parse(chargeWebhookBody(tx, 'flat'));
  assert.equal(flat.event, undefined);
  assert.equal(flat.txRef, 'ord_1');
  assert.equal(flat.flwRef, tx.flw_ref);
  assert.equal(flat.IP, '127.0.0.1');
  assert.equal(flat.customer.fullName, 'Ada Okafor');
  assert.equal(flat['event.type'], 'CARD_TRANSACTION');
});

test('transfer.completed names the account holder `fullname`, the REST object `full_name`', () => {
  const transfer: Transfer = {
    id: 396432,
    account_number: '0690000040',
    bank_code: '044',
    bank_name: 'ACCESS BANK',
    full_name: 'ADA OKAFOR',
    created_at: tx.created_at,
    currency: 'NGN',
    debit_currency: 'NGN',
    amountMinor: 550_000,
    feeThousandths: 26_875,
    status: 'SUCCESSFUL',
    reference: 'ref_1',
    meta: null,
    narration: 'n',
    complete_message: 'Successful',
    callbackUrl: undefined,
    hiddenLookups: 0,
  };
  const v3 = JSON.parse(transferWebhookBody(transfer, 'v3'));
  assert.equal(v3.event, 'transfer.completed');
  assert.equal(v3['event.type'], 'Transfer');
  assert.equal(v3.data.fullname, 'ADA OKAFOR');
  assert.equal(v3.data.full_name, undefined);
  assert.equal(v3.data.status, 'SUCCESSFUL');
  const flat = JSON.parse(transferWebhookBody(transfer, 'flat'));
  assert.equal(flat['event.type'], 'Transfer');
  assert.equal(flat.transfer.reference, 'ref_1');
  assert.equal(flat.transfer.date_created, tx.created_at);
  assert.equal(v3.data.amount, 5500);
  assert.equal(v3.data.fee, 26.875);
  assert.equal(transferFeeThousandths(550_000, 'NGN'), 26_875);
  assert.equal(transferFeeThousandths(3_002_000, 'NGN'), 26_875);
  assert.equal(transferFeeThousandths(100_000, 'NGN'), 10_750);
  // Elsewhere 1 %, whole minor units: 1,234.56 GHS -> 12.34; 5,001 UGX (no decimals) -> 50.
  assert.equal(thousandthsNumber(transferFeeThousandths(123_456, 'GHS')), 12.34);
  assert.equal(thousandthsNumber(transferFeeThousandths(5_001, 'UGX')), 50);
  assert.equal(thousandthsNumber(7), 0.007);
});

test('amounts: numbers or numeric strings, greater than zero', () => {
  assert.equal(parseMajorAmount('7500'), 7500);
  assert.equal(parseMajorAmount(75.5), 75.5);
  assert.equal(parseMajorAmount('75.50'), 75.5);
  for (const bad of [0, -1, '0', '', 'abc', '1e3', null, undefined, {}, Number.NaN, Number.POSITIVE_INFINITY])
    assert.equal(parseMajorAmount(bad), undefined, String(bad));
});

test('transfer requests follow the SDK schema', () => {
  const ok = readTransferRequest({
    account_bank: '044',
    account_number: '0690000040',
    amount: 5500,
    narration: 'n',
    currency: 'NGN',
    reference: 'ref_1',
  });
  assert.ok(ok.ok);
  assert.equal(ok.request.bank_name, 'ACCESS BANK');
  assert.equal(ok.request.debit_currency, 'NGN');
  assert.equal(ok.request.amountMinor, 550_000, 'integer minor units inside the simulator');
  // More decimals than the currency has is refused, never rounded (75.505 NGN, 5000.5 UGX).
  for (const [amount, currency] of [
    [75.505, 'NGN'],
    ['5000.5', 'UGX'],
  ] as const)
    assert.match(
      JSON.stringify(readTransferRequest({ account_bank: '044', account_number: '0690000040', amount, currency })),
      /amount must be/,
    );
  assert.match(
    JSON.stringify(readTransferRequest({ account_bank: '999', account_number: '0690000040', amount: 1 })),
    /Unknown bank code/,
  );
  assert.match(
    JSON.stringify(readTransferRequest({ account_bank: '044', account_number: '0690000040', amount: 0 })),
    /amount/,
  );
  assert.match(
    JSON.stringify(
      readTransferRequest({ account_bank: '044', account_number: '0690000040', amount: 1, reference: 'r'.repeat(101) }),
    ),
    /at most 100/,
  );
});

test('settings are validated whole, and unknown ones are refused', () => {
  assert.deepEqual(readSettings({ payloadShape: 'flat', notFoundHttpStatus: 200 }), {
    ok: true,
    changes: { payloadShape: 'flat', notFoundHttpStatus: 200 },
  });
  assert.match(JSON.stringify(readSettings({ payloadShape: 'xml' })), /payloadShape: v3 \| flat/);
  assert.match(JSON.stringify(readSettings({ webhookUrl: 'ftp://x' })), /webhookUrl/);
  assert.match(JSON.stringify(readSettings({ __proto__x: 1 })), /unknown setting/);
  assert.equal(readSettings(JSON.parse('{"__proto__":{"polluted":true}}')).ok, false);
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
});
