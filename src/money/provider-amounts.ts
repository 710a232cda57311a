// What each provider's API does with amounts on top of ISO 4217 (currencies.ts): the exponent its
// amount field uses where that differs from ISO's, the smallest charge it takes, and the amounts
// it refuses. One table for payments and payouts (src/payouts/ reads it too), checked before a
// provider is called, so a merchant gets a 400 naming the rule instead of a provider refusal.
// Amounts in and out are ISO minor units; only wireAmount/fromWireAmount speak the provider's.
import { currencyExponent, knownExponent } from './currencies.ts';

export interface ProviderCurrencyRule {
  /** The exponent of the provider's amount field, when it is not the ISO exponent. */
  readonly wireExponent?: number;
  /** The smallest charge, in ISO minor units. */
  readonly minimumChargeMinor?: number;
  /** A charge must be a multiple of this many ISO minor units. */
  readonly chargeMultipleOfMinor?: number;
  /** A payout must be a multiple of this many ISO minor units. */
  readonly payoutMultipleOfMinor?: number;
}

// docs.stripe.com/currencies: zero-decimal currencies (the amount is whole units; MGA is
// two-decimal in ISO but zero-decimal at Stripe, so only whole ariary can be charged).
const STRIPE_ZERO_DECIMAL = 'BIF CLP DJF GNF JPY KMF KRW MGA PYG RWF UGX VND VUV XAF XOF XPF'.split(' ');
// Three-decimal currencies: the last digit must be 0 (amounts rounded to the nearest ten).
const STRIPE_THREE_DECIMAL = 'BHD JOD KWD OMR TND'.split(' ');
// Minimum charge amounts (docs.stripe.com/currencies#minimum-and-maximum-charge-amounts), ISO
// minor units. For other currencies Stripe's minimum is the equivalent of USD 0.50 in the
// account's settlement currency, which no static table can know: not checked here.
const STRIPE_MINIMUMS: Readonly<Record<string, number>> = {
  USD: 50,
  EUR: 50,
  GBP: 30,
  JPY: 50,
  HUF: 17_500,
  AUD: 50,
  CAD: 50,
  CHF: 50,
  NZD: 50,
  SGD: 50,
  DKK: 250,
  NOK: 300,
  SEK: 300,
  PLN: 200,
  CZK: 1_500,
  MXN: 1_000,
  HKD: 400,
  AED: 200,
  BRL: 50,
  INR: 50,
  MYR: 200,
  RON: 200,
  THB: 1_000,
};
// Special cases (docs.stripe.com/currencies#special-cases):
// - ISK is zero-decimal in ISO but stays two-decimal in Stripe's API (100 = 1 kr), whole krónur
//   only (support.stripe.com "Deprecation of fractional ISK charges and refunds", April 2023);
// - HUF and TWD are charged with two decimals, but paid out in whole units (multiples of 100);
// - UGX is charged as zero-decimal (whole shillings), as the zero-decimal list says.
const STRIPE_SPECIAL: Readonly<Record<string, ProviderCurrencyRule>> = {
  ISK: { wireExponent: 2 },
  HUF: { payoutMultipleOfMinor: 100 },
  TWD: { payoutMultipleOfMinor: 100 },
};

function stripeRule(currency: string): ProviderCurrencyRule {
  const iso = knownExponent(currency);
  const minimum = STRIPE_MINIMUMS[currency];
  const base: ProviderCurrencyRule = {
    ...(minimum === undefined ? {} : { minimumChargeMinor: minimum }),
    ...(STRIPE_SPECIAL[currency] ?? {}),
  };
  if (STRIPE_ZERO_DECIMAL.includes(currency))
    return { ...base, wireExponent: 0, ...(iso !== undefined && iso > 0 ? { chargeMultipleOfMinor: 10 ** iso } : {}) };
  if (STRIPE_THREE_DECIMAL.includes(currency)) return { ...base, chargeMultipleOfMinor: 10 };
  return base;
}

/** The provider's rules for a currency (empty where it publishes none we could confirm:
 * Flutterwave, Paystack and KwikPaisa use ISO minor units or ISO major units throughout). */
export function providerCurrencyRule(provider: string, currency: string): ProviderCurrencyRule {
  return provider === 'stripe' ? stripeRule(currency) : {};
}

export type ChargeCheck =
  | { readonly ok: true }
  | { readonly ok: false; readonly problem: 'below_minimum'; readonly minimumMinor: number }
  | { readonly ok: false; readonly problem: 'not_a_multiple'; readonly multipleOfMinor: number };

/** Whether the provider takes a charge of `amountMinor` (ISO minor units) in `currency`. */
export function checkCharge(provider: string, currency: string, amountMinor: number): ChargeCheck {
  const rule = providerCurrencyRule(provider, currency);
  if (rule.chargeMultipleOfMinor !== undefined && amountMinor % rule.chargeMultipleOfMinor !== 0)
    return { ok: false, problem: 'not_a_multiple', multipleOfMinor: rule.chargeMultipleOfMinor };
  if (rule.minimumChargeMinor !== undefined && amountMinor < rule.minimumChargeMinor)
    return { ok: false, problem: 'below_minimum', minimumMinor: rule.minimumChargeMinor };
  return { ok: true };
}

/** ISO minor units to the provider's amount field (ISK 500 kr: 500 -> 50000 at Stripe; MGA
 * 500.00: 50000 -> 500). Throws when not representable: checkCharge refuses those first. */
export function wireAmount(provider: string, currency: string, amountMinor: number): number {
  const shift =
    (providerCurrencyRule(provider, currency).wireExponent ?? currencyExponent(currency)) - currencyExponent(currency);
  if (shift >= 0) return amountMinor * 10 ** shift;
  const divisor = 10 ** -shift;
  if (amountMinor % divisor !== 0)
    throw new Error(`${amountMinor} ${currency} minor units cannot be sent to ${provider} exactly`);
  return amountMinor / divisor;
}

/** The provider's amount field back to ISO minor units; undefined when it is no exact amount. */
export function fromWireAmount(provider: string, currency: string, wire: number): number | undefined {
  if (!Number.isSafeInteger(wire) || wire < 0) return undefined;
  const iso = knownExponent(currency);
  if (iso === undefined) return undefined;
  const shift = (providerCurrencyRule(provider, currency).wireExponent ?? iso) - iso;
  if (shift <= 0) return wire * 10 ** -shift;
  const divisor = 10 ** shift;
  return wire % divisor === 0 ? wire / divisor : undefined;
}
