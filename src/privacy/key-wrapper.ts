// The seam between data keys and the key that protects them (DAT-1). Today the master key comes
// from the environment or a file (PAYWARDEN_MASTER_KEY / _FILE, and during a rotation the one
// before it in PAYWARDEN_MASTER_KEY_PREVIOUS / _FILE); a KMS plugs in here by implementing
// wrap/unwrap, and nothing else changes: the database only ever holds wrapped keys, each with the
// name of the master key version that wrapped it (`wrapped_by`).
import { createCipheriv, createDecipheriv, createHmac } from 'node:crypto';
import { pooledRandomBytes } from '../crypto/random-pool.ts';
import { secretKeyObject } from '../crypto/key-object.ts';
import { deriveKey } from '../crypto/encryption.ts';
import type { Secret } from '../crypto/secret.ts';

export interface KeyWrapper {
  /** The version that wraps from now on, stored beside each wrapped key (`mk:<fingerprint>`). */
  readonly keyName: string;
  wrap(dataKey: Buffer, context: string): string;
  /** `wrappedBy` names the version; one this wrapper does not hold (or a retired one) throws. */
  unwrap(wrapped: string, context: string, wrappedBy: string): Buffer;
  /** The versions this wrapper can open, newest first. */
  readonly readable: readonly string[];
}

const VERSION = 'w1';
/** What rows wrapped before master-key versions were named carry; opened by whichever key fits. */
export const LEGACY_WRAPPER_NAME = 'env:1';

/** A master key's public name: a keyed fingerprint, so the name says nothing about the key. */
export function masterKeyName(masterKey: Secret): string {
  const raw = Buffer.from(masterKey.reveal(), 'base64');
  return `mk:${createHmac('sha256', raw).update('paywarden:master-key-name').digest('hex').slice(0, 16)}`;
}

function kekOf(masterKey: Secret): Buffer {
  return deriveKey(masterKey, 'data-key-wrapping-v1');
}

function unwrapWith(kek: Buffer, wrapped: string, context: string): Buffer {
  const [version, nonce, body, tag] = wrapped.split('.');
  if (version !== VERSION || nonce === undefined || body === undefined || tag === undefined)
    throw new Error('unsupported wrapped key');
  const decipher = createDecipheriv('aes-256-gcm', secretKeyObject(kek), Buffer.from(nonce, 'base64url'));
  decipher.setAAD(Buffer.from(context, 'utf8'));
  decipher.setAuthTag(Buffer.from(tag, 'base64url'));
  return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]);
}

/**
 * AES-256-GCM key wrapping under a key derived from the master key; `context` binds each wrapped
 * key to its row. `current` wraps; `previous` (during a rotation) only opens. Retired versions
 * are left out by the caller (keys-at-rest.ts), so they open nothing even when still configured.
 */
export function masterKeyWrapper(current: Secret, previous: readonly Secret[] = []): KeyWrapper {
  const versions = new Map<string, Buffer>();
  for (const key of [current, ...previous]) versions.set(masterKeyName(key), kekOf(key));
  const keyName = masterKeyName(current);
  const kek = versions.get(keyName)!;
  return {
    keyName,
    readable: [...versions.keys()],
    wrap(dataKey, context) {
      const nonce = pooledRandomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', secretKeyObject(kek), nonce);
      cipher.setAAD(Buffer.from(context, 'utf8'));
      const body = Buffer.concat([cipher.update(dataKey), cipher.final()]);
      return [VERSION, nonce, body, cipher.getAuthTag()]
        .map((p) => (typeof p === 'string' ? p : p.toString('base64url')))
        .join('.');
    },
    unwrap(wrapped, context, wrappedBy) {
      if (wrappedBy === LEGACY_WRAPPER_NAME) {
        // GCM's tag tells which of the configured keys wrapped it.
        for (const candidate of versions.values()) {
          try {
            return unwrapWith(candidate, wrapped, context);
          } catch {}
        }
        throw new Error('no configured master key opens this wrapped key');
      }
      const found = versions.get(wrappedBy);
      if (found === undefined) throw new Error(`master key ${wrappedBy} is not configured (or retired)`);
      return unwrapWith(found, wrapped, context);
    },
  };
}
