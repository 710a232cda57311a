import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isValidAmountMinor, majorToMinor, minorToMajorString, type MajorToMinor } from './amount.ts';
import { seededRandom } from '../../test/helpers/seeded-random.ts';

const ok = (amountMinor: number): MajorToMinor => ({ ok: true, amountMinor });
const fail = (reason: 'not_a_number' | 'too_many_decimals' | 'negative' | 'unsafe'): MajorToMinor => ({
  ok: false,
  reason,
});

test('minor to major strings', () => {
  assert.equal(minorToMajorString(7550, 'NGN'), '75.50');
  assert.equal(minorToMajorString(5, 'NGN'), '0.05');
  assert.equal(minorToMajorString(0, 'USD'), '0.00');
  assert.equal(minorToMajorString(100, 'USD'), '1.00');
  assert.equal(minorToMajorString(500, 'JPY'), '500');
  assert.equal(minorToMajorString(0, 'JPY'), '0');
  assert.equal(minorToMajorString(1234, 'KWD'), '1.234');
  assert.equal(minorToMajorString(7, 'KWD'), '0.007');
  assert.equal(minorToMajorString(12345, 'CLF'), '1.2345');
  assert.equal(minorToMajorString(Number.MAX_SAFE_INTEGER, 'USD'), '90071992547409.91');
  for (const bad of [1.5, -1, Number.NaN, Number.POSITIVE_INFINITY, Number.MAX_SAFE_INTEGER + 1])
    assert.throws(() => minorToMajorString(bad, 'NGN'), /not an amount/, String(bad));
  assert.throws(() => minorToMajorString(100, 'XXX'), /unknown currency/);
});

test('major to minor from strings', () => {
  assert.deepEqual(majorToMinor('75.50', 'NGN'), ok(7550));
  assert.deepEqual(majorToMinor('75.5', 'NGN'), ok(7550));
  assert.deepEqual(majorToMinor('75', 'NGN'), ok(7500));
  assert.deepEqual(majorToMinor('0.01', 'USD'), ok(1));
  assert.deepEqual(majorToMinor('007.50', 'USD'), ok(750));
  assert.deepEqual(majorToMinor('100', 'JPY'), ok(100));
  assert.deepEqual(majorToMinor('1.000', 'JPY'), ok(1), 'trailing zeros are not precision');
  assert.deepEqual(majorToMinor('1.234', 'KWD'), ok(1234));
  assert.deepEqual(majorToMinor('1.2345', 'CLF'), ok(12345));
  assert.deepEqual(
    majorToMinor('1.005', 'USD'),
    fail('too_many_decimals'),
    'the float trap 1.005 * 100 = 100.49999...',
  );
  assert.deepEqual(majorToMinor('75.505', 'NGN'), fail('too_many_decimals'));
  assert.deepEqual(majorToMinor('75.5050', 'NGN'), fail('too_many_decimals'));
  assert.deepEqual(majorToMinor('1.5', 'JPY'), fail('too_many_decimals'));
  assert.deepEqual(majorToMinor('0.0001', 'KWD'), fail('too_many_decimals'));
});

test('major to minor from JSON numbers, through their shortest decimal form', () => {
  assert.deepEqual(majorToMinor(75.5, 'NGN'), ok(7550));
  assert.deepEqual(majorToMinor(19.99, 'USD'), ok(1999));
  assert.deepEqual(majorToMinor(0.3, 'USD'), ok(30));
  assert.deepEqual(majorToMinor(1.005, 'USD'), fail('too_many_decimals'));
  assert.deepEqual(majorToMinor(4.35, 'USD'), ok(435), '4.35 * 100 = 434.99999999999994 in floats');
  assert.deepEqual(majorToMinor(1.15, 'KWD'), ok(1150));
  assert.deepEqual(majorToMinor(0.1 + 0.2, 'USD'), fail('too_many_decimals'), '0.30000000000000004 is what was sent');
  assert.deepEqual(majorToMinor(500, 'JPY'), ok(500));
  assert.deepEqual(majorToMinor(0, 'USD'), ok(0));
  assert.deepEqual(majorToMinor(-0, 'USD'), ok(0));
  assert.deepEqual(majorToMinor(-5, 'USD'), fail('negative'));
  assert.deepEqual(majorToMinor(Number.NaN, 'NGN'), fail('not_a_number'));
  assert.deepEqual(majorToMinor(Number.POSITIVE_INFINITY, 'NGN'), fail('not_a_number'));
  assert.deepEqual(majorToMinor(1e21, 'USD'), fail('unsafe'), 'String(1e21) is "1e+21"');
  assert.deepEqual(majorToMinor(1.5e-7, 'USD'), fail('too_many_decimals'), 'String(1.5e-7) is "1.5e-7"');
  assert.deepEqual(majorToMinor(5e-324, 'USD'), fail('too_many_decimals'));
  assert.deepEqual(majorToMinor(Number.MAX_VALUE, 'USD'), fail('unsafe'));
});

test('exponent notation is read as a decimal, never through a float', () => {
  assert.deepEqual(majorToMinor(1e3, 'NGN'), ok(100000));
  assert.deepEqual(majorToMinor('1e3', 'NGN'), ok(100000));
  assert.deepEqual(majorToMinor('1E3', 'NGN'), ok(100000));
  assert.deepEqual(majorToMinor('1e+3', 'NGN'), ok(100000));
  assert.deepEqual(majorToMinor('1.5e-1', 'USD'), ok(15));
  assert.deepEqual(majorToMinor(1.5e-1, 'USD'), ok(15));
  assert.deepEqual(majorToMinor('1e-2', 'USD'), ok(1));
  assert.deepEqual(majorToMinor('1e-3', 'USD'), fail('too_many_decimals'));
  assert.deepEqual(majorToMinor('100e-2', 'JPY'), ok(1));
  assert.deepEqual(majorToMinor('1.2300e1', 'USD'), ok(1230));
  assert.deepEqual(majorToMinor('12345e-3', 'KWD'), ok(12345));
  assert.deepEqual(majorToMinor('0e999', 'USD'), ok(0));
  assert.deepEqual(majorToMinor('0.000e-999', 'USD'), ok(0));
  assert.deepEqual(majorToMinor('7550000e-5', 'NGN'), ok(7550));
});

test('huge exponents are judged by length, without building the number', () => {
  const started = performance.now();
  assert.deepEqual(majorToMinor('1e999999999', 'USD'), fail('unsafe'));
  assert.deepEqual(majorToMinor('1e-999999999', 'USD'), fail('too_many_decimals'));
  assert.deepEqual(majorToMinor('1e99999999999999999999999999', 'USD'), fail('unsafe'));
  assert.deepEqual(majorToMinor('1e-99999999999999999999999999', 'USD'), fail('too_many_decimals'));
  assert.deepEqual(majorToMinor(`1e${'9'.repeat(400)}`, 'USD'), fail('unsafe'));
  assert.deepEqual(majorToMinor(`1e-${'9'.repeat(400)}`, 'USD'), fail('too_many_decimals'));
  assert.deepEqual(majorToMinor(`1${'0'.repeat(100_000)}e-100000`, 'USD'), ok(100));
  assert.deepEqual(majorToMinor(`0.${'0'.repeat(100_000)}1e100001`, 'USD'), ok(100));
  assert.ok(performance.now() - started < 1000);
});

test('bounds: the largest safe amount, and one past it', () => {
  assert.deepEqual(majorToMinor('9007199254740991', 'JPY'), ok(Number.MAX_SAFE_INTEGER));
  assert.deepEqual(majorToMinor('9007199254740992', 'JPY'), fail('unsafe'));
  assert.deepEqual(majorToMinor('90071992547409.91', 'USD'), ok(Number.MAX_SAFE_INTEGER));
  assert.deepEqual(majorToMinor('90071992547409.92', 'USD'), fail('unsafe'));
  assert.deepEqual(majorToMinor('9007199254740.991', 'KWD'), ok(Number.MAX_SAFE_INTEGER));
  assert.deepEqual(majorToMinor('99999999999999999', 'JPY'), fail('unsafe'));
  assert.deepEqual(majorToMinor('1e20', 'NGN'), fail('unsafe'));
  assert.deepEqual(majorToMinor('1e15', 'JPY'), ok(1e15));
  assert.deepEqual(majorToMinor('1e16', 'JPY'), fail('unsafe'));
  assert.deepEqual(majorToMinor(`${'0'.repeat(50)}9007199254740991`, 'JPY'), ok(Number.MAX_SAFE_INTEGER));
});

test('refusals: not a number, negative', () => {
  for (const bad of [
    '',
    ' ',
    'abc',
    '1,000.00',
    '1 000',
    ' 75.50',
    '75.50 ',
    '+5',
    '.5',
    '5.',
    '1..2',
    '1.2.3',
    '0x10',
    '1e',
    'e3',
    '1e+',
    '--1',
    '-',
    'Infinity',
    'NaN',
    '١٢٣',
    '１２',
    '75.50\n',
    '1_000',
  ]) {
    assert.deepEqual(majorToMinor(bad, 'NGN'), fail('not_a_number'), JSON.stringify(bad));
  }
  for (const notNumeric of [null, undefined, true, {}, [], 10n]) {
    assert.deepEqual(majorToMinor(notNumeric as unknown as string, 'NGN'), fail('not_a_number'), String(notNumeric));
  }
  for (const negative of ['-1', '-0.01', '-1e3', '-1.555', '-99999999999999999999'])
    assert.deepEqual(majorToMinor(negative, 'NGN'), fail('negative'), negative);
  for (const zero of ['-0', '-0.00', '0', '0.0', '000']) assert.deepEqual(majorToMinor(zero, 'NGN'), ok(0), zero);
  assert.throws(
    () => majorToMinor('1', 'XXX'),
    /unknown currency/,
    'an unknown currency is a bug upstream, not an amount',
  );
});

test('property: every amount 0..100000 round-trips, as a string and as a JSON number', () => {
  for (const currency of ['JPY', 'NGN', 'KWD', 'CLF']) {
    for (let minor = 0; minor <= 100_000; minor += 1) {
      const major = minorToMajorString(minor, currency);
      const back = majorToMinor(major, currency);
      if (!back.ok || back.amountMinor !== minor)
        assert.fail(`${minor} ${currency} -> ${major} -> ${JSON.stringify(back)}`);
      // The provider's JSON number, as JSON.parse would hand it to us.
      const viaJson = majorToMinor(JSON.parse(major) as number, currency);
      if (!viaJson.ok || viaJson.amountMinor !== minor)
        assert.fail(`${minor} ${currency} via JSON number ${major} -> ${JSON.stringify(viaJson)}`);
    }
  }
});

test('property: exponent notation and padding never change the value', () => {
  const random = seededRandom(4217);
  for (let i = 0; i < 20_000; i += 1) {
    const minor = Math.floor(random() * 10 ** Math.floor(random() * 16));
    for (const [currency, exponent] of [
      ['JPY', 0],
      ['USD', 2],
      ['KWD', 3],
    ] as const) {
      const shift = Math.floor(random() * 8);
      const forms = [
        `${minor}e-${exponent}`,
        `${minor}${'0'.repeat(shift)}e-${exponent + shift}`,
        `0${minorToMajorString(minor, currency)}${exponent > 0 ? '0'.repeat(shift) : ''}`,
      ];
      for (const form of forms) {
        const result = majorToMinor(form, currency);
        if (!result.ok || result.amountMinor !== minor)
          assert.fail(`${form} ${currency}: expected ${minor}, got ${JSON.stringify(result)}`);
      }
      // One more significant decimal than the currency has is always refused.
      if (majorToMinor(`${minor}1e-${exponent + 1}`, currency).ok)
        assert.fail(`${minor}1e-${exponent + 1} ${currency} accepted`);
    }
  }
});

test('property: large amounts round-trip exactly up to MAX_SAFE_INTEGER', () => {
  const random = seededRandom(9007);
  for (let i = 0; i < 20_000; i += 1) {
    const minor =
      Number(BigInt(Math.floor(random() * 2 ** 21)) * 2n ** 32n + BigInt(Math.floor(random() * 2 ** 32))) %
      (Number.MAX_SAFE_INTEGER + 1);
    for (const currency of ['JPY', 'USD', 'KWD']) {
      const back = majorToMinor(minorToMajorString(minor, currency), currency);
      if (!back.ok || back.amountMinor !== minor) assert.fail(`${minor} ${currency}`);
    }
  }
});

test('valid minor amounts are safe positive integers', () => {
  for (const good of [1, 7550, Number.MAX_SAFE_INTEGER]) assert.equal(isValidAmountMinor(good), true, String(good));
  for (const bad of [
    0,
    -0,
    -1,
    1.5,
    Number.NaN,
    Number.POSITIVE_INFINITY,
    Number.MAX_SAFE_INTEGER + 1,
    '5',
    5n,
    null,
    undefined,
    {},
  ])
    assert.equal(isValidAmountMinor(bad), false, String(bad));
});
