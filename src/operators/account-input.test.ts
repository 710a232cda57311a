import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isPlausibleLoginPassword, normalizeEmail, normalizeName } from './account-input.ts';

test('emails are trimmed and lower-cased; malformed, oversized or non-string ones are refused', () => {
  assert.equal(normalizeEmail('  Ada.Lovelace@Example.TEST '), 'ada.lovelace@example.test');
  for (const bad of [
    '',
    'ada',
    'ada@',
    '@example.test',
    'ada@example',
    'a b@example.test',
    'a@b@example.test',
    `ada\u0000@example.test`,
    'ada\u202E@example.test',
    'ada@exa\u200Bmple.test',
    `${'a'.repeat(250)}@example.test`,
    42,
    undefined,
    null,
  ]) {
    assert.equal(normalizeEmail(bad), undefined, String(bad));
  }
});

test('names allow letters in any script and common punctuation, nothing like markup', () => {
  assert.equal(normalizeName('  Ada   Lovelace '), 'Ada Lovelace');
  assert.equal(normalizeName("Seán O'Brien-Núñez"), "Seán O'Brien-Núñez");
  assert.equal(normalizeName('Zoë 李'), 'Zoë 李');
  assert.equal(normalizeName('فاطمه\u200Cزهرا'), 'فاطمه\u200Cزهرا', 'ZWNJ, as Persian names need');
  for (const bad of [
    '',
    '   ',
    '<script>',
    'Ada "x"',
    'a\u0007b',
    'Ada\u202ELovelace',
    'Ada\u00ADL',
    'x'.repeat(101),
    7,
  ])
    assert.equal(normalizeName(bad), undefined, String(bad));
});

test('login passwords: any non-empty string up to 512 characters reaches the hash check', () => {
  assert.equal(isPlausibleLoginPassword('x'), true);
  assert.equal(isPlausibleLoginPassword(''), false);
  assert.equal(isPlausibleLoginPassword('x'.repeat(513)), false);
  assert.equal(isPlausibleLoginPassword(undefined), false);
});
