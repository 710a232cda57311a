import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseMultipart } from './multipart.ts';

const LIMITS = { maxParts: 3, maxFieldBytes: 64 };
const TYPE = 'multipart/form-data; boundary=----WebKitFormBoundaryX1';
const part = (headers: string, content: string | Buffer) =>
  Buffer.concat([
    Buffer.from(`------WebKitFormBoundaryX1\r\n${headers}\r\n\r\n`),
    Buffer.from(content),
    Buffer.from('\r\n'),
  ]);
const body = (...parts: Buffer[]) => Buffer.concat([...parts, Buffer.from('------WebKitFormBoundaryX1--\r\n')]);
const csrf = part('Content-Disposition: form-data; name="csrf_token"', 'tok');
const file = (content: string | Buffer) =>
  part('Content-Disposition: form-data; name="file"; filename="pay.csv"\r\nContent-Type: text/csv', content);

test('a browser upload: a field and a file, bytes kept exactly (CRLF and a boundary-like line inside)', () => {
  const content = Buffer.from('amount,currency\r\n--not-the-boundary\r\n\xff\x00', 'latin1');
  const parsed = parseMultipart(body(csrf, file(content)), TYPE, LIMITS);
  assert.ok(parsed.ok, parsed.ok ? '' : parsed.reason);
  assert.equal(parsed.form.fields.csrf_token, 'tok');
  assert.equal(parsed.form.files.file?.filename, 'pay.csv');
  assert.equal(parsed.form.files.file?.contentType, 'text/csv');
  assert.ok(parsed.form.files.file?.data.equals(content));
  const quoted = parseMultipart(body(csrf), 'multipart/form-data; boundary="----WebKitFormBoundaryX1"', LIMITS);
  assert.ok(quoted.ok);
});

test('refused: no boundary, a preamble, a part without a name, a field twice, too many parts, an overlong field, an unterminated body, trailing data', () => {
  const reasons = [
    parseMultipart(body(csrf), 'multipart/form-data', LIMITS),
    parseMultipart(body(csrf), 'application/x-www-form-urlencoded', LIMITS),
    parseMultipart(Buffer.concat([Buffer.from('preamble\r\n'), body(csrf)]), TYPE, LIMITS),
    parseMultipart(body(part('Content-Disposition: form-data', 'x')), TYPE, LIMITS),
    parseMultipart(body(part('Content-Type: text/plain', 'x')), TYPE, LIMITS),
    parseMultipart(body(csrf, csrf), TYPE, LIMITS),
    parseMultipart(
      body(
        csrf,
        file('a'),
        part('Content-Disposition: form-data; name="b"', 'x'),
        part('Content-Disposition: form-data; name="c"', 'x'),
      ),
      TYPE,
      LIMITS,
    ),
    parseMultipart(body(part('Content-Disposition: form-data; name="csrf_token"', 'x'.repeat(65))), TYPE, LIMITS),
    parseMultipart(Buffer.concat([csrf.subarray(0, csrf.length - 2)]), TYPE, LIMITS),
    parseMultipart(Buffer.concat([body(csrf), Buffer.from('more')]), TYPE, LIMITS),
    parseMultipart(
      body(
        part('Content-Disposition: form-data; name="__proto__"', 'x'),
        part('Content-Disposition: form-data; name="__proto__"', 'y'),
      ),
      TYPE,
      LIMITS,
    ),
  ];
  for (const [i, r] of reasons.entries()) assert.equal(r.ok, false, `case ${i} refused`);
});
