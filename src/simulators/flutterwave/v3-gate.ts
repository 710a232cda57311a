// What every /v3 call passes before its handler: the shared gate (../shared/api-gate.ts) with
// Flutterwave's key check and error bodies. The payment, bank and transfer routes all use it.
import type { FaultStore } from '../shared/faults.ts';
import { createSimulatorGate, type SimulatorGate, sameSecret } from '../shared/api-gate.ts';
import { errorEnvelope } from './wire.ts';

export function createV3Gate(secretKey: string, faults: FaultStore): SimulatorGate {
  return createSimulatorGate({
    faults,
    authenticate: (request) =>
      sameSecret(request.headers.authorization ?? '', `Bearer ${secretKey}`)
        ? undefined
        : { status: 401, body: errorEnvelope('Invalid authorization key') },
    // 500 and 503 carry the message Flutterwave sends with its 28 s timeout 503 (§1.1).
    faultBody: (status) =>
      errorEnvelope(status === 429 ? 'Too many requests' : 'An error occurred. Please contact support'),
  });
}

/** `gate.pass(request, reply, scope)`: false when answered (401 or a fault); scope is the tx_ref or transfer reference. */
export type V3Gate = SimulatorGate;
