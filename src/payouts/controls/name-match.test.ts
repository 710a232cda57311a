import { test } from 'node:test';
import assert from 'node:assert/strict';
import { namesMatch } from './name-match.ts';

test('names match in any order, case and accents aside, titles and initials dropped', () => {
  assert.equal(namesMatch('Ada Obi', 'OBI ADA CHIOMA'), true);
  assert.equal(namesMatch('Mrs. Adaeze O. Obi', 'OBI ADAEZE'), true);
  assert.equal(namesMatch('José Núñez', 'NUNEZ JOSE'), true);
  assert.equal(namesMatch("Ngozi O'Brien-Eze", 'ngozi o brien eze'), true);
  assert.equal(namesMatch('Acme', 'ACME'), true);
});

test('a different surname, one word of two, or nothing in common is a mismatch', () => {
  assert.equal(namesMatch('Ada Obi', 'ADA OKAFOR'), false);
  assert.equal(namesMatch('Ada', 'ADA OBI'), false);
  assert.equal(namesMatch('John Smith', 'JANE DOE'), false);
  assert.equal(namesMatch('Dr.', 'DR JOHN'), false);
  assert.equal(namesMatch('', 'ADA OBI'), false);
});
