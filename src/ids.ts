import { randomBytes } from 'node:crypto';

// Identifiers are random, never sequential (DAT-2): 128 bits from the CSPRNG, base62 so they stay
// URL- and log-friendly. The prefix says what kind of object an id names, as merchants expect.
const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

export const ID_PREFIXES = ['pay', 'evt', 'we', 'key', 'whk', 'del', 'att', 'job', 'aud', 'ver', 'req'] as const;
export type IdPrefix = (typeof ID_PREFIXES)[number];

// CSPRNG bytes are drawn in blocks and handed out in order: one system call per block rather
// than per id, which matters on the webhook hot path. Each byte is used once.
const POOL_BYTES = 4096;
let pool = randomBytes(POOL_BYTES);
let poolOffset = 0;

function nextRandomByte(): number {
  if (poolOffset === POOL_BYTES) {
    pool = randomBytes(POOL_BYTES);
    poolOffset = 0;
  }
  return pool[poolOffset++]!;
}

export function randomBase62(length: number): string {
  // Rejection sampling keeps every character uniformly likely (no modulo bias).
  let out = '';
  while (out.length < length) {
    const byte = nextRandomByte();
    if (byte < 248) out += ALPHABET[byte % 62];
  }
  return out;
}

export function newId(prefix: IdPrefix): string {
  return `${prefix}_${randomBase62(22)}`;
}

export function isId(prefix: IdPrefix, value: string): boolean {
  return new RegExp(`^${prefix}_[0-9A-Za-z]{22}$`).test(value);
}
