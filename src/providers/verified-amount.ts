// How the currency and amount of a verify answer become a VerifiedTransaction's, for every
// provider. An answer that leaves the currency out, names one we do not know, or gives an amount
// that is not an exact number of minor units has not told us what was paid. It is still read (its
// status may be a definite failure worth acting on), with a currency of '' and an amount of
// undefined: neither equals any order, so verification (compareWithPayment) calls a success a
// mismatch and the payment goes to requires_review (COL-1). Throwing instead would make the
// verification job retry until it is dead, with the payment stuck in pending.
import { majorToMinor } from '../money/amount.ts';
import { knownExponent } from '../money/currencies.ts';

/** The currency as the provider wrote it, upper-cased (Stripe writes `usd`); '' when it is not a
 * string. No trimming or guessing: a currency we would have to repair is not the one ordered. */
export function answeredCurrency(value: unknown): string {
  return typeof value === 'string' ? value.toUpperCase() : '';
}

/** An amount in major units (Flutterwave, KwikPaisa), in minor units of `currency`, exactly;
 * undefined when the currency has no known exponent or the amount is no exact decimal. */
export function majorAmountInMinor(amount: unknown, currency: string): number | undefined {
  if (knownExponent(currency) === undefined) return undefined;
  if (typeof amount !== 'number' && typeof amount !== 'string') return undefined;
  const converted = majorToMinor(amount, currency);
  return converted.ok ? converted.amountMinor : undefined;
}

/** The `feeMinor` of a VerifiedTransaction, present only when the provider reported an exact fee. */
export function withFee(feeMinor: number | undefined): { feeMinor?: number } {
  return feeMinor === undefined ? {} : { feeMinor };
}
