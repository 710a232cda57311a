// ISO 4217 alphabetic codes and their minor-unit exponents (SIX "List One", as published
// 2026-01-01). Amounts everywhere in Paywarden are integers in the minor unit; the exponent is
// what converts them for providers that speak in major units.
//
// Two tiers, because "has an exponent" and "may be paid in" are different questions:
// - payable currencies: what a payment may be created in (`isCurrency`);
// - fund and accounting units (CLF, UYW, USN, XAD...): they carry a real exponent in List One, so
//   `currencyExponent` knows them (a provider report may mention one), but nobody is charged in
//   a Chilean indexation unit, so `isCurrency` refuses them.
// Metals, bond units, SDR, XTS (testing) and XXX (no currency) have no minor unit ("N.A.") and
// are absent altogether, so a typo or a test code fails closed instead of scaling by 100.
//
// Recently withdrawn and deliberately absent: ANG (replaced by XCG, 2025), BGN (Bulgaria joined
// the euro, 2026), CUC, HRK, SLL (redenominated as SLE), ZWL (replaced by ZWG).

export type CurrencyExponent = 0 | 2 | 3 | 4;

export interface CurrencyInfo {
  readonly code: string;
  readonly exponent: CurrencyExponent;
  /** False for fund codes and accounting units: they have an exponent but are not charged in. */
  readonly payable: boolean;
}

const PAYABLE_EXPONENT_0 = 'BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX VND VUV XAF XOF XPF';
const PAYABLE_EXPONENT_3 = 'BHD IQD JOD KWD LYD OMR TND';
const PAYABLE_EXPONENT_2 = [
  'AED AFN ALL AMD AOA ARS AUD AWG AZN BAM BBD BDT BMD BND BOB BRL BSD BTN BWP BYN BZD CAD CDF CHF',
  'CNY COP CRC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GTQ GYD HKD HNL',
  'HTG HUF IDR ILS INR IRR JMD KES KGS KHR KPW KYD KZT LAK LBP LKR LRD LSL MAD MDL MGA MKD MMK MNT',
  'MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD PAB PEN PGK PHP PKR PLN QAR RON RSD RUB',
  'SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TOP TRY TTD TWD TZS UAH',
  'USD UYU UZS VED VES WST XCD XCG YER ZAR ZMW ZWG',
].join(' ');
// Fund codes (IsFund in List One) and accounting units, with their List One exponents.
const NOT_PAYABLE: ReadonlyArray<readonly [string, CurrencyExponent]> = [
  ['BOV', 2],
  ['CHE', 2],
  ['CHW', 2],
  ['CLF', 4],
  ['COU', 2],
  ['MXV', 2],
  ['USN', 2],
  ['UYI', 0],
  ['UYW', 4],
  ['XAD', 2],
];

function entries(codes: string, exponent: CurrencyExponent): CurrencyInfo[] {
  return codes.split(' ').map((code) => ({ code, exponent, payable: true }));
}

/** Every known code, sorted, frozen all the way down. */
export const CURRENCY_TABLE: readonly CurrencyInfo[] = Object.freeze(
  [
    ...entries(PAYABLE_EXPONENT_0, 0),
    ...entries(PAYABLE_EXPONENT_2, 2),
    ...entries(PAYABLE_EXPONENT_3, 3),
    ...NOT_PAYABLE.map(([code, exponent]) => ({ code, exponent, payable: false })),
  ]
    .sort((a, b) => (a.code < b.code ? -1 : 1))
    .map((info) => Object.freeze(info)),
);

// A Map rather than an object so that "constructor" or "__proto__" can never look like a currency.
const BY_CODE: ReadonlyMap<string, CurrencyInfo> = new Map(CURRENCY_TABLE.map((info) => [info.code, info]));

/** The codes a payment may be made in, sorted. */
export const CURRENCY_CODES: readonly string[] = Object.freeze(
  CURRENCY_TABLE.filter((info) => info.payable).map((info) => info.code),
);

/** True for a payable ISO 4217 code, exactly as written (upper case, no whitespace). */
export function isCurrency(code: unknown): code is string {
  return typeof code === 'string' && BY_CODE.get(code)?.payable === true;
}

/** The minor-unit exponent of any code in the table, fund codes included; throws for others. */
export function currencyExponent(code: string): CurrencyExponent {
  const exponent = knownExponent(code);
  if (exponent === undefined)
    throw new Error(`unknown currency ${JSON.stringify(code)}: not an ISO 4217 code with a minor unit`);
  return exponent;
}

/** The same, or undefined: for codes that come from outside (a provider's answer), where an
 * unknown code is something to report, not a bug of ours. */
export function knownExponent(code: string): CurrencyExponent | undefined {
  return BY_CODE.get(code)?.exponent;
}
