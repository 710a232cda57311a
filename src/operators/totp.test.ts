import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { URI } from 'otpauth';
import { Secret } from '../crypto/secret.ts';
import {
  createRecoveryCodeHasher,
  createTotpSecretBox,
  generateRecoveryCodes,
  newTotpSecret,
  normalizeRecoveryCode,
  totpCodeAt,
  totpStep,
  totpUri,
  verifyTotp,
} from './totp.ts';

const masterKey = () => new Secret(randomBytes(32).toString('base64'));
const t0 = Date.UTC(2026, 0, 1, 12, 0, 0);

test('the enrolment URI carries SHA-1, 6 digits, 30 s and the secret, and round-trips', () => {
  const secret = newTotpSecret();
  assert.match(secret, /^[A-Z2-7]{32}$/, '160 bits in base32');
  const uri = totpUri({ secretBase32: secret, issuer: 'Paywarden', accountName: 'ada@example.test' });
  assert.match(uri, /^otpauth:\/\/totp\/Paywarden:ada%40example\.test\?/);
  const parsed = URI.parse(uri);
  assert.equal(parsed.secret.base32, secret);
  assert.equal((parsed as { period?: number }).period, 30);
  assert.equal(parsed.digits, 6);
  assert.equal(parsed.algorithm, 'SHA1');
});

test('the current code and the ones a step either side are accepted; two steps off is not', () => {
  const secret = newTotpSecret();
  for (const offsetSteps of [-1, 0, 1]) {
    const code = totpCodeAt(secret, t0 + offsetSteps * 30_000);
    assert.deepEqual(verifyTotp({ secretBase32: secret, code, nowMs: t0, lastUsedStep: null }), {
      ok: true,
      step: totpStep(t0) + offsetSteps,
    });
  }
  for (const offsetSteps of [-2, 2]) {
    assert.deepEqual(
      verifyTotp({
        secretBase32: secret,
        code: totpCodeAt(secret, t0 + offsetSteps * 30_000),
        nowMs: t0,
        lastUsedStep: null,
      }),
      { ok: false, reason: 'invalid' },
    );
  }
});

test('wrong, malformed and other-secret codes are invalid', () => {
  const secret = newTotpSecret();
  const right = totpCodeAt(secret, t0);
  const wrong = String((Number(right) + 1) % 1_000_000).padStart(6, '0');
  for (const code of [wrong, '', '12345', '1234567', 'abcdef', totpCodeAt(newTotpSecret(), t0)]) {
    if (code === right) continue;
    assert.deepEqual(
      verifyTotp({ secretBase32: secret, code, nowMs: t0, lastUsedStep: null }),
      { ok: false, reason: 'invalid' },
      code,
    );
  }
  assert.equal(
    verifyTotp({ secretBase32: secret, code: `${right.slice(0, 3)} ${right.slice(3)}`, nowMs: t0, lastUsedStep: null })
      .ok,
    true,
    'a space in the middle is tolerated',
  );
});

test('a code is usable once: its step, and any earlier step, is refused as reused', () => {
  const secret = newTotpSecret();
  const code = totpCodeAt(secret, t0);
  const first = verifyTotp({ secretBase32: secret, code, nowMs: t0, lastUsedStep: null });
  assert.ok(first.ok);
  assert.deepEqual(verifyTotp({ secretBase32: secret, code, nowMs: t0 + 10_000, lastUsedStep: first.step }), {
    ok: false,
    reason: 'reused',
  });
  assert.deepEqual(
    verifyTotp({ secretBase32: secret, code: totpCodeAt(secret, t0 - 30_000), nowMs: t0, lastUsedStep: first.step }),
    { ok: false, reason: 'reused' },
  );
  assert.equal(
    verifyTotp({
      secretBase32: secret,
      code: totpCodeAt(secret, t0 + 30_000),
      nowMs: t0 + 30_000,
      lastUsedStep: first.step,
    }).ok,
    true,
    'the next step is fine',
  );
});

test('the sealed secret opens only for its own operator and master key', () => {
  const key = masterKey();
  const box = createTotpSecretBox(key);
  const secret = newTotpSecret();
  const sealed = box.seal(secret, 'op_a');
  assert.ok(!sealed.includes(secret));
  assert.equal(box.open(sealed, 'op_a'), secret);
  assert.throws(() => box.open(sealed, 'op_b'));
  assert.throws(() => createTotpSecretBox(masterKey()).open(sealed, 'op_a'));
});

test('ten distinct recovery codes, hashed under a derived key, matched in any case or spacing', () => {
  const codes = generateRecoveryCodes();
  assert.equal(codes.length, 10);
  assert.equal(new Set(codes).size, 10);
  for (const code of codes) assert.match(code, /^[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}$/);
  const key = masterKey();
  const hasher = createRecoveryCodeHasher(key);
  const stored = codes.map((c) => hasher.hash(c));
  assert.ok(stored.every((h) => /^[0-9a-f]{64}$/.test(h)));
  assert.equal(hasher.findMatch(codes[3]!.toUpperCase().replaceAll('-', ' '), stored), 3);
  assert.equal(hasher.findMatch('aaaa-bbbb-cccc', stored), -1);
  assert.equal(
    createRecoveryCodeHasher(masterKey()).findMatch(codes[0]!, stored),
    -1,
    'another deployment key matches nothing',
  );
  assert.equal(normalizeRecoveryCode(' AbCd-EFGH -jkmn '), 'abcdefghjkmn');
});
