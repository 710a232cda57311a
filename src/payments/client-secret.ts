// A payment's client secret (API-1): what the merchant's return page presents, with a publishable
// key, to read that one payment's status. 190 random bits; stored only as a keyed hash (like API
// keys), compared in constant time, shown once in the answer to POST /v1/payments.
import { createHmac } from 'node:crypto';
import { secretKeyObject } from '../crypto/key-object.ts';
import { constantTimeEqual } from '../crypto/compare.ts';
import { deriveKey, type KeySource } from '../crypto/encryption.ts';
import { randomBase62 } from '../ids.ts';

export const CLIENT_SECRET_PATTERN = '^pcs_[0-9A-Za-z]{32}$';

export function createClientSecrets(masterKey: KeySource) {
  const pepper = deriveKey(masterKey, 'payment-client-secret');
  // Bound to the payment id, so one payment's secret says nothing about another's.
  const hash = (paymentId: string, secret: string) =>
    createHmac('sha256', secretKeyObject(pepper)).update(`${paymentId}:${secret}`).digest('hex');
  return {
    issue(paymentId: string): { secret: string; hash: string } {
      const secret = `pcs_${randomBase62(32)}`;
      return { secret, hash: hash(paymentId, secret) };
    },
    matches(paymentId: string, storedHash: string | null, presented: string): boolean {
      // Compare even without a stored hash (a payment made before client secrets), in equal time.
      const equal = constantTimeEqual(storedHash ?? '0'.repeat(64), hash(paymentId, presented));
      return storedHash !== null && equal;
    },
  };
}

export type ClientSecrets = ReturnType<typeof createClientSecrets>;
