import { hash, timingSafeEqual } from 'node:crypto';

/**
 * Constant-time string equality. Both sides are hashed first so that the comparison runs over
 * equal-length buffers and the length of the secret is not revealed by an early return.
 */
export function constantTimeEqual(a: string, b: string): boolean {
  // The one-shot digest: no Hash object per call (this runs on every webhook).
  const digestA = hash('sha256', a, 'buffer');
  const digestB = hash('sha256', b, 'buffer');
  return timingSafeEqual(digestA, digestB);
}
