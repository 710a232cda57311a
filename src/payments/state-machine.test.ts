import { test } from 'node:test';
import assert from 'node:assert/strict';
import { awaitsProvider, canTransition, eventTypeFor, PAYMENT_STATUSES } from './state-machine.ts';

test('the payment state machine allows exactly the documented transitions', () => {
  const allowed = new Set([
    'pending>succeeded',
    'pending>failed',
    'pending>requires_review',
    'pending>expired',
    'requires_review>succeeded',
    'requires_review>failed',
    'expired>requires_review',
    'failed>requires_review',
  ]);
  for (const from of PAYMENT_STATUSES) {
    for (const to of PAYMENT_STATUSES) {
      assert.equal(canTransition(from, to), allowed.has(`${from}>${to}`), `${from} -> ${to}`);
    }
  }
});

test('success is final: nothing, not even review, leaves succeeded', () => {
  for (const to of PAYMENT_STATUSES) assert.equal(canTransition('succeeded', to), false);
  assert.equal(awaitsProvider('succeeded'), false);
  assert.equal(awaitsProvider('requires_review'), false);
  assert.equal(awaitsProvider('pending'), true);
});

test('event types are named after the status entered', () => {
  assert.equal(eventTypeFor('succeeded'), 'payment.succeeded');
  assert.equal(eventTypeFor('requires_review'), 'payment.requires_review');
});
