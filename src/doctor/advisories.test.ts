// NET-4 in CI: the installed tree against the committed offline advisory list, and the range
// matcher it relies on.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { advisoryCheck, installedPackages, satisfies } from './advisories.ts';
import { ADVISORIES_FILE, PACKAGE_ROOT } from './doctor.ts';

test('ranges: comparators all hold, alternatives any', () => {
  assert.equal(satisfies('5.3.1', '>=5.0.0 <5.3.2'), true);
  assert.equal(satisfies('5.3.2', '>=5.0.0 <5.3.2'), false);
  assert.equal(satisfies('4.9.9', '>=5.0.0 <5.3.2'), false);
  assert.equal(satisfies('6.21.0', '<5.28.5 || >=6.0.0 <6.21.1'), true);
  assert.equal(satisfies('7.0.0', '<5.28.5 || >=6.0.0 <6.21.1'), false);
  assert.equal(satisfies('1.2.3', '=1.2.3'), true);
  assert.equal(satisfies('1.2.3', '<=1.2.3'), true);
  assert.equal(satisfies('1.2.4', '>1.2.3'), true);
  assert.equal(satisfies('not-a-version', '<9.0.0'), false);
  assert.equal(satisfies('1.0.0', 'nonsense'), false);
});

test('the installed tree is read, nested copies included', () => {
  const installed = installedPackages(PACKAGE_ROOT);
  assert.ok(installed.get('fastify')?.size === 1);
  assert.ok(installed.size > 100);
});

test('no installed package is on the committed advisory list (this is the CI audit)', () => {
  const outcome = advisoryCheck(PACKAGE_ROOT, ADVISORIES_FILE);
  assert.equal(outcome.status, 'pass', outcome.detail);
});
