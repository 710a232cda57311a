// Personal data sealed per field with a customer's own data key (AES-256-GCM). The stored form is
// `p1.<nonce>.<ciphertext>.<tag>`; the associated data names the table, column and row, so a value
// copied to another row or column no longer opens. Values sealed this way are readable only while
// the customer's key exists: erasing the key erases them everywhere at once (DAT-3).
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';

const VERSION = 'p1';

/** What an erased field reads as, in the API and the dashboard. */
export const ERASED = '[erased]';

export function isSealed(value: string): boolean {
  return value.startsWith(`${VERSION}.`);
}

export function seal(dataKey: Buffer, plaintext: string, associatedData: string): string {
  const nonce = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', dataKey, nonce);
  cipher.setAAD(Buffer.from(associatedData, 'utf8'));
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return [
    VERSION,
    nonce.toString('base64url'),
    body.toString('base64url'),
    cipher.getAuthTag().toString('base64url'),
  ].join('.');
}

/** `dataKey` null: the customer was erased. Throws when the value was tampered with or moved. */
export function open(dataKey: Buffer | null, sealed: string, associatedData: string): string {
  if (dataKey === null) return ERASED;
  const [version, nonce, body, tag] = sealed.split('.');
  if (version !== VERSION || nonce === undefined || body === undefined || tag === undefined)
    throw new Error('unsupported sealed value');
  const decipher = createDecipheriv('aes-256-gcm', dataKey, Buffer.from(nonce, 'base64url'));
  decipher.setAAD(Buffer.from(associatedData, 'utf8'));
  decipher.setAuthTag(Buffer.from(tag, 'base64url'));
  return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
}

/**
 * A keyed blind index: equality look-ups (a payment by customer email) without storing the
 * plaintext. Emails are compared case-insensitively, so the index is of the normalised form.
 */
export function blindIndex(indexKey: Buffer, purpose: string, value: string): string {
  return createHmac('sha256', indexKey).update(`${purpose}\u0000${value.trim().toLowerCase()}`).digest('base64url');
}
