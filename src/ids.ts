import { pooledRandomByte } from './crypto/random-pool.ts';

// Identifiers are random, never sequential (DAT-2): 128 bits from the CSPRNG, base62 so they stay
// URL- and log-friendly. The prefix says what kind of object an id names, as merchants expect.
const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

export const ID_PREFIXES = [
  'pay',
  'evt',
  'we',
  'key',
  'whk',
  'del',
  'att',
  'job',
  'aud',
  'ver',
  'req',
  'bak',
  'inc',
  'po',
  'poa',
  'pod',
  'pck',
  'ben',
  'cus',
  'dk',
  'ack',
  'acs',
  'aar',
  'rk',
  'itl',
  'pob',
  'rot',
] as const;
export type IdPrefix = (typeof ID_PREFIXES)[number];

export function randomBase62(length: number): string {
  // Rejection sampling keeps every character uniformly likely (no modulo bias).
  let out = '';
  while (out.length < length) {
    const byte = pooledRandomByte();
    if (byte < 248) out += ALPHABET[byte % 62];
  }
  return out;
}

// An id is 7 base62 characters of creation time (milliseconds) and 15 random ones (89 bits from
// the CSPRNG). Not sequential and not guessable (DAT-2), but roughly ordered, so each new row
// lands at the right edge of its B-tree indexes instead of on a random page: on the webhook hot
// path that is the difference between rewriting a few pages per commit and hundreds.
const TIME_CHARS = 7;

function base62Time(ms: number): string {
  let out = '';
  let rest = Math.floor(ms);
  for (let i = 0; i < TIME_CHARS; i += 1) {
    out = ALPHABET[rest % 62] + out;
    rest = Math.floor(rest / 62);
  }
  return out;
}

export function newId(prefix: IdPrefix, nowMs: number = Date.now()): string {
  return `${prefix}_${base62Time(nowMs)}${randomBase62(22 - TIME_CHARS)}`;
}

/** The shape of every id we issue, as a pattern for schemas (and `isId`). */
export const idPattern = (prefix: string): string => `^${prefix}_[0-9A-Za-z]{22}$`;

export function isId(prefix: IdPrefix, value: string): boolean {
  return new RegExp(idPattern(prefix)).test(value);
}
