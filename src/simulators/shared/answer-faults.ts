// The answer faults (wrong_amount, wrong_currency, missing_currency), taken and applied the same way
// by every simulator to what its verify (or status) call answers. Amounts are integer minor units,
// as the simulators keep them; each simulator writes the result in its provider's own form.
import { knownExponent } from '../../money/currencies.ts';
import { majorToMinor } from '../../money/amount.ts';
import type { FaultStore } from './faults.ts';

export interface AnswerTruth {
  readonly amountMinor: number;
  /** ISO 4217, upper case (Stripe's lower-case codes are converted by the caller). */
  readonly currency: string;
}

export interface AnswerFaults extends AnswerTruth {
  /** missing_currency: the answer leaves its `currency` field out. */
  readonly dropCurrency: boolean;
}

/** `value` of wrong_amount is in major units in every simulator (1 = one naira, one rupee...);
 * a value finer than the currency's minor unit is still a wrong amount: one minor unit short. */
function majorValueInMinor(value: number, currency: string): number {
  const exact = majorToMinor(value, knownExponent(currency) === undefined ? 'USD' : currency);
  return exact.ok ? exact.amountMinor : 1;
}

/**
 * Takes one use of each answer fault aimed at `scope` and says what the answer should carry: the
 * true amount less `value` (default 1 major unit, never below 0), the other currency
 * (`otherCurrency` of the true one), and whether to leave the currency out.
 */
export function takeAnswerFaults(
  faults: FaultStore,
  scope: string | null | undefined,
  truth: AnswerTruth,
  otherCurrency: (currency: string) => string = (currency) => (currency === 'USD' ? 'NGN' : 'USD'),
): AnswerFaults {
  const wrongAmount = faults.take(['wrong_amount'], scope);
  const wrongCurrency = faults.take(['wrong_currency'], scope);
  const missingCurrency = faults.take(['missing_currency'], scope);
  return {
    amountMinor:
      wrongAmount === undefined
        ? truth.amountMinor
        : Math.max(0, truth.amountMinor - majorValueInMinor(wrongAmount.value ?? 1, truth.currency)),
    currency: wrongCurrency === undefined ? truth.currency : otherCurrency(truth.currency),
    dropCurrency: missingCurrency !== undefined,
  };
}

/** An answer's object without its `currency` field when missing_currency was taken. */
export function withAnswerFaults(record: Record<string, unknown>, faults: AnswerFaults): Record<string, unknown> {
  if (!faults.dropCurrency) return record;
  return Object.fromEntries(Object.entries(record).filter(([key]) => key !== 'currency'));
}
