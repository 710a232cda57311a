// The seam between data keys and the key that protects them (DAT-1). Today the master key comes
// from the environment or a file (PAYWARDEN_MASTER_KEY / _FILE); a KMS plugs in here by
// implementing wrap/unwrap, and nothing else changes: the database only ever holds wrapped keys.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { deriveKey } from '../crypto/encryption.ts';
import type { Secret } from '../crypto/secret.ts';

export interface KeyWrapper {
  /** The name of the key that wraps, stored beside each wrapped key (e.g. `env:1`). */
  readonly keyName: string;
  wrap(dataKey: Buffer, context: string): string;
  unwrap(wrapped: string, context: string): Buffer;
}

const VERSION = 'w1';

/** AES-256-GCM key wrapping under a key derived from the master key; `context` binds each wrapped key to its row. */
export function masterKeyWrapper(masterKey: Secret): KeyWrapper {
  const kek = deriveKey(masterKey, 'data-key-wrapping-v1');
  return {
    keyName: 'env:1',
    wrap(dataKey, context) {
      const nonce = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', kek, nonce);
      cipher.setAAD(Buffer.from(context, 'utf8'));
      const body = Buffer.concat([cipher.update(dataKey), cipher.final()]);
      return [VERSION, nonce, body, cipher.getAuthTag()]
        .map((p) => (typeof p === 'string' ? p : p.toString('base64url')))
        .join('.');
    },
    unwrap(wrapped, context) {
      const [version, nonce, body, tag] = wrapped.split('.');
      if (version !== VERSION || nonce === undefined || body === undefined || tag === undefined)
        throw new Error('unsupported wrapped key');
      const decipher = createDecipheriv('aes-256-gcm', kek, Buffer.from(nonce, 'base64url'));
      decipher.setAAD(Buffer.from(context, 'utf8'));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]);
    },
  };
}
