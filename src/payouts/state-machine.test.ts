import { test } from 'node:test';
import assert from 'node:assert/strict';
import { targetFor } from './engine.ts';
import { canTransitionPayout, payoutEventTypeFor } from './state-machine.ts';

test('unknown is never folded into failed by the machine: only the provider moves it', () => {
  assert.equal(targetFor('unknown', 'unknown'), undefined);
  assert.equal(targetFor('pending', 'unknown'), 'unknown');
  assert.equal(targetFor('unknown', 'processing'), 'processing');
  assert.equal(targetFor('unknown', 'failed'), 'failed');
});

test('late and repeated signals cannot move a payout backwards or twice', () => {
  assert.equal(targetFor('succeeded', 'processing'), undefined);
  assert.equal(targetFor('succeeded', 'pending'), undefined);
  assert.equal(targetFor('succeeded', 'succeeded'), undefined);
  assert.equal(targetFor('processing', 'pending'), undefined);
  assert.equal(targetFor('failed', 'failed'), undefined);
  assert.equal(canTransitionPayout('succeeded', 'processing'), false);
  assert.equal(canTransitionPayout('reversed', 'succeeded'), false);
  assert.equal(canTransitionPayout('cancelled', 'pending'), false);
});

test('a reversal follows a success; contradicting evidence goes to review, never silently', () => {
  assert.equal(targetFor('succeeded', 'reversed'), 'reversed');
  assert.equal(targetFor('succeeded', 'failed'), 'review');
  // The merchant was told it failed; the provider now says the money went.
  assert.equal(targetFor('failed', 'succeeded'), 'review');
  assert.equal(canTransitionPayout('failed', 'succeeded'), false);
});

test('a new attempt only from failed, and cancel only from pending', () => {
  assert.equal(canTransitionPayout('failed', 'pending'), true);
  assert.equal(canTransitionPayout('unknown', 'pending'), false);
  assert.equal(canTransitionPayout('processing', 'cancelled'), false);
  assert.equal(canTransitionPayout('unknown', 'cancelled'), false);
  assert.equal(canTransitionPayout('pending', 'cancelled'), true);
});

test('events: one per announced status; pending and unknown are visible but not announced', () => {
  assert.equal(payoutEventTypeFor('succeeded'), 'payout.succeeded');
  assert.equal(payoutEventTypeFor('requires_action'), 'payout.requires_action');
  assert.equal(payoutEventTypeFor('unknown'), null);
  assert.equal(payoutEventTypeFor('pending'), null);
});

test('a hold: entered from pending only, released to pending, or ended without a send', () => {
  assert.equal(canTransitionPayout('pending', 'on_hold'), true);
  for (const from of ['unknown', 'processing', 'requires_action', 'succeeded', 'failed'] as const)
    assert.equal(canTransitionPayout(from, 'on_hold'), false, from);
  for (const to of ['pending', 'rejected', 'expired', 'cancelled'] as const)
    assert.equal(canTransitionPayout('on_hold', to), true, to);
  for (const to of ['processing', 'unknown', 'succeeded', 'failed', 'requires_review'] as const)
    assert.equal(canTransitionPayout('on_hold', to), false, to);
  for (const end of ['rejected', 'expired'] as const) assert.equal(canTransitionPayout(end, 'pending'), false);
  assert.equal(payoutEventTypeFor('on_hold'), 'payout.on_hold');
  assert.equal(payoutEventTypeFor('rejected'), 'payout.rejected');
  assert.equal(payoutEventTypeFor('expired'), 'payout.expired');
});
