import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ERRORS, errorBody } from './errors.ts';

test('docs/errors.md lists exactly the catalogue, with the same status and type', () => {
  const doc = readFileSync(new URL('../docs/errors.md', import.meta.url), 'utf8');
  const rows = [...doc.matchAll(/^\| `([a-z_]+)` \| (\d{3}) \| `([a-z_]+)` \|/gm)].map((m) => ({
    code: m[1]!,
    status: Number(m[2]),
    type: m[3]!,
  }));
  assert.deepEqual(rows.map((r) => r.code).sort(), Object.keys(ERRORS).sort());
  for (const row of rows) {
    const entry = ERRORS[row.code as keyof typeof ERRORS];
    assert.equal(row.status, entry.status, row.code);
    assert.equal(row.type, entry.type, row.code);
  }
});

test('error bodies carry type, code, message, request id, and param only when given', () => {
  assert.deepEqual(errorBody('not_found', 'req_1'), {
    error: { type: 'invalid_request_error', code: 'not_found', message: ERRORS.not_found.message, request_id: 'req_1' },
  });
  assert.equal(errorBody('parameter_invalid', 'req_2', 'bad', 'amount').error.param, 'amount');
});
