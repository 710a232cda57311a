// Every row of a payout file checked before anything is created: the row alone (row-checks.ts),
// then against the file (a reference twice) and the database (the beneficiary saved, not deleted
// and paid in the row's currency; the reference never used by a payout in this mode), then
// exactly as POST /v1/payouts would check it (the payout service's `prepare`: provider, currency,
// destination). The results are what the preview shows; a file with any error creates nothing.
import type { Db } from '../db/schema.ts';
import type { RequestContext } from '../payments/payment-service.ts';
import { ApiError } from '../errors.ts';
import type { PayoutService } from '../payouts/payout-service.ts';
import type { FileRow } from './parse-file.ts';
import { checkRow, type RowError, type RowValues } from './row-checks.ts';

export interface CheckedRow {
  readonly rowNo: number;
  readonly line: number;
  readonly values: RowValues;
  readonly amountMinor: number | null;
  readonly errors: readonly RowError[];
}

export interface ValidationDeps {
  readonly db: Db;
  readonly payouts: Pick<PayoutService, 'prepare'>;
}

// Bound parameters per IN list, well inside both databases' limits.
const CHUNK = 500;

async function inChunks<T>(values: readonly string[], read: (chunk: string[]) => Promise<T[]>): Promise<T[]> {
  const unique = [...new Set(values)];
  const out: T[] = [];
  for (let i = 0; i < unique.length; i += CHUNK) out.push(...(await read(unique.slice(i, i + CHUNK))));
  return out;
}

export async function validateRows(
  deps: ValidationDeps,
  ctx: RequestContext,
  rows: readonly FileRow[],
): Promise<CheckedRow[]> {
  const { mode } = ctx;
  const checked = rows.map((row) => {
    const { values, amountMinor, errors } = checkRow(row.cells);
    return { rowNo: row.rowNo, line: row.line, values, amountMinor, errors: [...errors] };
  });

  const linesByReference = new Map<string, number[]>();
  for (const row of checked) {
    if (row.errors.some((e) => e.field === 'reference')) continue;
    linesByReference.set(row.values.reference, [...(linesByReference.get(row.values.reference) ?? []), row.line]);
  }
  for (const row of checked) {
    const lines = linesByReference.get(row.values.reference) ?? [];
    if (lines.length > 1)
      row.errors.push({
        field: 'reference',
        code: 'reference_duplicate_in_file',
        message: `The reference ${row.values.reference} is on lines ${lines.join(', ')}; each payout needs its own.`,
      });
  }

  const usable = checked.filter((r) => !r.errors.some((e) => e.field === 'beneficiary'));
  const beneficiaries = new Map(
    (
      await inChunks(
        usable.map((r) => r.values.beneficiary),
        (ids) =>
          deps.db
            .selectFrom('beneficiaries')
            .select(['id', 'currency'])
            .where('mode', '=', mode)
            .where('id', 'in', ids)
            .where('deleted_at', 'is', null)
            .execute(),
      )
    ).map((b) => [b.id, b.currency]),
  );
  const used = new Map(
    (
      await inChunks([...linesByReference.keys()], (references) =>
        deps.db
          .selectFrom('payouts')
          .select(['id', 'reference'])
          .where('mode', '=', mode)
          .where('reference', 'in', references)
          .execute(),
      )
    ).map((p) => [p.reference, p.id]),
  );

  // The service's own checks, once per beneficiary and currency (a file pays many people once).
  const verdicts = new Map<string, Promise<string | undefined>>();
  for (const row of checked) {
    const holder = used.get(row.values.reference);
    if (holder !== undefined)
      row.errors.push({
        field: 'reference',
        code: 'reference_used',
        message: `The reference ${row.values.reference} already belongs to payout ${holder}; references are never reused.`,
      });
    if (row.errors.some((e) => e.field === 'beneficiary')) continue;
    const currency = beneficiaries.get(row.values.beneficiary);
    if (currency === undefined) {
      row.errors.push({
        field: 'beneficiary',
        code: 'beneficiary_not_found',
        message: `No saved beneficiary ${row.values.beneficiary} in this mode (or it was deleted).`,
      });
      continue;
    }
    if (row.errors.some((e) => e.field === 'currency')) continue;
    if (currency !== row.values.currency) {
      row.errors.push({
        field: 'currency',
        code: 'beneficiary_currency_mismatch',
        message: `The beneficiary is paid in ${currency}, not ${row.values.currency}.`,
      });
      continue;
    }
    const key = `${row.values.beneficiary}|${row.values.currency}`;
    if (!verdicts.has(key)) verdicts.set(key, preflight(deps, ctx, row.values));
    const refusal = await verdicts.get(key);
    if (refusal !== undefined) row.errors.push({ field: 'row', code: 'payout_not_accepted', message: refusal });
  }
  return checked;
}

/** The refusal POST /v1/payouts would give this beneficiary and currency, if any. */
async function preflight(deps: ValidationDeps, ctx: RequestContext, values: RowValues): Promise<string | undefined> {
  try {
    await deps.payouts.prepare(ctx.mode, {
      amount: 1,
      currency: values.currency,
      beneficiary: values.beneficiary,
      reference: 'x',
    });
    return undefined;
  } catch (error) {
    if (error instanceof ApiError) return error.message;
    throw error;
  }
}
