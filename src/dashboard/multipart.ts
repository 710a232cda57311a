// multipart/form-data (RFC 7578) as a browser's file upload form sends it, for the one dashboard
// form that takes a file (a payout file). The body is already in memory and bounded by the route's
// body limit, so this is a strict reader of one buffer, not a streaming parser: a boundary, parts
// with a Content-Disposition of form-data naming the field (and, for a file, its filename), and
// nothing else. Anything else (a preamble, a part without a name, more parts than the form has, a
// field repeated, a text field longer than a token) is refused rather than interpreted.
// Kept here instead of a dependency: the dashboard has exactly one upload, of one small file.

export interface UploadedPart {
  readonly filename: string;
  readonly contentType: string | null;
  readonly data: Buffer;
}

export interface MultipartForm {
  readonly fields: Readonly<Record<string, string>>;
  readonly files: Readonly<Record<string, UploadedPart>>;
}

export interface MultipartLimits {
  readonly maxParts: number;
  readonly maxFieldBytes: number;
}

export type MultipartResult = { ok: true; form: MultipartForm } | { ok: false; reason: string };

const BOUNDARY = /;\s*boundary=(?:"([^"]{1,70})"|([0-9A-Za-z'()+_,./:=?-]{1,70}))\s*(?:;|$)/i;
const CRLF = Buffer.from('\r\n');
const HEADER_END = Buffer.from('\r\n\r\n');

function dispositionOf(headers: string): { name: string; filename: string | undefined } | undefined {
  let disposition: string | undefined;
  for (const line of headers.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon < 1) return undefined;
    const header = line.slice(0, colon).trim().toLowerCase();
    if (header === 'content-disposition') {
      if (disposition !== undefined) return undefined;
      disposition = line.slice(colon + 1).trim();
    }
  }
  if (disposition === undefined || !/^form-data\s*;/i.test(disposition)) return undefined;
  const name = /;\s*name="([^"]*)"/i.exec(disposition)?.[1];
  const filename = /;\s*filename="([^"]*)"/i.exec(disposition)?.[1];
  if (name === undefined || name === '') return undefined;
  return { name, filename };
}

function contentTypeOf(headers: string): string | null {
  const match = /^content-type:\s*([^\r\n]*)$/im.exec(headers);
  return match?.[1]?.trim() ?? null;
}

export function parseMultipart(body: Buffer, contentType: string, limits: MultipartLimits): MultipartResult {
  const fail = (reason: string): MultipartResult => ({ ok: false, reason });
  if (!/^multipart\/form-data\s*;/i.test(contentType)) return fail('not multipart/form-data');
  const boundaryMatch = BOUNDARY.exec(contentType);
  const boundary = boundaryMatch?.[1] ?? boundaryMatch?.[2];
  if (boundary === undefined) return fail('no boundary');
  const delimiter = Buffer.from(`--${boundary}`);
  const next = Buffer.from(`\r\n--${boundary}`);
  if (!body.subarray(0, delimiter.length).equals(delimiter)) return fail('the body does not start with the boundary');

  // No prototype: a part named __proto__ or constructor is just a (refused) name.
  const fields: Record<string, string> = Object.create(null);
  const files: Record<string, UploadedPart> = Object.create(null);
  let position = delimiter.length;
  for (let parts = 0; ; parts++) {
    const after = body.subarray(position, position + 2).toString('latin1');
    if (after === '--') {
      const rest = body.subarray(position + 2);
      if (rest.length > 0 && !rest.equals(CRLF)) return fail('data after the closing boundary');
      return { ok: true, form: { fields, files } };
    }
    if (after !== '\r\n') return fail('a boundary not followed by a line break');
    if (parts >= limits.maxParts) return fail('too many parts');
    const headerStart = position + 2;
    const headerEnd = body.indexOf(HEADER_END, headerStart);
    if (headerEnd === -1) return fail('a part without headers');
    const headers = body.subarray(headerStart, headerEnd).toString('utf8');
    const disposition = dispositionOf(headers);
    if (disposition === undefined) return fail('a part without a form-data name');
    const contentStart = headerEnd + HEADER_END.length;
    const contentEnd = body.indexOf(next, contentStart);
    if (contentEnd === -1) return fail('a part that never ends');
    const data = body.subarray(contentStart, contentEnd);
    if (Object.hasOwn(fields, disposition.name) || Object.hasOwn(files, disposition.name))
      return fail(`the field ${disposition.name} twice`);
    if (disposition.filename === undefined) {
      if (data.length > limits.maxFieldBytes) return fail(`the field ${disposition.name} is too long`);
      fields[disposition.name] = data.toString('utf8');
    } else files[disposition.name] = { filename: disposition.filename, contentType: contentTypeOf(headers), data };
    position = contentEnd + next.length;
  }
}
