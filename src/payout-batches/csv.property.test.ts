// The payout file's readers as properties (fast-check, issue 13 §5, OPS-10): whatever a spreadsheet
// writes (quoted commas, quotes, line breaks, CRLF or LF) reads back cell for cell; an export is
// read back as the neutralised values; and no text or byte string makes a reader throw.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseCsv } from './csv.ts';
import { readFileText } from './file-check.ts';
import { neutralise, toCsv } from './spreadsheet-safe.ts';

// Cells as spreadsheets write them: separators, quotes and line breaks included (CR only in CRLF).
const cell = fc
  .array(fc.constantFrom('a', 'Z', '7', ' ', ',', '"', '\n', '\r\n', 'é', '₦', '=', '-', '@'), { maxLength: 12 })
  .map((parts) => parts.join(''));
const rows = fc.array(fc.array(cell, { minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 20 });
const quoted = (value: string) => `"${value.replaceAll('"', '""')}"`;

test('every quoted record reads back cell for cell, with CRLF or LF record ends', () => {
  fc.assert(
    fc.property(rows, fc.constantFrom('\r\n', '\n'), fc.boolean(), (records, end, finalEnd) => {
      const text = records.map((r) => r.map(quoted).join(',')).join(end) + (finalEnd ? end : '');
      const parsed = parseCsv(text, records.length);
      assert.ok(parsed.ok, JSON.stringify(parsed));
      assert.deepEqual(
        parsed.records.map((r) => r.cells),
        records,
      );
      // Each record starts on the line a text editor shows it on.
      let line = 1;
      records.forEach((record, i) => {
        assert.equal(parsed.records[i]?.line, line);
        line += record.map(quoted).join(',').split('\n').length - 1 + 1;
      });
    }),
    { numRuns: 1500 },
  );
});

test('an export (toCsv) reads back as the neutralised values: no cell starts a formula', () => {
  fc.assert(
    // Export rows have several columns (a lone empty cell would be a blank line, which carries nothing).
    fc.property(
      fc.array(fc.array(cell, { minLength: 2, maxLength: 6 }), { minLength: 1, maxLength: 20 }),
      (records) => {
        const parsed = parseCsv(toCsv(records), records.length);
        assert.ok(parsed.ok, JSON.stringify(parsed));
        const cells = parsed.records.map((r) => r.cells);
        assert.deepEqual(
          cells,
          records.map((r) => r.map(neutralise)),
        );
        for (const value of cells.flat()) assert.doesNotMatch(value, /^[=+\-@\t\r]/);
      },
    ),
    { numRuns: 1000 },
  );
});

test('no text makes the CSV reader throw; a refusal names a line in the text', () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 200 }), fc.integer({ min: 0, max: 50 }), (text, max) => {
      const parsed = parseCsv(text, max);
      if (!parsed.ok && parsed.problem.line !== undefined) {
        assert.ok(parsed.problem.line >= 1 && parsed.problem.line <= text.split('\n').length + 1);
      }
    }),
    { numRuns: 3000 },
  );
});

test('no byte string makes the file check throw; what it accepts is text without control characters', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
      const read = readFileText(bytes, 256);
      if (read.ok) {
        assert.ok(bytes.length > 0 && bytes.length <= 256);
        assert.doesNotMatch(read.text, /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/);
      } else {
        assert.match(read.problem.code, /^file_/);
      }
    }),
    { numRuns: 3000 },
  );
});
