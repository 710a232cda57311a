// Hostile and awkward payout files, read by content (OPS-10): the problem code and line for each,
// and the quirks of real spreadsheet exports (BOM, CRLF, quoted commas and line breaks) read right.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deflateRawSync } from 'node:zlib';
import { parseCsv } from './csv.ts';
import { parsePayoutFile, HEADER, templateCsv } from './parse-file.ts';
import { checkRow, parseAmount } from './row-checks.ts';
import { csvField, neutralise, toCsv } from './spreadsheet-safe.ts';

const LIMITS = { maxBytes: 4096, maxRows: 5 };
const BEN = 'ben_0123456789ABCDEFGHIJKL';
const bytes = (text: string) => Buffer.from(text, 'utf8');
const problemOf = (input: Uint8Array, limits = LIMITS) => {
  const parsed = parsePayoutFile(input, limits);
  assert.equal(parsed.ok, false, 'refused');
  return parsed.ok ? undefined : parsed.problem;
};

test('a plain file: header, rows numbered with the line each starts on', () => {
  const parsed = parsePayoutFile(bytes(`${HEADER}\n10.00,NGN,${BEN},r-1,Rent\n\n5,NGN,${BEN},r-2,\n`), LIMITS);
  assert.ok(parsed.ok);
  assert.deepEqual(
    parsed.rows.map((r) => [r.rowNo, r.line, r.cells[3]]),
    [
      [1, 2, 'r-1'],
      [2, 4, 'r-2'],
    ],
    'the blank line 3 is skipped and line numbers stay physical',
  );
});

test('a UTF-8 BOM and CRLF line ends (Excel "CSV UTF-8") read as the same rows', () => {
  const plain = parsePayoutFile(bytes(`${HEADER}\n10.00,NGN,${BEN},r-1,Rent\n`), LIMITS);
  const excel = parsePayoutFile(
    Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), bytes(`${HEADER}\r\n10.00,NGN,${BEN},r-1,Rent\r\n`)]),
    LIMITS,
  );
  assert.ok(plain.ok && excel.ok);
  assert.deepEqual(excel.rows, plain.rows);
});

test('quoted fields keep commas, doubled quotes and line breaks; line numbers count the breaks', () => {
  const parsed = parsePayoutFile(
    bytes(`${HEADER}\r\n"1,000.00",NGN,${BEN},r-1,"Line one\r\nline two"\r\n2,NGN,${BEN},"r-2","say ""hi"""\r\n`),
    LIMITS,
  );
  assert.ok(parsed.ok);
  assert.deepEqual(parsed.rows[0]?.cells, ['1,000.00', 'NGN', BEN, 'r-1', 'Line one\r\nline two']);
  assert.deepEqual(parsed.rows[1]?.cells, ['2', 'NGN', BEN, 'r-2', 'say "hi"']);
  assert.equal(parsed.rows[1]?.line, 4, 'the second row starts on line 4');
  // Kept as written and then refused by the row checks, never reinterpreted.
  assert.deepEqual(
    checkRow(parsed.rows[0]!.cells).errors.map((e) => e.code),
    ['amount_invalid', 'narration_invalid'],
  );
});

test('wrong type by content, whatever the name: xlsx (zip), xls, pdf, gzip, UTF-16 with and without BOM, UTF-32, Latin-1, NUL and control bytes', () => {
  const zip = Buffer.concat([Buffer.from([0x50, 0x4b, 0x03, 0x04]), deflateRawSync(bytes(HEADER))]);
  assert.equal(problemOf(zip)?.code, 'file_not_text');
  assert.match(problemOf(zip)!.message, /ZIP archive.*xlsx/);
  assert.equal(problemOf(Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1]))?.code, 'file_not_text');
  assert.equal(problemOf(bytes('%PDF-1.7\n'))?.code, 'file_not_text');
  assert.equal(problemOf(Buffer.from([0x1f, 0x8b, 8, 0]))?.code, 'file_not_text');
  const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(`${HEADER}\r\n`, 'utf16le')]);
  assert.equal(problemOf(utf16)?.code, 'file_not_utf8');
  assert.match(problemOf(utf16)!.message, /UTF-16/);
  assert.equal(problemOf(Buffer.from(`${HEADER}\r\n`, 'utf16le'))?.code, 'file_not_text', 'NUL bytes give it away');
  assert.equal(problemOf(Buffer.from([0, 0, 0xfe, 0xff, 0, 0, 0, 0x61]))?.code, 'file_not_utf8');
  assert.equal(problemOf(Buffer.from(`${HEADER}\n1,NGN,${BEN},r-1,Caf\xe9\n`, 'latin1'))?.code, 'file_not_utf8');
  const control = problemOf(bytes(`${HEADER}\n1,NGN,${BEN},r-1,bell\u0007\n`));
  assert.equal(control?.code, 'file_not_text');
  assert.equal(control?.line, 2);
  assert.match(control!.message, /U\+0007/);
  assert.equal(problemOf(bytes(''))?.code, 'file_empty');
});

test('size and row limits: one byte or one row over is refused; exactly at the limit is read', () => {
  const row = (i: number) => `1,NGN,${BEN},r-${i},\n`;
  const five = `${HEADER}\n${[1, 2, 3, 4, 5].map(row).join('')}`;
  assert.ok(parsePayoutFile(bytes(five), LIMITS).ok);
  assert.equal(problemOf(bytes(five + row(6)))?.code, 'too_many_rows');
  assert.match(problemOf(bytes(five + row(6)))!.message, /more than 5 payout rows/);
  const exact = bytes(five);
  assert.ok(parsePayoutFile(exact, { ...LIMITS, maxBytes: exact.length }).ok);
  assert.equal(problemOf(exact, { ...LIMITS, maxBytes: exact.length - 1 })?.code, 'file_too_large');
});

test('structure: wrong or missing header, header only, malformed quoting with its line', () => {
  assert.equal(problemOf(bytes(`amount;currency;beneficiary;reference;narration\n`))?.code, 'header_invalid');
  assert.equal(problemOf(bytes(`Amount,Currency,Beneficiary,Reference,Narration\n`))?.code, 'header_invalid');
  assert.equal(problemOf(bytes(`1,NGN,${BEN},r-1,\n`))?.code, 'header_invalid', 'a file without its header row');
  assert.equal(problemOf(bytes(`${HEADER}\n`))?.code, 'no_rows');
  const stray = problemOf(bytes(`${HEADER}\n1,NGN,${BEN},r-1,ok\n2,NGN,${BEN},r"2,\n`));
  assert.deepEqual([stray?.code, stray?.line], ['csv_malformed', 3]);
  const unclosed = problemOf(bytes(`${HEADER}\n1,NGN,${BEN},r-1,"never closed\n2,NGN\n`));
  assert.deepEqual([unclosed?.code, unclosed?.line], ['csv_malformed', 2]);
  assert.equal(problemOf(bytes(`${HEADER}\r1,NGN,${BEN},r-1,\r`))?.code, 'csv_malformed', 'CR alone');
  assert.equal(problemOf(bytes(`${HEADER}\n"1"x,NGN,${BEN},r-1,\n`))?.code, 'csv_malformed');
});

test('amounts: the main unit with at most the ISO 4217 exponent of decimals, turned into minor units by digits', () => {
  const minor = (text: string, currency: string) => {
    const parsed = parseAmount(text, currency);
    return parsed.ok ? parsed.minor : parsed.error.code;
  };
  assert.equal(minor('2500.50', 'NGN'), 250_050);
  assert.equal(minor('2500.5', 'NGN'), 250_050);
  assert.equal(minor('0.01', 'USD'), 1);
  assert.equal(minor('1200', 'JPY'), 1200);
  assert.equal(minor('12.345', 'KWD'), 12_345);
  // 0.1 + 0.2 style float traps do not exist here: 9999999999.99 is exact.
  assert.equal(minor('9999999999.99', 'NGN'), 999_999_999_999);
  assert.equal(minor('10000000000.00', 'NGN'), 'amount_out_of_range');
  assert.equal(minor('0', 'NGN'), 'amount_out_of_range');
  assert.equal(minor('0.00', 'NGN'), 'amount_out_of_range');
  assert.equal(minor('1.5', 'JPY'), 'amount_too_precise');
  assert.equal(minor('1.001', 'NGN'), 'amount_too_precise');
  for (const bad of ['-5', '+5', '1e3', '1,000', ' 10', '10 ', 'NGN 10', '10.', '.5', '', '=1+1', '١٠'])
    assert.equal(minor(bad, 'NGN'), 'amount_invalid', bad);
});

test('a row is held to the rules of POST /v1/payouts, each problem with its field and code', () => {
  assert.deepEqual(checkRow(['10', 'NGN', BEN, 'inv-1', 'Rent, May']).errors, []);
  const codes = (cells: string[]) => checkRow(cells).errors.map((e) => `${e.field}:${e.code}`);
  assert.deepEqual(codes(['10', 'XTS', BEN, 'inv-1', '']), ['currency:currency_invalid']);
  assert.deepEqual(codes(['10', 'ngn', BEN, 'inv-1', '']), ['currency:currency_invalid']);
  assert.deepEqual(codes(['10', 'NGN', 'ben_short', 'inv-1', '']), ['beneficiary:beneficiary_invalid']);
  assert.deepEqual(codes(['10', 'NGN', BEN, '=HYPERLINK("x")', '']), ['reference:reference_invalid']);
  assert.deepEqual(codes(['10', 'NGN', BEN, 'r'.repeat(101), '']), ['reference:reference_invalid']);
  assert.deepEqual(codes(['10', 'NGN', BEN, 'inv-1', '@SUM(A1)']), ['narration:narration_invalid']);
  assert.deepEqual(codes(['10', 'NGN', BEN, 'inv-1', '<script>']), ['narration:narration_invalid']);
  assert.deepEqual(codes(['10', 'NGN', BEN, 'inv-1']), ['row:columns_count']);
  assert.deepEqual(codes(['10', 'NGN', BEN, 'inv-1', '', 'extra']), ['row:columns_count']);
});

test('formula characters are neutralised for display and export, and only those', () => {
  for (const v of ['=1+1', '+1', '-1', '@SUM(A1)', '\t=1', '\r=1']) assert.equal(neutralise(v), `'${v}`);
  for (const v of ['1', 'a=b', 'Rent', '']) assert.equal(neutralise(v), v);
  assert.equal(csvField('=HYPERLINK("http://x","y")'), `"'=HYPERLINK(""http://x"",""y"")"`);
  assert.equal(
    toCsv([
      ['a', '-2'],
      ['b,c', 'd'],
    ]),
    `a,'-2\r\n"b,c",d\r\n`,
  );
  // Read back by our own reader, the export is the neutralised values.
  const back = parseCsv(toCsv([['=1', 'x\r\ny']]), 10);
  assert.ok(back.ok);
  assert.deepEqual(back.records[0]?.cells, ["'=1", 'x\r\ny']);
});

test('the template is a valid file with the documented header', () => {
  const parsed = parsePayoutFile(bytes(templateCsv()), LIMITS);
  assert.ok(parsed.ok);
  assert.equal(templateCsv().split('\r\n')[0], HEADER);
  assert.deepEqual(checkRow(parsed.rows[0]!.cells).errors, []);
});
