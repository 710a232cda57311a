// The columns of a payout file and the checks of one row that need nothing but the row: each
// field is held to the rule the same field of POST /v1/payouts is held to. The amount is written
// as people write money, in the currency's main unit with at most its ISO 4217 exponent of
// decimals ("2500.50" NGN, "1200" JPY, "12.345" KWD), and turned into integer minor units from
// the digits, never through a float.
import { idPattern } from '../ids.ts';
import { currencyExponent, isCurrency } from '../money/currencies.ts';
import { NARRATION_PATTERN, REFERENCE_PATTERN, TEXT_MAX_LENGTH } from '../payouts/schemas.ts';

export const COLUMNS = ['amount', 'currency', 'beneficiary', 'reference', 'narration'] as const;
export type Column = (typeof COLUMNS)[number];
export type RowValues = Readonly<Record<Column, string>>;

/** The largest amount a payout may have, as for POST /v1/payouts. */
export const MAX_AMOUNT_MINOR = 999_999_999_999;

/** Stable codes of what can be wrong with a row (docs: README "Bulk payouts from a file"). */
export type RowErrorCode =
  | 'columns_count'
  | 'amount_invalid'
  | 'amount_too_precise'
  | 'amount_out_of_range'
  | 'currency_invalid'
  | 'beneficiary_invalid'
  | 'beneficiary_not_found'
  | 'beneficiary_currency_mismatch'
  | 'reference_invalid'
  | 'reference_duplicate_in_file'
  | 'reference_used'
  | 'narration_invalid'
  | 'payout_not_accepted';

export interface RowError {
  readonly field: Column | 'row';
  readonly code: RowErrorCode;
  readonly message: string;
}

const BENEFICIARY = new RegExp(idPattern('ben'));
const REFERENCE = new RegExp(REFERENCE_PATTERN);
const NARRATION = new RegExp(NARRATION_PATTERN, 'u');
const DECIMAL = /^([0-9]{1,13})(?:\.([0-9]{1,4}))?$/;

export function rowValues(cells: readonly string[]): RowValues {
  return Object.fromEntries(COLUMNS.map((c, i) => [c, cells[i] ?? ''])) as Record<Column, string>;
}

/** Minor units from a decimal string, by digits (no float ever holds the amount). */
export function parseAmount(
  text: string,
  currency: string,
): { ok: true; minor: number } | { ok: false; error: RowError } {
  const fail = (code: RowErrorCode, message: string) => ({
    ok: false as const,
    error: { field: 'amount' as const, code, message },
  });
  const match = DECIMAL.exec(text);
  if (match === null)
    return fail(
      'amount_invalid',
      'Write the amount in the main unit with digits and at most one decimal point (2500.50): no sign, spaces, thousands separators or currency symbol.',
    );
  const exponent = currencyExponent(currency);
  const fraction = match[2] ?? '';
  if (fraction.length > exponent)
    return fail(
      'amount_too_precise',
      exponent === 0
        ? `${currency} has no minor unit: write a whole number.`
        : `${currency} has ${exponent} decimal places at most.`,
    );
  const minor = BigInt(match[1]!) * 10n ** BigInt(exponent) + BigInt(fraction.padEnd(exponent, '0') || '0');
  if (minor < 1n || minor > BigInt(MAX_AMOUNT_MINOR))
    return fail('amount_out_of_range', 'The amount must be more than zero and within the largest payout accepted.');
  return { ok: true, minor: Number(minor) };
}

/** Everything that can be said about a row alone; `amountMinor` is null when the amount is not valid. */
export function checkRow(cells: readonly string[]): {
  values: RowValues;
  amountMinor: number | null;
  errors: RowError[];
} {
  const values = rowValues(cells);
  const errors: RowError[] = [];
  if (cells.length !== COLUMNS.length)
    errors.push({
      field: 'row',
      code: 'columns_count',
      message: `The row has ${cells.length} fields; every row has ${COLUMNS.length} (${COLUMNS.join(', ')}). A comma inside a value needs quotes.`,
    });
  let amountMinor: number | null = null;
  if (!isCurrency(values.currency))
    errors.push({
      field: 'currency',
      code: 'currency_invalid',
      message: 'Not an ISO 4217 currency code (NGN, KES, USD...).',
    });
  else {
    const amount = parseAmount(values.amount, values.currency);
    if (amount.ok) amountMinor = amount.minor;
    else errors.push(amount.error);
  }
  if (!BENEFICIARY.test(values.beneficiary))
    errors.push({
      field: 'beneficiary',
      code: 'beneficiary_invalid',
      message: 'Not a beneficiary id (ben_ and 22 letters or digits).',
    });
  if (values.reference.length > TEXT_MAX_LENGTH || !REFERENCE.test(values.reference))
    errors.push({
      field: 'reference',
      code: 'reference_invalid',
      message: `1 to ${TEXT_MAX_LENGTH} characters: letters, digits and . _ : / -, starting with a letter or digit.`,
    });
  if (values.narration !== '' && (values.narration.length > TEXT_MAX_LENGTH || !NARRATION.test(values.narration)))
    errors.push({
      field: 'narration',
      code: 'narration_invalid',
      message: `Empty, or up to ${TEXT_MAX_LENGTH} letters, digits, spaces and . , ' ( ) / : _ # -`,
    });
  return { values, amountMinor, errors };
}
