import { test } from 'node:test';
import assert from 'node:assert/strict';
import { timestampProblem } from './timestamp-window.ts';

test('a signed timestamp: digits only, fresh within the window in both directions', () => {
  const now = 1_700_000_000;
  for (const fresh of [now, now - 300, now + 300])
    assert.equal(timestampProblem(String(fresh), now, 300), undefined, String(fresh));
  assert.equal(timestampProblem(String(now - 301), now, 300), 'outside_window', 'stale');
  assert.equal(timestampProblem(String(now + 301), now, 300), 'outside_window', 'from the future');
  for (const bad of [undefined, '', '-1', '1.5', '1e9', ' 1700000000', '0x10', '1234567890123'])
    assert.equal(timestampProblem(bad, now, 300), 'not_unix_seconds', String(bad));
});

test("'past': only a timestamp older than the window is refused, however far ahead it is", () => {
  const now = 1_700_000_000;
  assert.equal(timestampProblem(String(now - 301), now, 300, 'past'), 'outside_window');
  assert.equal(timestampProblem(String(now + 301), now, 300, 'past'), undefined);
  assert.equal(timestampProblem(String(now + 86_400), now, 300, 'past'), undefined);
});
