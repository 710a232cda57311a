// OPS-10: what an uploaded payout file is, decided by its bytes and never by its name or the
// Content-Type a browser guessed. A payout file is UTF-8 text (a UTF-8 byte-order mark is
// allowed and dropped); spreadsheets, archives, PDFs, UTF-16/32 and anything with NUL or other
// control bytes are refused with a reason an operator can act on ("export the sheet as CSV UTF-8").
export type FileProblemCode =
  | 'file_empty'
  | 'file_too_large'
  | 'file_not_text'
  | 'file_not_utf8'
  | 'csv_malformed'
  | 'header_invalid'
  | 'no_rows'
  | 'too_many_rows';

export interface FileProblem {
  readonly code: FileProblemCode;
  readonly message: string;
  /** The physical line (1-based) the problem is on, when it has one. */
  readonly line?: number;
}

export type FileText = { ok: true; text: string; hadBom: boolean } | { ok: false; problem: FileProblem };

const EXPORT_HINT = 'Export the sheet as "CSV UTF-8 (comma delimited)" and upload that file.';

// Magic numbers of what people upload by mistake instead of a CSV export.
const SIGNATURES: ReadonlyArray<readonly [readonly number[], FileProblemCode, string]> = [
  [
    [0x50, 0x4b, 0x03, 0x04],
    'file_not_text',
    'This is a ZIP archive (an .xlsx or .ods spreadsheet is one), not CSV text.',
  ],
  [[0x50, 0x4b, 0x05, 0x06], 'file_not_text', 'This is an empty ZIP archive, not CSV text.'],
  [[0xd0, 0xcf, 0x11, 0xe0], 'file_not_text', 'This is an old Excel (.xls) or other Office file, not CSV text.'],
  [[0x25, 0x50, 0x44, 0x46], 'file_not_text', 'This is a PDF, not CSV text.'],
  [[0x1f, 0x8b], 'file_not_text', 'This is a gzip archive, not CSV text.'],
  [[0x00, 0x00, 0xfe, 0xff], 'file_not_utf8', 'This text is UTF-32, not UTF-8.'],
  [[0xff, 0xfe, 0x00, 0x00], 'file_not_utf8', 'This text is UTF-32, not UTF-8.'],
  [[0xff, 0xfe], 'file_not_utf8', 'This text is UTF-16 ("Unicode text"), not UTF-8.'],
  [[0xfe, 0xff], 'file_not_utf8', 'This text is UTF-16 ("Unicode text"), not UTF-8.'],
];

const startsWith = (bytes: Uint8Array, signature: readonly number[]) =>
  bytes.length >= signature.length && signature.every((b, i) => bytes[i] === b);

// C0 controls but tab, LF and CR; DEL; C1 controls. None belongs in a payout file.
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/;

export function readFileText(bytes: Uint8Array, maxBytes: number): FileText {
  const fail = (code: FileProblemCode, message: string, line?: number): FileText => ({
    ok: false,
    problem: line === undefined ? { code, message } : { code, message, line },
  });
  if (bytes.length === 0) return fail('file_empty', 'The file is empty.');
  if (bytes.length > maxBytes)
    return fail('file_too_large', `The file has ${bytes.length} bytes; at most ${maxBytes} are accepted.`);
  for (const [signature, code, message] of SIGNATURES)
    if (startsWith(bytes, signature)) return fail(code, `${message} ${EXPORT_HINT}`);
  if (bytes.includes(0))
    return fail('file_not_text', `The file contains NUL bytes: it is binary, or UTF-16 without a mark. ${EXPORT_HINT}`);
  const hadBom = startsWith(bytes, [0xef, 0xbb, 0xbf]);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(hadBom ? bytes.subarray(3) : bytes);
  } catch {
    return fail('file_not_utf8', `The file is not valid UTF-8 (a Windows or Latin-1 export?). ${EXPORT_HINT}`);
  }
  const control = CONTROL.exec(text);
  if (control !== null)
    return fail(
      'file_not_text',
      `The file contains a control character (U+${control[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}) that has no place in CSV text.`,
      lineAt(text, control.index),
    );
  return { ok: true, text, hadBom };
}

export function lineAt(text: string, index: number): number {
  let line = 1;
  for (let i = text.indexOf('\n'); i !== -1 && i < index; i = text.indexOf('\n', i + 1)) line++;
  return line;
}
