// Bearer tokens for sessions, invites and login challenges: `<id>.<secret>`, the secret 32 bytes
// from the CSPRNG (256 bits, OPS-8). The id finds the row; only SHA-256 of the secret is stored.
// A slow KDF would add nothing: 256 random bits cannot be guessed, and a database dump holds no
// secret to replay.
import { createHash, randomBytes } from 'node:crypto';
import { constantTimeEqual } from '../crypto/compare.ts';
import { operatorObjectId, type OperatorIdPrefix } from './ids.ts';

export interface IssuedToken {
  readonly id: string;
  /** The whole `<id>.<secret>`: shown once, never stored. */
  readonly token: string;
  readonly secret: string;
  readonly secretHash: string;
}

export function hashTokenSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

export function issueToken(prefix: OperatorIdPrefix): IssuedToken {
  const id = operatorObjectId(prefix);
  const secret = randomBytes(32).toString('base64url');
  return { id, token: `${id}.${secret}`, secret, secretHash: hashTokenSecret(secret) };
}

export function parseToken(prefix: OperatorIdPrefix, token: unknown): { id: string; secret: string } | undefined {
  if (typeof token !== 'string') return undefined;
  const match = new RegExp(`^(${prefix}_[0-9A-Za-z]{22})\\.([0-9A-Za-z_-]{43})$`).exec(token);
  return match === null ? undefined : { id: match[1]!, secret: match[2]! };
}

/** Compares even when no row was found, so an unknown id costs what a wrong secret costs. */
export function secretMatches(storedHash: string | undefined, secret: string): boolean {
  return constantTimeEqual(storedHash ?? '0'.repeat(64), hashTokenSecret(secret)) && storedHash !== undefined;
}
