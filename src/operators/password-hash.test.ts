import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { dummyPasswordHash, hashPassword, needsRehash, verifyPassword } from './password-hash.ts';

const password = () => `Pw-${randomBytes(12).toString('base64url')}`;

test('argon2id with at least 19 MiB, 2 passes, 1 lane, salted, verifies only the right password', async () => {
  const pw = password();
  const stored = await hashPassword(pw);
  const params = /^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$/.exec(stored);
  assert.ok(params, stored.slice(0, 30));
  assert.ok(Number(params[1]) >= 19_456);
  assert.ok(Number(params[2]) >= 2);
  assert.equal(Number(params[3]), 1);
  assert.ok(!stored.includes(pw));
  assert.notEqual(await hashPassword(pw), stored, 'a fresh salt each time');
  assert.equal(await verifyPassword(stored, pw), true);
  assert.equal(await verifyPassword(stored, `${pw}x`), false);
  assert.equal(needsRehash(stored), false);
});

test('a malformed or weaker stored hash fails verification or asks for a rehash, never throws', async () => {
  assert.equal(await verifyPassword('not-a-hash', 'anything'), false);
  assert.equal(needsRehash('$argon2id$v=19$m=4096,t=3,p=1$c2FsdHNhbHQ$aGFzaA'), true);
  assert.equal(needsRehash('$2b$10$abcdefghijklmnopqrstuv'), true);
});

test('the dummy hash is a real argon2id hash that no password matches, computed once', async () => {
  const dummy = await dummyPasswordHash();
  assert.match(dummy, /^\$argon2id\$/);
  assert.equal(await dummyPasswordHash(), dummy);
  assert.equal(await verifyPassword(dummy, password()), false);
});
