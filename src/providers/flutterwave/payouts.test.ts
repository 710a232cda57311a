import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readCreateAnswer, readGetAnswer, readTransfer, toTransferBody } from './payout-transformers.ts';

const request = {
  payoutId: 'po_x',
  reference: 'pwo-abcdefghijklmnopqrstuvwx',
  amountMinor: 150_075,
  currency: 'NGN',
  narration: 'n',
  destination: {
    type: 'bank_account' as const,
    country: 'NG',
    bankCode: '044',
    accountNumber: '0690000031',
    accountName: 'A B',
  },
  recipient: undefined,
};

test('the amount goes out in major units as the exact decimal text, the reference as given', () => {
  const body = toTransferBody(request);
  assert.match(body, /"amount":1500\.75[,}]/);
  assert.equal(JSON.parse(body).reference, request.reference);
  assert.match(toTransferBody({ ...request, amountMinor: 999_999_999_999 }), /"amount":9999999999\.99[,}]/);
  assert.match(toTransferBody({ ...request, currency: 'UGX', amountMinor: 5000 }), /"amount":5000[,}]/);
});

test('an amount the provider reports that is not exact in minor units is undefined (review), never rounded', () => {
  const t = readTransfer({ reference: 'r', status: 'SUCCESSFUL', amount: 1500.755, currency: 'NGN', id: 1 });
  assert.equal(t?.amountMinor, undefined);
  assert.equal(
    readTransfer({ reference: 'r', status: 'SUCCESSFUL', amount: 1500.75, currency: 'NGN', id: 1 })?.amountMinor,
    150_075,
  );
});

test('statuses: only SUCCESSFUL and FAILED are final; an unknown word is unknown, never failed', () => {
  const status = (s: string) => readTransfer({ reference: 'r', status: s, amount: 1, currency: 'NGN' })?.status;
  assert.equal(status('NEW'), 'pending');
  assert.equal(status('PENDING'), 'processing');
  assert.equal(status('SUCCESSFUL'), 'succeeded');
  assert.equal(status('FAILED'), 'failed');
  assert.equal(status('QUEUED'), 'unknown');
  assert.equal(status('Successful'), 'succeeded');
});

test('create answers: duplicate means exists, refusals are definite with a reason, anything unreadable is indefinite', () => {
  const err = (message: string) => JSON.stringify({ status: 'error', message, data: null });
  assert.equal(readCreateAnswer(400, err('A transfer with this reference already exists')).kind, 'duplicate_reference');
  assert.equal(readCreateAnswer(400, err('Duplicate reference')).kind, 'duplicate_reference');
  const poor = readCreateAnswer(400, err('DISBURSE FAILED: Insufficient funds in customer wallet'));
  assert.deepEqual(poor.kind === 'rejected' && poor.reason, 'insufficient_funds');
  assert.equal(readCreateAnswer(401, err('Invalid authorization key')).kind, 'indefinite');
  assert.equal(readCreateAnswer(200, '<html>bad gateway</html>').kind, 'indefinite');
  assert.equal(readCreateAnswer(200, JSON.stringify({ status: 'success', data: {} })).kind, 'indefinite');
  assert.equal(readCreateAnswer(302, err('moved')).kind, 'indefinite');
});

test('lookups: a list without our reference and "No transfer was found" are not_found; others indefinite', () => {
  assert.equal(readGetAnswer(200, JSON.stringify({ status: 'success', data: [] }), 'r').kind, 'not_found');
  assert.equal(
    readGetAnswer(200, JSON.stringify({ status: 'success', data: [{ reference: 'other', status: 'NEW' }] }), 'r').kind,
    'not_found',
  );
  assert.equal(
    readGetAnswer(400, JSON.stringify({ status: 'error', message: 'No transfer was found for this id' }), 'r').kind,
    'not_found',
  );
  assert.equal(readGetAnswer(400, JSON.stringify({ status: 'error', message: 'Bad' }), 'r').kind, 'indefinite');
});
