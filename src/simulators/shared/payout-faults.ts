// The payout faults of issue 9 §3, the same names and meaning in every simulator that pays out
// (../README.md, "Payout faults"). The API faults of api-gate.ts strike before the provider does
// anything; these add the cases that made real integrations pay twice: the provider PROCESSED the
// request and the answer never arrived (timeout, 5xx, reset), a create that lookups cannot see
// for a while, a payout that never settles or settles and is then reversed, a webhook that beats
// the create answer, and the provider's own refusals (duplicate reference, insufficient balance).
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FaultName, FaultStore } from './faults.ts';

/** Before processing: the connection is reset and the provider does nothing. */
export const DROP_FAULTS: readonly FaultName[] = ['drop_request'];
/** After processing: the payout exists, the caller never learns it from this answer. */
export const LOST_ANSWER_FAULTS: readonly FaultName[] = ['lost_answer_timeout', 'lost_answer_500', 'lost_answer_reset'];

export function createLostAnswerFaults(faults: FaultStore) {
  const holds = new Set<() => void>();

  /** Holds a request until the client gives up (or faults are cleared), then cuts the socket. */
  async function holdThenCut(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    await new Promise<void>((resolve) => {
      const socket = request.raw.socket;
      if (socket.destroyed) return resolve();
      const release = () => {
        socket.off('close', release);
        holds.delete(release);
        resolve();
      };
      holds.add(release);
      socket.once('close', release);
    });
    cut(request, reply);
  }

  function cut(request: FastifyRequest, reply: FastifyReply): void {
    reply.hijack();
    request.raw.socket.destroy();
  }

  return {
    /** Resets the connection without an answer (drop_request, lost_answer_reset). */
    cut,
    /** drop_request: resets the connection before anything is processed; false when it did. */
    beforeProcessing(request: FastifyRequest, reply: FastifyReply, scope: string | undefined): boolean {
      if (faults.take(DROP_FAULTS, scope) === undefined) return true;
      cut(request, reply);
      return false;
    },
    /** Takes the lost-answer fault aimed at this request, if any (the caller has processed it). */
    takeLostAnswer(scope: string | undefined) {
      return faults.take(LOST_ANSWER_FAULTS, scope);
    },
    /**
     * Loses the answer as the fault says: held until the client times out, a 500 with the
     * provider's envelope (`errorBody`), or a reset connection.
     */
    async loseAnswer(
      fault: { fault: FaultName },
      request: FastifyRequest,
      reply: FastifyReply,
      errorBody: unknown,
    ): Promise<void> {
      if (fault.fault === 'lost_answer_500') {
        await reply.code(500).type('application/json').send(errorBody);
        return;
      }
      if (fault.fault === 'lost_answer_reset') return cut(request, reply);
      await holdThenCut(request, reply);
    },
    releaseAll(): void {
      for (const release of [...holds]) release();
    },
  };
}

export type LostAnswerFaults = ReturnType<typeof createLostAnswerFaults>;

/**
 * not_found_after_create: how many lookups (by id, reference or list) miss a payout just created.
 * `value` is the count (default 2), deterministic where a time would race the test's clock.
 */
export function hiddenLookupsFor(faults: FaultStore, scope: string | undefined): number {
  const fault = faults.take(['not_found_after_create'], scope);
  return fault === undefined ? 0 : Math.max(1, Math.floor(fault.value ?? 2));
}

/** A record some lookups must not see yet; each miss uses one. */
export interface MaybeHidden {
  hiddenLookups: number;
}

/** True when the lookup may see the record (and uses one of its hidden lookups when not). */
export function visible(record: MaybeHidden): boolean {
  if (record.hiddenLookups <= 0) return true;
  record.hiddenLookups -= 1;
  return false;
}
