// Operator password policy (OPS-1): the seed's composition rule (upper case, lower case, digit,
// special character), 12 to 128 characters (adopted from NIST SP 800-63B), a blocklist of common
// passwords (the offline @zxcvbn-ts common dictionary, plus its strength estimate), nothing
// built from the operator's own email or name, and none of the last four passwords again.
// Every failed rule is returned, each with a stable code and a sentence for the person typing.
import { ZxcvbnFactory } from '@zxcvbn-ts/core';
import { adjacencyGraphs, dictionary } from '@zxcvbn-ts/language-common';
import { verifyPassword } from './password-hash.ts';

export const PASSWORD_MIN_LENGTH = 12;
export const PASSWORD_MAX_LENGTH = 128;
export const PASSWORD_HISTORY_SIZE = 4;
/** zxcvbn scores 0..4; below 3 it can be guessed in under about 10^8 tries offline. */
export const MIN_STRENGTH_SCORE = 3;

export type PasswordRuleCode =
  | 'too_short'
  | 'too_long'
  | 'needs_uppercase'
  | 'needs_lowercase'
  | 'needs_digit'
  | 'needs_special'
  | 'common_password'
  | 'contains_email_or_name'
  | 'reused';

export interface PasswordRuleFailure {
  readonly code: PasswordRuleCode;
  readonly message: string;
}

export const PASSWORD_RULE_MESSAGES: Readonly<Record<PasswordRuleCode, string>> = Object.freeze({
  too_short: `Use at least ${PASSWORD_MIN_LENGTH} characters.`,
  too_long: `Use at most ${PASSWORD_MAX_LENGTH} characters.`,
  needs_uppercase: 'Include at least one upper-case letter.',
  needs_lowercase: 'Include at least one lower-case letter.',
  needs_digit: 'Include at least one digit.',
  needs_special: 'Include at least one special character (anything but a letter or a digit).',
  common_password:
    'This password is common or easy to guess; choose a less predictable one (a few unrelated words work well).',
  contains_email_or_name: 'Do not use your email address or your name in your password.',
  reused: `Choose a password you have not used for your last ${PASSWORD_HISTORY_SIZE} passwords.`,
});

export interface PasswordContext {
  readonly email: string;
  readonly name: string;
  /** Argon2id hashes of the current and previous passwords, newest first. */
  readonly previousHashes?: readonly string[];
}

// Built on first use: the dictionaries take tens of milliseconds to rank.
let checker: ZxcvbnFactory | undefined;
let commonPasswords: ReadonlySet<string> | undefined;

function strength(): ZxcvbnFactory {
  checker ??= new ZxcvbnFactory({ dictionary: { ...dictionary }, graphs: adjacencyGraphs });
  return checker;
}

function isCommon(password: string): boolean {
  commonPasswords ??= new Set((dictionary['passwords-common'] ?? []).map((p) => String(p).toLowerCase()));
  return commonPasswords.has(password.toLowerCase());
}

/** Pieces of the email and name worth refusing: the whole address, its local part, each name word. */
function personalTokens({ email, name }: PasswordContext): string[] {
  const lowerEmail = email.trim().toLowerCase();
  const local = lowerEmail.split('@')[0] ?? '';
  const pieces = [lowerEmail, local, ...local.split(/[^a-z0-9]+/), ...name.toLowerCase().split(/[^\p{L}\p{N}]+/u)];
  // Three characters or more: shorter fragments (initials, "al") are too common to refuse.
  return [...new Set(pieces.filter((p) => p.length >= 3))];
}

export async function checkPassword(password: string, context: PasswordContext): Promise<PasswordRuleFailure[]> {
  const failed: PasswordRuleCode[] = [];
  const length = [...password].length;
  if (length < PASSWORD_MIN_LENGTH) failed.push('too_short');
  if (length > PASSWORD_MAX_LENGTH) failed.push('too_long');
  if (!/\p{Lu}/u.test(password)) failed.push('needs_uppercase');
  if (!/\p{Ll}/u.test(password)) failed.push('needs_lowercase');
  if (!/\p{Nd}/u.test(password)) failed.push('needs_digit');
  if (!/[^\p{L}\p{N}]/u.test(password)) failed.push('needs_special');

  const lower = password.toLowerCase();
  const personal = personalTokens(context);
  if (personal.some((token) => lower.includes(token))) failed.push('contains_email_or_name');

  // Past the length limit the estimate is pointless and slow; the length rule already failed.
  if (
    length <= PASSWORD_MAX_LENGTH &&
    (isCommon(password) || strength().check(password, personal).score < MIN_STRENGTH_SCORE)
  ) {
    failed.push('common_password');
  }

  const history = (context.previousHashes ?? []).slice(0, PASSWORD_HISTORY_SIZE);
  if (length <= PASSWORD_MAX_LENGTH && history.length > 0) {
    const matches = await Promise.all(history.map((h) => verifyPassword(h, password)));
    if (matches.includes(true)) failed.push('reused');
  }
  return failed.map((code) => ({ code, message: PASSWORD_RULE_MESSAGES[code] }));
}
