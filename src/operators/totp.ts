// Second factor (OPS-3): TOTP per RFC 6238 with the parameters every authenticator app accepts
// (SHA-1, 6 digits, 30 s), one step of drift either way, and each code usable once: the service
// remembers the last accepted time-step per operator and refuses that step or any earlier one,
// so a code read over a shoulder or replayed from a proxy log is worthless. The secret is sealed
// at rest with the field cipher, bound to the operator id. Recovery codes are single-use, shown
// once, and stored as HMAC-SHA256 under a key derived for that purpose alone.
import { createHmac, randomInt } from 'node:crypto';
import { Secret as OtpSecret, TOTP } from 'otpauth';
import { constantTimeEqual } from '../crypto/compare.ts';
import { createFieldCipher, deriveKey, type KeySource } from '../crypto/encryption.ts';

export const TOTP_ALGORITHM = 'SHA1';
export const TOTP_DIGITS = 6;
export const TOTP_PERIOD_SECONDS = 30;
export const TOTP_WINDOW_STEPS = 1;
export const RECOVERY_CODE_COUNT = 10;

/** 160 bits, the HMAC-SHA-1 block-size-friendly length RFC 4226 recommends. Base32, for the app. */
export function newTotpSecret(): string {
  return new OtpSecret({ size: 20 }).base32;
}

export function totpUri(input: { secretBase32: string; issuer: string; accountName: string }): string {
  return new TOTP({
    issuer: input.issuer,
    label: input.accountName,
    secret: OtpSecret.fromBase32(input.secretBase32),
    algorithm: TOTP_ALGORITHM,
    digits: TOTP_DIGITS,
    period: TOTP_PERIOD_SECONDS,
  }).toString();
}

export function totpStep(nowMs: number): number {
  return Math.floor(nowMs / 1000 / TOTP_PERIOD_SECONDS);
}

/** The code an authenticator app shows at `nowMs`; for tests and the enrolment self-check. */
export function totpCodeAt(secretBase32: string, nowMs: number): string {
  return TOTP.generate({
    secret: OtpSecret.fromBase32(secretBase32),
    algorithm: TOTP_ALGORITHM,
    digits: TOTP_DIGITS,
    period: TOTP_PERIOD_SECONDS,
    timestamp: nowMs,
  });
}

export type TotpCheck = { ok: true; step: number } | { ok: false; reason: 'invalid' | 'reused' };

export function verifyTotp(input: {
  secretBase32: string;
  code: string;
  nowMs: number;
  lastUsedStep: number | null;
}): TotpCheck {
  const code = input.code.replace(/\s+/g, '');
  if (!/^\d{6}$/.test(code)) return { ok: false, reason: 'invalid' };
  const delta = TOTP.validate({
    token: code,
    secret: OtpSecret.fromBase32(input.secretBase32),
    algorithm: TOTP_ALGORITHM,
    digits: TOTP_DIGITS,
    period: TOTP_PERIOD_SECONDS,
    timestamp: input.nowMs,
    window: TOTP_WINDOW_STEPS,
  });
  if (delta === null) return { ok: false, reason: 'invalid' };
  const step = totpStep(input.nowMs) + delta;
  if (input.lastUsedStep !== null && step <= input.lastUsedStep) return { ok: false, reason: 'reused' };
  return { ok: true, step };
}

export interface TotpSecretBox {
  seal(secretBase32: string, operatorId: string): string;
  open(sealed: string, operatorId: string): string;
}

export function createTotpSecretBox(masterKey: KeySource): TotpSecretBox {
  const cipher = createFieldCipher(masterKey);
  return {
    // AAD = operator id: a sealed secret copied onto another operator's row does not open.
    seal: (secretBase32, operatorId) => cipher.encrypt(secretBase32, operatorId),
    open: (sealed, operatorId) => cipher.decrypt(sealed, operatorId),
  };
}

// Crockford-style alphabet: no 0/O, 1/I/L or U, so a code read from paper is typed right.
const RECOVERY_ALPHABET = 'abcdefghjkmnpqrstvwxyz23456789';
const RECOVERY_GROUPS = 3;
const RECOVERY_GROUP_LENGTH = 4;

/** 12 characters of a 30-letter alphabet: about 59 bits each, shown as `xxxx-xxxx-xxxx`. */
export function generateRecoveryCodes(count = RECOVERY_CODE_COUNT): string[] {
  return Array.from({ length: count }, () =>
    Array.from({ length: RECOVERY_GROUPS }, () =>
      Array.from({ length: RECOVERY_GROUP_LENGTH }, () => RECOVERY_ALPHABET[randomInt(RECOVERY_ALPHABET.length)]).join(
        '',
      ),
    ).join('-'),
  );
}

/** What the person typed, in the one form that was hashed: case, spaces and dashes ignored. */
export function normalizeRecoveryCode(input: string): string {
  return input.toLowerCase().replace(/[\s-]+/g, '');
}

export interface RecoveryCodeHasher {
  hash(code: string): string;
  /** Index of the stored hash the code matches, or -1; every entry is compared, in constant time. */
  findMatch(code: string, storedHashes: readonly string[]): number;
}

export function createRecoveryCodeHasher(masterKey: KeySource): RecoveryCodeHasher {
  // Codes carry ~59 bits, so a keyed fast hash suffices; the key keeps a stolen table useless.
  const key = deriveKey(masterKey, 'recovery-codes');
  const hash = (code: string) => createHmac('sha256', key).update(normalizeRecoveryCode(code)).digest('hex');
  return {
    hash,
    findMatch(code, storedHashes) {
      const presented = hash(code);
      let found = -1;
      storedHashes.forEach((stored, index) => {
        if (constantTimeEqual(stored, presented) && found === -1) found = index;
      });
      return found;
    },
  };
}
