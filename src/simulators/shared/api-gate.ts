// What every simulated API call passes before its handler, the same way in every simulator: the
// provider's own checks (the key; KwikPaisa also its request signature) first, then the API faults
// (delay, 5xx, 429, timeout). Authentication comes first, as on the real APIs: a fault is not a
// way in. Each simulator supplies only what differs: how it checks a request and its error bodies.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { API_FAULTS, type FaultStore } from './faults.ts';

/** How a provider refuses a request before any fault applies (401 for a wrong key, say). */
export interface GateRefusal {
  readonly status: number;
  readonly body: unknown;
}

export interface SimulatorGateOptions {
  readonly faults: FaultStore;
  /** The provider's checks; a refusal answers the request, undefined lets it through to the faults. */
  readonly authenticate: (request: FastifyRequest) => GateRefusal | undefined;
  /** The provider's error body for an injected 500, 503 or 429. */
  readonly faultBody: (status: 429 | 500 | 503) => unknown;
}

// Hash both sides so the comparison takes the same time whatever the length of the guess.
const digest = (value: string) => createHash('sha256').update(value).digest();

/** Constant-time equality of two secrets (or of a presented header and the expected one). */
export function sameSecret(presented: string, expected: string): boolean {
  return timingSafeEqual(digest(presented), digest(expected));
}

export function createSimulatorGate(options: SimulatorGateOptions) {
  const holds = new Set<() => void>();

  async function applyFault(request: FastifyRequest, reply: FastifyReply, scope: string | null | undefined) {
    const fault = options.faults.take(API_FAULTS, scope);
    if (fault === undefined) return true;
    switch (fault.fault) {
      case 'delay':
        await new Promise((resolve) => setTimeout(resolve, fault.value ?? 1000));
        return true;
      case 'http_500':
      case 'http_503': {
        const status = fault.fault === 'http_500' ? 500 : 503;
        await reply.code(status).send(options.faultBody(status));
        return false;
      }
      case 'http_429':
        await reply
          .code(429)
          .header('retry-after', String(fault.value ?? 1))
          .send(options.faultBody(429));
        return false;
      default:
        // timeout: hold the request until the client gives up (or faults are cleared). Wait on
        // the socket: a POST request's own 'close' fires as soon as its body has been read.
        await new Promise<void>((resolve) => {
          const socket = request.raw.socket;
          const release = () => {
            socket.off('close', release);
            holds.delete(release);
            resolve();
          };
          holds.add(release);
          socket.once('close', release);
        });
        reply.hijack();
        request.raw.socket.destroy();
        return false;
    }
  }

  return {
    /**
     * False when the request has been answered (a refusal or a fault); `scope` is the payment's or
     * transfer's reference, so a fault aimed at one payment leaves the others alone.
     */
    async pass(request: FastifyRequest, reply: FastifyReply, scope: string | null | undefined): Promise<boolean> {
      const refusal = options.authenticate(request);
      if (refusal !== undefined) {
        await reply.code(refusal.status).send(refusal.body);
        return false;
      }
      return applyFault(request, reply, scope);
    },
    /** Lets go of requests held by the `timeout` fault (on clear, reset and close). */
    releaseAll(): void {
      for (const release of [...holds]) release();
    },
  };
}

export type SimulatorGate = ReturnType<typeof createSimulatorGate>;
