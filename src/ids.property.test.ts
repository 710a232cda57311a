// Identifiers as properties (fast-check): every new id matches its own pattern and no other
// prefix's; arbitrary strings are accepted only when they have the exact shape.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ID_PREFIXES, isId, newId } from './ids.ts';

const prefix = fc.constantFrom(...ID_PREFIXES);

test('new ids match their prefix and only it', () => {
  fc.assert(
    fc.property(prefix, prefix, fc.integer({ min: 0, max: 2 ** 42 }), (own, other, nowMs) => {
      const id = newId(own, nowMs);
      assert.equal(isId(own, id), true);
      if (other !== own) assert.equal(isId(other, id), false);
    }),
    { numRuns: 2000 },
  );
});

test('arbitrary strings: accepted only with the prefix, an underscore and 22 base62 characters', () => {
  fc.assert(
    fc.property(
      prefix,
      fc.oneof(fc.string({ maxLength: 40 }), fc.stringMatching(/^[a-z]{2,3}_[0-9A-Za-z]{20,24}$/)),
      (own, value) => {
        assert.equal(isId(own, value), new RegExp(`^${own}_[0-9A-Za-z]{22}$`).test(value));
      },
    ),
    { numRuns: 3000 },
  );
});
