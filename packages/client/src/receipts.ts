// Signed receipts (docs/receipts/README.md): the signature is the lower-case hex HMAC-SHA256,
// keyed with the receipt key's 32 bytes (base64), over the canonical JSON of `receipt` (keys
// sorted by UTF-16 code units, no whitespace, integers only). Checked in constant time.
import { createHmac, timingSafeEqual } from 'node:crypto';

export interface SignedReceipt {
  readonly receipt: Readonly<Record<string, unknown>> & { readonly key_id: string };
  readonly signature: string;
}

/** What the gateway signs. Throws on values a receipt never holds (fractions, undefined...). */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw new TypeError('receipts hold integers only');
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object') {
    const object = value as Record<string, unknown>;
    return `{${Object.keys(object)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonicalJson(object[key])}`)
      .join(',')}}`;
  }
  throw new TypeError(`receipts cannot hold a ${typeof value}`);
}

/**
 * True only for a receipt signed by one of `keys` (receipt key id -> its base64 secret). Keep
 * every key id you were given: rotated keys still verify the receipts they signed.
 */
export function verifyReceipt(signed: unknown, keys: Readonly<Record<string, string>>): signed is SignedReceipt {
  if (signed === null || typeof signed !== 'object') return false;
  const { receipt, signature } = signed as { receipt?: unknown; signature?: unknown };
  if (receipt === null || typeof receipt !== 'object' || Array.isArray(receipt)) return false;
  if (typeof signature !== 'string' || !/^[0-9a-f]{64}$/.test(signature)) return false;
  const keyId = (receipt as { key_id?: unknown }).key_id;
  const secret = typeof keyId === 'string' && Object.hasOwn(keys, keyId) ? keys[keyId] : undefined;
  if (secret === undefined) return false;
  let expected: Buffer;
  try {
    expected = createHmac('sha256', Buffer.from(secret, 'base64')).update(canonicalJson(receipt), 'utf8').digest();
  } catch {
    return false;
  }
  return timingSafeEqual(expected, Buffer.from(signature, 'hex'));
}
