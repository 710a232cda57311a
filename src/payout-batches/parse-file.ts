// From the bytes received to the rows of a payout file: content checked (file-check.ts), CSV read
// strictly (csv.ts), the documented header row required, the row limit applied. Nothing about a
// row's values is decided here (row-checks.ts, batch-validation.ts).
import { parseCsv } from './csv.ts';
import { readFileText, type FileProblem } from './file-check.ts';
import { COLUMNS } from './row-checks.ts';

export interface FileLimits {
  readonly maxBytes: number;
  readonly maxRows: number;
}

export const DEFAULT_FILE_LIMITS: FileLimits = Object.freeze({ maxBytes: 1_048_576, maxRows: 1_000 });

export const HEADER = COLUMNS.join(',');

export interface FileRow {
  /** 1-based position among the payout rows (the header is not a row). */
  readonly rowNo: number;
  /** The physical line the row starts on (the header is line 1). */
  readonly line: number;
  readonly cells: readonly string[];
}

export type ParsedFile = { ok: true; rows: FileRow[] } | { ok: false; problem: FileProblem };

export function parsePayoutFile(bytes: Uint8Array, limits: FileLimits): ParsedFile {
  const text = readFileText(bytes, limits.maxBytes);
  if (!text.ok) return text;
  const csv = parseCsv(text.text, limits.maxRows);
  if (!csv.ok) return csv;
  const [header, ...records] = csv.records;
  if (
    header === undefined ||
    header.cells.length !== COLUMNS.length ||
    header.cells.some((cell, i) => cell !== COLUMNS[i])
  )
    return {
      ok: false,
      problem: {
        code: 'header_invalid',
        message: `The first line must be the header row ${HEADER} (as in the template).`,
        line: header?.line ?? 1,
      },
    };
  if (records.length === 0)
    return { ok: false, problem: { code: 'no_rows', message: 'The file has a header row but no payouts.' } };
  return { ok: true, rows: records.map((r, i) => ({ rowNo: i + 1, line: r.line, cells: r.cells })) };
}

/** The downloadable template: the header and one example row to replace. */
export function templateCsv(): string {
  return `${HEADER}\r\n2500.50,NGN,ben_0000000000000000000000,invoice-2026-0001,Invoice 2026-0001\r\n`;
}
