// Stripe's charge-amount rules as its API applies them to `unit_amount` totals, in Stripe's own
// units (docs.stripe.com/currencies): minimum charges, whole krónur for ISK (in Stripe's API 100 =
// 1 kr, so a multiple of 100), a last digit of 0 for three-decimal currencies. Written apart from
// the gateway's table (src/money/provider-amounts.ts) on purpose: each checks the other in tests.
// The codes and messages follow Stripe's (amount_too_small; the ISK notice's
// invalid_charge_amount_no_decimal_compatible).

/** Minimum totals in Stripe units, for the currencies whose minimum Stripe publishes. */
const MINIMUM: Readonly<Record<string, { amount: number; text: string }>> = {
  usd: { amount: 50, text: '$0.50 usd' },
  eur: { amount: 50, text: '€0.50 eur' },
  gbp: { amount: 30, text: '£0.30 gbp' },
  jpy: { amount: 50, text: '¥50 jpy' },
  huf: { amount: 17_500, text: '175.00 Ft huf' },
};
const THREE_DECIMAL = new Set(['bhd', 'jod', 'kwd', 'omr', 'tnd']);

export type AmountRefusal = { code: string; message: string };

export function amountRefusal(amountTotal: number, currency: string): AmountRefusal | undefined {
  const minimum = MINIMUM[currency];
  if (minimum !== undefined && amountTotal < minimum.amount)
    return {
      code: 'amount_too_small',
      message: `The Checkout Session's total amount due must add up to at least ${minimum.text}`,
    };
  if (currency === 'isk' && amountTotal % 100 !== 0)
    return {
      code: 'invalid_charge_amount_no_decimal_compatible',
      message:
        'Invalid amount. Currency ISK has become effectively zero-decimal and charged amounts must be evenly divisible by 100.',
    };
  if (THREE_DECIMAL.has(currency) && amountTotal % 10 !== 0)
    return { code: 'invalid_amount', message: `Amounts in ${currency} must end in 0.` };
  return undefined;
}
