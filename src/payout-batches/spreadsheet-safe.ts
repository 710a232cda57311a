// CSV injection (OPS-10, OWASP "CSV Injection"): a spreadsheet runs a cell that starts with
// = + - @ (or a tab or carriage return before one) as a formula, so `=HYPERLINK(...)` in a
// reference would run on the finance team's machine when a report is opened. Values are stored as
// they were received; only what is shown or exported is neutralised, by a leading apostrophe,
// which spreadsheets display as text and which marks the value as changed for the reader.
const FORMULA_START = /^[=+\-@\t\r]/;

export function isFormulaLike(value: string): boolean {
  return FORMULA_START.test(value);
}

export function neutralise(value: string): string {
  return isFormulaLike(value) ? `'${value}` : value;
}

/** One CSV field, neutralised, quoted when it must be (RFC 4180). */
export function csvField(value: string): string {
  const safe = neutralise(value);
  return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}

/** A whole CSV document, CRLF line ends as RFC 4180 has them. */
export function toCsv(rows: ReadonlyArray<readonly string[]>): string {
  return rows.map((row) => row.map(csvField).join(',')).join('\r\n') + '\r\n';
}
