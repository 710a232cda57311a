import { test } from 'node:test';
import assert from 'node:assert/strict';
import { majorToMinor, minorToMajorString, isValidAmountMinor } from './amount.ts';
import { CURRENCY_CODES, currencyExponent, isCurrency } from './currencies.ts';

test('ISO 4217 exponents', () => {
  assert.equal(currencyExponent('NGN'), 2);
  assert.equal(currencyExponent('JPY'), 0);
  assert.equal(currencyExponent('UGX'), 0);
  assert.equal(currencyExponent('KWD'), 3);
  assert.equal(currencyExponent('CLF'), 4);
  assert.ok(isCurrency('USD') && !isCurrency('usd') && !isCurrency('XAU') && !isCurrency('XXX') && !isCurrency('ABC'));
  assert.ok(CURRENCY_CODES.length > 150);
});

test('minor to major strings', () => {
  assert.equal(minorToMajorString(7550, 'NGN'), '75.50');
  assert.equal(minorToMajorString(5, 'NGN'), '0.05');
  assert.equal(minorToMajorString(0, 'USD'), '0.00');
  assert.equal(minorToMajorString(500, 'JPY'), '500');
  assert.equal(minorToMajorString(1234, 'KWD'), '1.234');
  assert.throws(() => minorToMajorString(1.5, 'NGN'));
  assert.throws(() => minorToMajorString(-1, 'NGN'));
});

test('major to minor, exactly, from numbers and strings', () => {
  const ok = (v: number | string, c: string) => {
    const r = majorToMinor(v, c);
    assert.ok(r.ok, `${v} ${c}: ${JSON.stringify(r)}`);
    return r.amountMinor;
  };
  assert.equal(ok(75.5, 'NGN'), 7550);
  assert.equal(ok('75.50', 'NGN'), 7550);
  assert.equal(ok(0.3, 'USD'), 30);
  assert.equal(ok(1e3, 'NGN'), 100000);
  assert.equal(ok('1.5e-1', 'USD'), 15);
  assert.equal(ok('100', 'JPY'), 100);
  assert.equal(ok('1.000', 'JPY'), 1, 'trailing zeros are fine');
  assert.equal(ok(19.99, 'USD'), 1999);
  assert.deepEqual(majorToMinor(75.505, 'NGN'), { ok: false, reason: 'too_many_decimals' });
  assert.deepEqual(majorToMinor('1.5', 'JPY'), { ok: false, reason: 'too_many_decimals' });
  assert.deepEqual(majorToMinor('-1', 'NGN'), { ok: false, reason: 'negative' });
  assert.deepEqual(majorToMinor('abc', 'NGN'), { ok: false, reason: 'not_a_number' });
  assert.deepEqual(majorToMinor('', 'NGN'), { ok: false, reason: 'not_a_number' });
  assert.deepEqual(majorToMinor(Number.NaN, 'NGN'), { ok: false, reason: 'not_a_number' });
  assert.deepEqual(majorToMinor('1e20', 'NGN'), { ok: false, reason: 'unsafe' });
});

test('every amount round-trips through the major-unit string and back', () => {
  for (const currency of ['JPY', 'NGN', 'KWD']) {
    for (let minor = 0; minor <= 100_000; minor += 1) {
      const major = minorToMajorString(minor, currency);
      const back = majorToMinor(major, currency);
      assert.ok(back.ok && back.amountMinor === minor, `${minor} ${currency} -> ${major}`);
      // and through a JSON number, as providers send it
      const viaJson = majorToMinor(JSON.parse(major) as number, currency);
      if (!(viaJson.ok && viaJson.amountMinor === minor)) assert.fail(`${minor} ${currency} via JSON number ${major}`);
    }
  }
});

test('valid minor amounts are safe positive integers', () => {
  assert.ok(isValidAmountMinor(1));
  for (const bad of [0, -1, 1.5, Number.MAX_SAFE_INTEGER + 1, '5', null]) assert.equal(isValidAmountMinor(bad), false);
});
