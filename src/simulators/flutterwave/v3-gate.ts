// What every /v3 call passes before its handler: the secret key, then the API faults (delay,
// 5xx, 429, timeout). Authentication comes first, as on the real API: a fault is not a way in.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { createApiFaultGate } from '../shared/api-gate.ts';
import type { FaultStore } from '../shared/faults.ts';
import { errorEnvelope } from './wire.ts';

// Hash both sides so the comparison takes the same time whatever the length of the guess.
const digest = (value: string) => createHash('sha256').update(value).digest();

export function createV3Gate(secretKey: string, faults: FaultStore) {
  const expected = digest(`Bearer ${secretKey}`);
  // 500 and 503 carry the message Flutterwave sends with its 28 s timeout 503 (§1.1).
  const faultGate = createApiFaultGate(faults, (status) =>
    errorEnvelope(status === 429 ? 'Too many requests' : 'An error occurred. Please contact support'),
  );
  return {
    /** False when the request has been answered (401 or a fault); `scope` is the tx_ref or transfer reference. */
    async pass(request: FastifyRequest, reply: FastifyReply, scope: string | undefined): Promise<boolean> {
      if (!timingSafeEqual(digest(request.headers.authorization ?? ''), expected)) {
        await reply.code(401).send(errorEnvelope('Invalid authorization key'));
        return false;
      }
      return faultGate.apply(request, reply, scope);
    },
    /** Lets go of requests held by the `timeout` fault. */
    releaseAll: () => faultGate.releaseAll(),
  };
}

export type V3Gate = ReturnType<typeof createV3Gate>;
