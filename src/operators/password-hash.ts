// Operator password hashing (OPS-1): argon2id at or above OWASP's minimum (19 MiB, 2 passes,
// 1 lane). The PHC string carries its own parameters, so raising them later keeps old hashes
// verifiable; `needsRehash` says when to upgrade one at the next sign-in.
import { hash, verify } from '@node-rs/argon2';
import type { Algorithm } from '@node-rs/argon2';
import { randomBytes } from 'node:crypto';

export const ARGON2_PARAMS = Object.freeze({
  // @node-rs/argon2 declares Algorithm as an ambient const enum, which isolated modules cannot
  // read; 2 is its Argon2id.
  algorithm: 2 as Algorithm,
  memoryCost: 19_456,
  timeCost: 2,
  parallelism: 1,
});

export async function hashPassword(password: string): Promise<string> {
  return hash(password, ARGON2_PARAMS);
}

export async function verifyPassword(storedHash: string, password: string): Promise<boolean> {
  try {
    return await verify(storedHash, password);
  } catch {
    // A malformed stored hash is a failed sign-in, never a crash that reveals the row exists.
    return false;
  }
}

let dummy: Promise<string> | undefined;

/**
 * A real hash of a random password with the same parameters, to verify against when the email is
 * unknown: the unknown-email path then costs what the wrong-password path costs, so response time
 * does not tell an attacker which addresses have accounts.
 */
export function dummyPasswordHash(): Promise<string> {
  dummy ??= hashPassword(randomBytes(32).toString('base64url'));
  return dummy;
}

export function needsRehash(storedHash: string): boolean {
  const match = /^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$/.exec(storedHash);
  if (match === null) return true;
  return (
    Number(match[1]) < ARGON2_PARAMS.memoryCost ||
    Number(match[2]) < ARGON2_PARAMS.timeCost ||
    Number(match[3]) !== ARGON2_PARAMS.parallelism
  );
}
