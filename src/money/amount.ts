// Exact conversion between integer minor units and the decimal major units some providers use.
// No float arithmetic anywhere: a JSON number is read through its shortest decimal string (the
// same digits the provider wrote), and the decimal point is moved as text.
import { currencyExponent } from './currencies.ts';

export type MajorToMinor = { ok: true; amountMinor: number } | { ok: false; reason: 'not_a_number' | 'too_many_decimals' | 'negative' | 'unsafe' };

export function isValidAmountMinor(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value > 0;
}

export function minorToMajorString(amountMinor: number, currency: string): string {
  if (!Number.isSafeInteger(amountMinor) || amountMinor < 0) throw new Error(`not an amount in minor units: ${amountMinor}`);
  const exponent = currencyExponent(currency);
  if (exponent === 0) return String(amountMinor);
  const digits = String(amountMinor).padStart(exponent + 1, '0');
  return `${digits.slice(0, -exponent)}.${digits.slice(-exponent)}`;
}

const DECIMAL = /^(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/;

export function majorToMinor(major: number | string, currency: string): MajorToMinor {
  const text = typeof major === 'number' ? (Number.isFinite(major) ? String(major) : '') : major.trim();
  if (text.startsWith('-')) return /^-\d/.test(text) ? { ok: false, reason: 'negative' } : { ok: false, reason: 'not_a_number' };
  const match = DECIMAL.exec(text.startsWith('+') ? text.slice(1) : text);
  if (match === null) return { ok: false, reason: 'not_a_number' };
  const exponent = currencyExponent(currency);
  let integer = match[1] ?? '0';
  let fraction = match[2] ?? '';
  const shift = Number(match[3] ?? '0');
  // Apply the scientific exponent by moving the decimal point in the digit string.
  if (shift > 0) {
    const moved = fraction.padEnd(shift, '0');
    integer += moved.slice(0, shift);
    fraction = moved.slice(shift);
  } else if (shift < 0) {
    const padded = integer.padStart(-shift + 1, '0');
    fraction = padded.slice(shift) + fraction;
    integer = padded.slice(0, shift);
  }
  const significantFraction = fraction.replace(/0+$/, '');
  if (significantFraction.length > exponent) return { ok: false, reason: 'too_many_decimals' };
  const minorDigits = (integer + significantFraction.padEnd(exponent, '0')).replace(/^0+(?=\d)/, '');
  const amountMinor = Number(minorDigits);
  if (!Number.isSafeInteger(amountMinor)) return { ok: false, reason: 'unsafe' };
  return { ok: true, amountMinor };
}
