// Exact conversion between integer minor units and the decimal major units some providers use.
// No float arithmetic anywhere: a JSON number is read through its shortest decimal string (the
// digits the provider wrote: 75.5 prints as "75.5", never 75.49999...), and the decimal point is
// moved as text. A float multiply (75.5 * 100 = 7550.000000000001, 1.005 * 100 = 100.49999999999999)
// is the classic way to lose or invent a minor unit.
import { currencyExponent } from './currencies.ts';

export type MajorToMinorFailure = 'not_a_number' | 'too_many_decimals' | 'negative' | 'unsafe';
export type MajorToMinor = { ok: true; amountMinor: number } | { ok: false; reason: MajorToMinorFailure };

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const MAX_SAFE_DIGITS = String(Number.MAX_SAFE_INTEGER).length;

// The JSON number grammar, except that leading zeros are tolerated ("007.50" is unambiguous).
// No "+", no bare ".5" or "5.", no whitespace, no hex: anything looser is a provider bug we want
// to see, not guess at. The classes never overlap, so the match is linear in the input length.
const DECIMAL = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/;

/** A positive safe integer: the only valid amount of a payment, refund or payout. */
export function isValidAmountMinor(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value > 0;
}

/** 7550 NGN -> "75.50"; 500 JPY -> "500"; 1234 KWD -> "1.234". Throws on a non-amount (a bug). */
export function minorToMajorString(amountMinor: number, currency: string): string {
  if (!Number.isSafeInteger(amountMinor) || amountMinor < 0)
    throw new Error(`not an amount in minor units: ${amountMinor}`);
  const exponent = currencyExponent(currency);
  if (exponent === 0) return String(amountMinor);
  const digits = String(amountMinor).padStart(exponent + 1, '0');
  return `${digits.slice(0, -exponent)}.${digits.slice(-exponent)}`;
}

/**
 * A major-unit amount as a provider sent it (JSON number or string) to minor units, exactly.
 * "75.50" and 75.5 NGN -> 7550; "1.000" JPY -> 1 (trailing zeros are not precision);
 * "75.505" NGN -> too_many_decimals (never rounded); 1e3 and "1.5e-1" are read as decimals.
 */
export function majorToMinor(major: number | string, currency: string): MajorToMinor {
  const exponent = currencyExponent(currency);
  let text: string;
  if (typeof major === 'number') {
    if (!Number.isFinite(major)) return { ok: false, reason: 'not_a_number' };
    // String(number) is the shortest string that reads back as the same double: for a value a
    // provider wrote as 19.99 that is "19.99", whatever binary approximation sits in between.
    text = String(major);
  } else if (typeof major === 'string') {
    text = major;
  } else {
    return { ok: false, reason: 'not_a_number' };
  }
  const match = DECIMAL.exec(text);
  if (match === null) return { ok: false, reason: 'not_a_number' };
  const [, sign = '', integerDigits = '', fractionDigits = '', exponentText = '0'] = match;

  // value = significand * 10^power, with the significand stripped of leading and trailing zeros,
  // so the checks below look only at lengths and never build a string from an attacker-sized
  // exponent ("1e999999999" must not allocate a gigabyte of zeros).
  let significand = (integerDigits + fractionDigits).replace(/^0+/, '');
  if (significand === '') return { ok: true, amountMinor: 0 }; // "-0.00" is zero, not negative
  if (sign === '-') return { ok: false, reason: 'negative' };
  const trimmed = significand.replace(/0+$/, '');
  // Number() of a long digit run is inexact, but only ever decides between "huge" and "tiny".
  const power = Number(exponentText) - fractionDigits.length + (significand.length - trimmed.length);
  significand = trimmed;

  const zerosToAppend = power + exponent;
  if (zerosToAppend < 0) return { ok: false, reason: 'too_many_decimals' };
  if (significand.length + zerosToAppend > MAX_SAFE_DIGITS) return { ok: false, reason: 'unsafe' };
  const amountMinor = BigInt(significand + '0'.repeat(zerosToAppend));
  if (amountMinor > MAX_SAFE) return { ok: false, reason: 'unsafe' };
  return { ok: true, amountMinor: Number(amountMinor) };
}
