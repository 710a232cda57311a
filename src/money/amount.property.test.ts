// Money as properties (fast-check): conversion between minor units and the providers' major-unit
// decimals is exact in both directions for every safe amount and every currency, never rounds, and
// never throws on hostile input.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { isValidAmountMinor, majorToMinor, minorToMajorString } from './amount.ts';
import { CURRENCY_CODES, currencyExponent } from './currencies.ts';

const currency = fc.constantFrom(...CURRENCY_CODES);
const amountMinor = fc.oneof(fc.integer({ min: 0, max: 10_000_000 }), fc.maxSafeNat());

test('minor -> major string -> minor is the identity, for every currency', () => {
  fc.assert(
    fc.property(amountMinor, currency, (minor, code) => {
      const major = minorToMajorString(minor, code);
      assert.match(major, /^\d+(\.\d+)?$/);
      assert.deepEqual(majorToMinor(major, code), { ok: true, amountMinor: minor });
    }),
    { numRuns: 2000 },
  );
});

test('a JSON number a provider wrote reads back to the exact minor units (no float multiply)', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 2 ** 40 }), currency, (minor, code) => {
      const major = Number(minorToMajorString(minor, code));
      const back = majorToMinor(major, code);
      assert.deepEqual(back, { ok: true, amountMinor: minor });
    }),
    { numRuns: 2000 },
  );
});

test('one digit more than the currency has is refused, never rounded', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 1_000_000_000 }),
      currency,
      fc.integer({ min: 1, max: 9 }),
      (minor, code, digit) => {
        const text = `${minorToMajorString(minor, code)}${currencyExponent(code) === 0 ? '.' : ''}${digit}`;
        assert.deepEqual(majorToMinor(text, code), { ok: false, reason: 'too_many_decimals' });
      },
    ),
    { numRuns: 1000 },
  );
});

test('any string or value: an answer, never an exception, never a negative or unsafe amount', () => {
  const hostile = fc.oneof(
    fc.string({ maxLength: 64 }),
    fc.stringMatching(/^-?\d{0,30}(\.\d{0,30})?([eE][+-]?\d{1,12})?$/),
    fc.double(),
    fc.constantFrom('1e999999999', '-0.00', 'NaN', 'Infinity', '0x10', '+1', '.5', '5.', ' 1', '1 ', '１２'),
  );
  fc.assert(
    fc.property(hostile, currency, (value, code) => {
      const result = majorToMinor(value as number | string, code);
      if (result.ok) assert.ok(Number.isSafeInteger(result.amountMinor) && result.amountMinor >= 0);
      else assert.ok(['not_a_number', 'too_many_decimals', 'negative', 'unsafe'].includes(result.reason));
    }),
    { numRuns: 3000 },
  );
});

test('isValidAmountMinor takes exactly the positive safe integers', () => {
  fc.assert(
    fc.property(fc.anything(), (value) => {
      assert.equal(isValidAmountMinor(value), typeof value === 'number' && Number.isSafeInteger(value) && value > 0);
    }),
  );
});
