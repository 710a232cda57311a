import { createCipheriv, createDecipheriv, createHmac } from 'node:crypto';
import { pooledRandomBytes } from './random-pool.ts';
import { secretKeyObject } from './key-object.ts';
import { Secret } from './secret.ts';

// Field-level encryption at rest (DAT-1): AES-256-GCM with a per-value random 96-bit nonce.
// The stored form is `v1.<nonce>.<ciphertext>.<tag>` (base64url) so that the key version can be
// rotated later without guessing which key sealed an old row.
const VERSION = 'v1';

export interface FieldCipher {
  encrypt(plaintext: string, associatedData: string): string;
  decrypt(sealed: string, associatedData: string): string;
}

/**
 * Keys of their own per purpose (the API-key pepper, the blind-index key, ...), stored wrapped by
 * the master key (src/privacy/purpose-keys.ts), so rotating the master key only re-wraps them.
 */
export interface PurposeKeys {
  keyFor(purpose: string): Buffer;
}

/** The deployment's stored purpose keys, or (tests, and the key-wrapping key) a secret to derive them from. */
export type KeySource = Secret | PurposeKeys;

export function deriveKey(source: KeySource, purpose: string): Buffer {
  if (!(source instanceof Secret)) return source.keyFor(purpose);
  // Separate keys per purpose, so the API-key pepper never doubles as the encryption key.
  return createHmac('sha256', Buffer.from(source.reveal(), 'base64')).update(`paywarden:${purpose}`).digest();
}

export function createFieldCipher(masterKey: KeySource): FieldCipher {
  const key = deriveKey(masterKey, 'field-encryption-v1');
  return {
    encrypt(plaintext, associatedData) {
      const nonce = pooledRandomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', secretKeyObject(key), nonce);
      cipher.setAAD(Buffer.from(associatedData, 'utf8'));
      const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      return [
        VERSION,
        nonce.toString('base64url'),
        body.toString('base64url'),
        cipher.getAuthTag().toString('base64url'),
      ].join('.');
    },
    decrypt(sealed, associatedData) {
      const [version, nonce, body, tag] = sealed.split('.');
      if (version !== VERSION || nonce === undefined || body === undefined || tag === undefined) {
        throw new Error('unsupported sealed value');
      }
      const decipher = createDecipheriv('aes-256-gcm', secretKeyObject(key), Buffer.from(nonce, 'base64url'));
      decipher.setAAD(Buffer.from(associatedData, 'utf8'));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
    },
  };
}
