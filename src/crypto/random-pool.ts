// CSPRNG bytes drawn in blocks and handed out in order, each byte once: one call into OpenSSL per
// 4 KiB instead of one per nonce or id. A 12-byte `randomBytes` cost more than the AES-GCM seal it
// fed on the webhook hot path (bench/README.md, 2026-12-07 evening). Nonces need to be unique and
// ids unguessable; bytes that are never handed out twice, from the same generator, are both. Keys
// are still drawn with `randomBytes` directly, so no key ever sits in this pool before its use.
import { randomBytes } from 'node:crypto';

const POOL_BYTES = 4096;
let pool = randomBytes(POOL_BYTES);
let offset = 0;

/** `length` fresh random bytes, the caller's own copy. */
export function pooledRandomBytes(length: number): Buffer {
  if (length > POOL_BYTES / 4) return randomBytes(length);
  if (offset + length > POOL_BYTES) {
    pool = randomBytes(POOL_BYTES);
    offset = 0;
  }
  const bytes = Buffer.allocUnsafe(length);
  pool.copy(bytes, 0, offset, offset + length);
  offset += length;
  return bytes;
}

/** One fresh random byte. */
export function pooledRandomByte(): number {
  if (offset === POOL_BYTES) {
    pool = randomBytes(POOL_BYTES);
    offset = 0;
  }
  return pool[offset++]!;
}
