// Input rules for operator accounts (OPS-2): what an email, a name and a login attempt may look
// like before anything touches the database or a password hash. Allowlists and length caps, and
// the free-text rule (src/text/free-text.ts) for what a name or an address may not hide.
import { firstForbidden } from '../text/free-text.ts';

export const EMAIL_MAX_LENGTH = 254;
export const NAME_MAX_LENGTH = 100;
/** Longer than any valid password (128) with room for multi-byte input; refuse before hashing. */
export const LOGIN_PASSWORD_MAX_LENGTH = 512;

/** Lower-cased and trimmed, or undefined when it cannot be an address we would have stored. */
export function normalizeEmail(input: unknown): string | undefined {
  if (typeof input !== 'string') return undefined;
  const email = input.trim().toLowerCase();
  if (email.length === 0 || email.length > EMAIL_MAX_LENGTH || firstForbidden(email) !== undefined) return undefined;
  // Deliberately plain: one @, no spaces or control characters, a dot in the domain.
  return /^[^\s@\p{Cc}]+@[^\s@\p{Cc}]+\.[^\s@\p{Cc}]+$/u.test(email) ? email : undefined;
}

export function normalizeName(input: unknown): string | undefined {
  if (typeof input !== 'string') return undefined;
  const name = input.trim().replace(/\s+/g, ' ');
  if (name.length === 0 || [...name].length > NAME_MAX_LENGTH) return undefined;
  // Letters, marks, digits, spaces and the punctuation names use (ZWNJ and ZWJ among them, which
  // Persian names need); nothing that could be markup, nothing invisible.
  return /^[\p{L}\p{M}\p{N} .,'’\u200C\u200D-]+$/u.test(name) && firstForbidden(name) === undefined ? name : undefined;
}

export function isPlausibleLoginPassword(input: unknown): input is string {
  return typeof input === 'string' && input.length > 0 && input.length <= LOGIN_PASSWORD_MAX_LENGTH;
}
