// Personal data sealed per field with a customer's own data key (AES-256-GCM, a fresh 96-bit
// nonce each time). The stored form is `p2.<keyVersion>.<nonce>.<ciphertext>.<tag>`: the version
// names which of the customer's key versions sealed it, so a rotated key still opens what it
// sealed until the version is retired. The associated data is the header (`p2.<keyVersion>.`)
// followed by the table, column and row (`payments.customer_email:pay_...`): a value copied to
// another row or column, or with its version number changed, no longer opens. Values written
// before versions existed are `p1.<nonce>.<ciphertext>.<tag>` (associated data: the place only)
// and read as version 1 forever. Values sealed this way are readable only while the customer's key
// exists: erasing every version erases them everywhere at once (DAT-3).
import { createCipheriv, createDecipheriv, createHmac } from 'node:crypto';
import { pooledRandomBytes } from '../crypto/random-pool.ts';
import { secretKeyObject } from '../crypto/key-object.ts';

const V1 = 'p1';
const V2 = 'p2';

/** What an erased field reads as, in the API and the dashboard. */
export const ERASED = '[erased]';

export function isSealed(value: string): boolean {
  return value.startsWith(`${V1}.`) || value.startsWith(`${V2}.`);
}

/** What every value sealed under this customer key version starts with (`p1.` values are version 1 too). */
export const sealedUnderVersion = (version: number) => `${V2}.${version}.`;

/** The customer key version a sealed value names: 1 for `p1.`, undefined when it is not sealed or malformed. */
export function keyVersionOf(sealed: string): number | undefined {
  if (sealed.startsWith(`${V1}.`)) return 1;
  if (!sealed.startsWith(`${V2}.`)) return undefined;
  const version = sealed.split('.', 2)[1] ?? '';
  return /^[1-9]\d{0,8}$/.test(version) ? Number(version) : undefined;
}

function gcmSeal(key: Buffer, plaintext: string, associatedData: string): string {
  const nonce = pooledRandomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', secretKeyObject(key), nonce);
  cipher.setAAD(Buffer.from(associatedData, 'utf8'));
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return [nonce, body, cipher.getAuthTag()].map((p) => p.toString('base64url')).join('.');
}

function gcmOpen(key: Buffer, parts: readonly string[], associatedData: string): string {
  const [nonce, body, tag] = parts;
  if (parts.length !== 3 || nonce === undefined || body === undefined || tag === undefined)
    throw new Error('unsupported sealed value');
  const decipher = createDecipheriv('aes-256-gcm', secretKeyObject(key), Buffer.from(nonce, 'base64url'));
  decipher.setAAD(Buffer.from(associatedData, 'utf8'));
  decipher.setAuthTag(Buffer.from(tag, 'base64url'));
  return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
}

/** The unversioned form (`p1.`), as the payload keys use inside their own `s1.<keyId>.` envelope. */
export function seal(dataKey: Buffer, plaintext: string, associatedData: string): string {
  return `${V1}.${gcmSeal(dataKey, plaintext, associatedData)}`;
}

/** `dataKey` null: the customer was erased. Throws when the value was tampered with or moved. */
export function open(dataKey: Buffer | null, sealed: string, associatedData: string): string {
  if (dataKey === null) return ERASED;
  const [version, ...parts] = sealed.split('.');
  if (version !== V1) throw new Error('unsupported sealed value');
  return gcmOpen(dataKey, parts, associatedData);
}

/** A customer's key versions: the current one seals; every version kept opens what it sealed. */
export interface Keyring {
  readonly current: number;
  readonly keys: ReadonlyMap<number, Buffer>;
}

/** Seals under the keyring's current version (`p2.<version>.`). */
export function sealVersioned(keyring: Keyring, plaintext: string, associatedData: string): string {
  const key = keyring.keys.get(keyring.current);
  if (key === undefined) throw new Error(`customer key version ${keyring.current} is not loaded`);
  const header = sealedUnderVersion(keyring.current);
  return `${header}${gcmSeal(key, plaintext, `${header}${associatedData}`)}`;
}

/**
 * Opens a `p1.` or `p2.` value with the version it names. `keyring` null: the customer was erased.
 * Throws when the version is not kept (retired), or the value was tampered with or moved.
 */
export function openVersioned(keyring: Keyring | null, sealed: string, associatedData: string): string {
  if (keyring === null) return ERASED;
  const version = keyVersionOf(sealed);
  if (version === undefined) throw new Error('unsupported sealed value');
  const key = keyring.keys.get(version);
  if (key === undefined) throw new Error(`customer key version ${version} is not available (retired?)`);
  if (sealed.startsWith(`${V1}.`)) return gcmOpen(key, sealed.split('.').slice(1), associatedData);
  const header = sealedUnderVersion(version);
  if (!sealed.startsWith(header)) throw new Error('unsupported sealed value');
  return gcmOpen(key, sealed.slice(header.length).split('.'), `${header}${associatedData}`);
}

/**
 * A keyed blind index: equality look-ups (a payment by customer email) without storing the
 * plaintext. Emails are compared case-insensitively, so the index is of the normalised form.
 */
export function blindIndex(indexKey: Buffer, purpose: string, value: string): string {
  return createHmac('sha256', secretKeyObject(indexKey))
    .update(`${purpose}\u0000${value.trim().toLowerCase()}`)
    .digest('base64url');
}
