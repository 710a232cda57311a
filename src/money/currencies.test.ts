import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CURRENCY_CODES, CURRENCY_TABLE, currencyExponent, isCurrency, knownExponent } from './currencies.ts';

test('exponents from ISO 4217 List One', () => {
  const expected: Record<string, number> = {
    USD: 2,
    EUR: 2,
    NGN: 2,
    GBP: 2,
    KES: 2,
    GHS: 2,
    ZAR: 2,
    INR: 2,
    XCG: 2,
    ZWG: 2,
    SLE: 2,
    VED: 2,
    MGA: 2,
    MRU: 2,
    IDR: 2,
    HUF: 2,
    JPY: 0,
    KRW: 0,
    UGX: 0,
    RWF: 0,
    XOF: 0,
    XAF: 0,
    CLP: 0,
    VND: 0,
    ISK: 0,
    PYG: 0,
    GNF: 0,
    KMF: 0,
    DJF: 0,
    BIF: 0,
    VUV: 0,
    XPF: 0,
    BHD: 3,
    IQD: 3,
    JOD: 3,
    KWD: 3,
    LYD: 3,
    OMR: 3,
    TND: 3,
    CLF: 4,
    UYW: 4,
    UYI: 0,
  };
  for (const [code, exponent] of Object.entries(expected)) assert.equal(currencyExponent(code), exponent, code);
});

test('payable currencies exclude funds, metals, accounting units and test codes', () => {
  for (const code of ['USD', 'NGN', 'JPY', 'KWD', 'XOF', 'XCG']) assert.equal(isCurrency(code), true, code);
  // Funds and accounting units keep an exponent (a provider report may mention them) but are not payable.
  for (const code of ['CLF', 'UYW', 'UYI', 'USN', 'BOV', 'CHE', 'CHW', 'COU', 'MXV', 'XAD']) {
    assert.equal(isCurrency(code), false, code);
    assert.equal(typeof currencyExponent(code), 'number', code);
  }
  // No minor unit at all: metals, bond units, SDR, testing, "no currency".
  for (const code of ['XAU', 'XAG', 'XPT', 'XPD', 'XBA', 'XBB', 'XBC', 'XBD', 'XDR', 'XSU', 'XUA', 'XTS', 'XXX']) {
    assert.equal(isCurrency(code), false, code);
    assert.throws(() => currencyExponent(code), /unknown currency/, code);
  }
  // Withdrawn codes.
  for (const code of ['ANG', 'BGN', 'CUC', 'HRK', 'SLL', 'ZWL', 'VEF', 'MRO', 'STD', 'LTL'])
    assert.equal(isCurrency(code), false, code);
});

test('lookups are exact and never reach Object.prototype', () => {
  for (const bad of [
    'usd',
    'Usd',
    ' USD',
    'USD ',
    'US',
    'USDX',
    '',
    'constructor',
    '__proto__',
    'toString',
    'hasOwnProperty',
    'ABC',
  ]) {
    assert.equal(isCurrency(bad), false, JSON.stringify(bad));
    assert.throws(() => currencyExponent(bad), /unknown currency/);
  }
  for (const notString of [undefined, null, 840, {}, ['USD']]) assert.equal(isCurrency(notString), false);
  // The non-throwing lookup, for codes read from a provider's answer.
  for (const bad of ['', 'usd', 'XXX', 'constructor', '__proto__'])
    assert.equal(knownExponent(bad), undefined, JSON.stringify(bad));
  assert.equal(knownExponent('KWD'), 3);
  assert.equal(knownExponent('CLF'), 4);
});

test('the table is frozen, sorted, unique and well formed', () => {
  assert.ok(Object.isFrozen(CURRENCY_TABLE) && Object.isFrozen(CURRENCY_CODES));
  for (const info of CURRENCY_TABLE) {
    assert.ok(Object.isFrozen(info), info.code);
    assert.match(info.code, /^[A-Z]{3}$/);
    assert.ok([0, 2, 3, 4].includes(info.exponent), info.code);
  }
  const codes = CURRENCY_TABLE.map((info) => info.code);
  assert.deepEqual(codes, [...new Set(codes)].sort(), 'sorted without duplicates');
  assert.deepEqual(
    CURRENCY_CODES,
    codes.filter((code) => isCurrency(code)),
  );
  // List One (2026-01-01) has 178 codes; 13 of them have no minor unit.
  assert.equal(CURRENCY_TABLE.length, 165);
  assert.equal(CURRENCY_CODES.length, 155);
  assert.throws(() => (CURRENCY_CODES as string[]).push('ABC'));
});

test('every payable code is a currency the platform knows (Intl cross-check)', () => {
  // Independent source: the ICU data shipped with Node. It lags ISO by a few amendments, so only
  // check that we do not invent codes, in one direction.
  const icu = new Set(Intl.supportedValuesOf('currency'));
  const recentAdditions = new Set(['XCG', 'ZWG', 'VED', 'SLE']);
  for (const code of CURRENCY_CODES) if (!recentAdditions.has(code)) assert.ok(icu.has(code), code);
});
