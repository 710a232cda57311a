import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkCharge, fromWireAmount, providerCurrencyRule, wireAmount } from './provider-amounts.ts';

test("Stripe's exponents: zero-decimal, ISK kept two-decimal, MGA zero-decimal though ISO says two", () => {
  // docs.stripe.com/currencies: "to charge ¥500, provide an amount value of 500".
  assert.equal(wireAmount('stripe', 'JPY', 500), 500);
  assert.equal(wireAmount('stripe', 'UGX', 5000), 5000, 'UGX: whole shillings');
  // ISK: 100 = 1 kr in Stripe's API; ISO has no minor unit, so our 500 (kr) is 50000 there.
  assert.equal(wireAmount('stripe', 'ISK', 500), 50_000);
  assert.equal(fromWireAmount('stripe', 'ISK', 50_000), 500);
  assert.equal(fromWireAmount('stripe', 'ISK', 50_050), undefined, 'a fraction of a króna is no exact amount');
  // MGA: ISO two-decimal, Stripe zero-decimal: 500.00 Ar is 50000 to us and 500 to Stripe.
  assert.equal(wireAmount('stripe', 'MGA', 50_000), 500);
  assert.equal(fromWireAmount('stripe', 'MGA', 500), 50_000);
  assert.throws(() => wireAmount('stripe', 'MGA', 50_050));
  // HUF and TWD: two decimals for charges, like USD.
  for (const currency of ['USD', 'EUR', 'HUF', 'TWD', 'KWD'])
    assert.equal(wireAmount('stripe', currency, 12_340), 12_340, currency);
  assert.deepEqual(providerCurrencyRule('stripe', 'HUF').payoutMultipleOfMinor, 100);
  assert.deepEqual(providerCurrencyRule('stripe', 'TWD').payoutMultipleOfMinor, 100);
  // Other providers use ISO units as they are.
  assert.equal(wireAmount('paystack', 'NGN', 12_345), 12_345);
  assert.deepEqual(providerCurrencyRule('flutterwave', 'ISK'), {});
});

test("Stripe's minimum charges and amounts it refuses, in ISO minor units", () => {
  assert.deepEqual(checkCharge('stripe', 'USD', 49), { ok: false, problem: 'below_minimum', minimumMinor: 50 });
  assert.deepEqual(checkCharge('stripe', 'USD', 50), { ok: true });
  assert.deepEqual(checkCharge('stripe', 'GBP', 29), { ok: false, problem: 'below_minimum', minimumMinor: 30 });
  assert.deepEqual(checkCharge('stripe', 'JPY', 49), { ok: false, problem: 'below_minimum', minimumMinor: 50 });
  assert.deepEqual(checkCharge('stripe', 'HUF', 17_499), { ok: false, problem: 'below_minimum', minimumMinor: 17_500 });
  // Three-decimal currencies: the last digit must be 0.
  assert.deepEqual(checkCharge('stripe', 'KWD', 1_234), { ok: false, problem: 'not_a_multiple', multipleOfMinor: 10 });
  assert.deepEqual(checkCharge('stripe', 'KWD', 1_230), { ok: true });
  assert.deepEqual(checkCharge('stripe', 'MGA', 50_050), {
    ok: false,
    problem: 'not_a_multiple',
    multipleOfMinor: 100,
  });
  assert.deepEqual(checkCharge('stripe', 'ISK', 1), { ok: true }, 'one whole króna: no published minimum to check');
  assert.deepEqual(checkCharge('paystack', 'NGN', 1), { ok: true });
});
