// The downloadable report of a payout file: every row as the file had it, with its result and its
// payout. Written through spreadsheet-safe.ts, so a formula in the file stays text when the report
// is opened in a spreadsheet.
import type { BatchRowView } from './batch-service.ts';
import { COLUMNS } from './row-checks.ts';
import { toCsv } from './spreadsheet-safe.ts';

export function batchReportCsv(rows: readonly BatchRowView[]): string {
  return toCsv([
    ['line', ...COLUMNS, 'amount_minor', 'result', 'errors', 'payout', 'payout_status'],
    ...rows.map((r) => [
      String(r.line),
      ...COLUMNS.map((c) => r[c]),
      r.amount_minor === null ? '' : String(r.amount_minor),
      r.errors.length === 0 ? 'ok' : 'error',
      r.errors.map((e) => `${e.code} (${e.field}): ${e.message}`).join('; '),
      r.payout_id ?? '',
      r.payout_status ?? '',
    ]),
  ]);
}
