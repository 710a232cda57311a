// The Ed25519 key that signs audit checkpoints (LOG-4). The private seed comes from
// PAYWARDEN_AUDIT_SIGNING_KEY(_FILE) (generated into the data directory in test mode), never from
// the database, so someone who can rewrite the database cannot sign a checkpoint for a shortened
// chain. Verifiers need only the public key (`paywarden audit public-key`).
import { createHash, createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import type { Secret } from '../crypto/secret.ts';

// PKCS#8 wrapping of a raw 32-byte Ed25519 seed (RFC 8410), so node:crypto can import it.
const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
// SubjectPublicKeyInfo wrapping of a raw 32-byte Ed25519 public key.
const SPKI_ED25519_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

export interface CheckpointSigner {
  readonly keyId: string;
  /** The raw 32-byte public key, base64: give it to whoever verifies the log away from the gateway. */
  readonly publicKey: string;
  sign(message: string): string;
}

/** Public keys a verifier trusts, by key id (the current one, and retired ones if configured). */
export type CheckpointKeyring = ReadonlyMap<string, KeyObject>;

export function checkpointSigner(seed: Secret): CheckpointSigner {
  const raw = Buffer.from(seed.reveal(), 'base64');
  if (raw.length !== 32) throw new Error('the audit signing key must be 32 bytes, base64-encoded');
  const privateKey = createPrivateKey({
    key: Buffer.concat([PKCS8_ED25519_PREFIX, raw]),
    format: 'der',
    type: 'pkcs8',
  });
  const publicRaw = rawPublicKey(createPublicKey(privateKey));
  return {
    keyId: keyIdOf(publicRaw),
    publicKey: publicRaw.toString('base64'),
    sign: (message) => sign(null, Buffer.from(message, 'utf8'), privateKey).toString('base64url'),
  };
}

export function keyringOf(publicKeysBase64: readonly string[]): CheckpointKeyring {
  return new Map(
    publicKeysBase64.map((b64) => {
      const raw = Buffer.from(b64, 'base64');
      if (raw.length !== 32) throw new Error('an Ed25519 public key is 32 bytes, base64-encoded');
      const key = createPublicKey({ key: Buffer.concat([SPKI_ED25519_PREFIX, raw]), format: 'der', type: 'spki' });
      return [keyIdOf(raw), key] as const;
    }),
  );
}

export function verifySignature(key: KeyObject, message: string, signature: string): boolean {
  try {
    return verify(null, Buffer.from(message, 'utf8'), key, Buffer.from(signature, 'base64url'));
  } catch {
    return false;
  }
}

function rawPublicKey(key: KeyObject): Buffer {
  return key.export({ format: 'der', type: 'spki' }).subarray(SPKI_ED25519_PREFIX.length);
}

/** Short and stable: the first 16 hex digits of SHA-256 over the raw public key. */
function keyIdOf(rawPublic: Buffer): string {
  return `ask_${createHash('sha256').update(rawPublic).digest('hex').slice(0, 16)}`;
}
