// Raw keys (Buffers) handed to node:crypto as KeyObjects. Node 24 accepts a Buffer as a cipher or
// HMAC key, but first asks whether it is a KeyObject by catching the exception a failed brand
// check throws (`isKeyObject` in lib/internal/crypto/keys.js), and building that exception costs
// more than the cryptography: measured on this project's machine, AES-256-GCM sealing a short
// field took 180-220 µs with a Buffer key against 55-59 µs with a KeyObject, HMAC-SHA256 of 600
// bytes 134-151 against 23-43 µs (bench/README.md, 2026-12-07). Keys that live long (the
// pepper, the payload key, the wrapping key) are converted once; a key read for one request
// (a customer's data key) is converted on first use, which alone is still the cheaper path.
import { createSecretKey, type KeyObject } from 'node:crypto';

// Keyed by the Buffer itself: the KeyObject lives as long as the key it was made from. Nothing
// in the code base overwrites a key Buffer in place (which would leave a stale KeyObject here).
const keyObjects = new WeakMap<Buffer, KeyObject>();

export function secretKeyObject(key: Buffer): KeyObject {
  let keyObject = keyObjects.get(key);
  if (keyObject === undefined) {
    keyObject = createSecretKey(key);
    keyObjects.set(key, keyObject);
  }
  return keyObject;
}

// Secrets that arrive as text (providers' webhook secrets and secret keys, used as HMAC keys in
// their UTF-8 form): one KeyObject per secret. Bounded, since a process holds a handful of them;
// past the bound it starts over rather than grow.
const textKeyObjects = new Map<string, KeyObject>();
const TEXT_KEYS_MAX = 256;

export function secretKeyObjectFromText(secret: string): KeyObject {
  let keyObject = textKeyObjects.get(secret);
  if (keyObject === undefined) {
    if (textKeyObjects.size >= TEXT_KEYS_MAX) textKeyObjects.clear();
    keyObject = createSecretKey(Buffer.from(secret, 'utf8'));
    textKeyObjects.set(secret, keyObject);
  }
  return keyObject;
}
