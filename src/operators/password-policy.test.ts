import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { checkPassword, PASSWORD_RULE_MESSAGES } from './password-policy.ts';
import { hashPassword } from './password-hash.ts';

const who = { email: 'ada.lovelace@example.test', name: 'Ada Lovelace' };
const codes = async (password: string, context: Parameters<typeof checkPassword>[1] = who) =>
  (await checkPassword(password, context)).map((f) => f.code);
// A strong password made at run time, with every character class guaranteed.
const strong = () => `Kq7#${randomBytes(12).toString('base64url')}-vT3`;

test('a long, mixed, unpredictable password passes every rule', async () => {
  assert.deepEqual(await codes(strong()), []);
  assert.deepEqual(await codes('Velvet-Otter-Quarry-91!'), []);
});

test('length: 12 to 128 characters', async () => {
  assert.ok((await codes('Ab1!xQ9#')).includes('too_short'));
  const tooLong = `Ab1!${'xQ9#zW'.repeat(25)}`;
  assert.ok(tooLong.length > 128);
  assert.deepEqual(await codes(tooLong), ['too_long']);
});

test('composition: each missing class is named', async () => {
  assert.ok((await codes('velvet-otter-quarry-91!')).includes('needs_uppercase'));
  assert.ok((await codes('VELVET-OTTER-QUARRY-91!')).includes('needs_lowercase'));
  assert.ok((await codes('Velvet-Otter-Quarry-Xx!')).includes('needs_digit'));
  assert.ok((await codes('VelvetOtterQuarry91Xyz')).includes('needs_special'));
  assert.deepEqual((await codes('abc')).sort(), [
    'common_password',
    'needs_digit',
    'needs_special',
    'needs_uppercase',
    'too_short',
  ]);
});

test('common and guessable passwords are refused even when they meet the composition rule', async () => {
  for (const pw of ['Password123!', 'P@ssw0rd1234', 'Qwertyuiop1!'])
    assert.deepEqual(await codes(pw), ['common_password'], pw);
});

test('a password built from the email or the name is refused', async () => {
  assert.ok((await codes('Lovelace#2026xyz')).includes('contains_email_or_name'));
  assert.ok((await codes('ada.lovelace@example.test1A!')).includes('contains_email_or_name'));
  assert.ok((await codes('Zq!9-LOVELACE-rt')).includes('contains_email_or_name'), 'case does not hide it');
});

test('none of the last four passwords can be reused; the fifth can', async () => {
  const old = Array.from({ length: 5 }, strong);
  const hashes = await Promise.all(old.map((pw) => hashPassword(pw)));
  const context = { ...who, previousHashes: hashes };
  for (const pw of old.slice(0, 4)) assert.deepEqual(await codes(pw, context), ['reused']);
  assert.deepEqual(await codes(old[4]!, context), [], 'the fifth most recent is out of the window');
});

test('every failure carries a sentence for the person setting the password', async () => {
  const failures = await checkPassword('abc', who);
  for (const f of failures) assert.equal(f.message, PASSWORD_RULE_MESSAGES[f.code]);
  for (const message of Object.values(PASSWORD_RULE_MESSAGES)) assert.match(message, /^[A-Z].*\.$/);
});
