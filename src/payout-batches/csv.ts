// A strict RFC 4180 reader for payout files: comma-separated, fields optionally in double quotes
// (a quoted field may hold commas, line breaks and doubled quotes), records ended by CRLF or LF.
// Anything a spreadsheet would not write is an error with its line rather than a guess: a quote
// inside an unquoted field, text after a closing quote, a carriage return alone, a quote never
// closed. Blank lines carry no payout and are skipped. Each record keeps the physical line it
// starts on, so errors point at the line an operator sees in a text editor.
import type { FileProblem } from './file-check.ts';

export interface CsvRecord {
  readonly line: number;
  readonly cells: readonly string[];
}

export type CsvResult = { ok: true; records: CsvRecord[] } | { ok: false; problem: FileProblem };

/** `maxDataRows`: records after the header row; reading stops at the first one past it. */
export function parseCsv(text: string, maxDataRows: number): CsvResult {
  const records: CsvRecord[] = [];
  let cells: string[] = [];
  let cell = '';
  let inQuotes = false;
  let afterQuote = false;
  let touched = false;
  let line = 1;
  let recordLine = 1;
  const malformed = (message: string, at = line): CsvResult => ({
    ok: false,
    problem: { code: 'csv_malformed', message: `Line ${at}: ${message}`, line: at },
  });
  const endRecord = (): boolean => {
    cells.push(cell);
    const blank = cells.length === 1 && cells[0] === '' && !touched;
    if (!blank) records.push({ line: recordLine, cells });
    cells = [];
    cell = '';
    afterQuote = false;
    touched = false;
    return records.length <= maxDataRows + 1;
  };

  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inQuotes) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          cell += '"';
          i++;
        } else {
          inQuotes = false;
          afterQuote = true;
        }
      } else {
        if (c === '\n') line++;
        cell += c;
      }
      continue;
    }
    if (c === ',') {
      cells.push(cell);
      cell = '';
      afterQuote = false;
      touched = true;
      continue;
    }
    if (c === '\n' || (c === '\r' && text[i + 1] === '\n')) {
      if (c === '\r') i++;
      if (!endRecord()) return tooMany(maxDataRows);
      line++;
      recordLine = line;
      continue;
    }
    if (c === '\r') return malformed('a carriage return without a line feed (old Mac line endings?).');
    if (afterQuote) return malformed('text after the closing quote of a field; a quote inside a field is written "".');
    if (c === '"') {
      if (cell !== '')
        return malformed('a quote inside an unquoted field; quote the whole field and double the quote.');
      inQuotes = true;
      touched = true;
      continue;
    }
    cell += c;
  }
  if (inQuotes) return malformed('a quoted field is never closed.', recordLine);
  if (cell !== '' || cells.length > 0 || touched) if (!endRecord()) return tooMany(maxDataRows);
  return { ok: true, records };
}

function tooMany(maxDataRows: number): CsvResult {
  return {
    ok: false,
    problem: {
      code: 'too_many_rows',
      message: `The file has more than ${maxDataRows} payout rows, the most one file may have.`,
    },
  };
}
