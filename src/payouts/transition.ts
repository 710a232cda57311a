// Payouts' use of the one transition mechanism (src/events/transition.ts). There is no other
// path to `payouts.status`.
import type { Clock } from '../clock.ts';
import type { PayoutRow, PayoutStatus, Tx } from '../db/schema.ts';
import { transitionObject, type ObjectTransitionResult, type StateMachineSpec } from '../events/transition.ts';
import type { JobQueue } from '../jobs/queue.ts';
import { toPayoutObject } from './payout-object.ts';
import { canTransitionPayout, payoutEventTypeFor } from './state-machine.ts';

export const PAYOUT_MACHINE: StateMachineSpec<'payouts'> = {
  table: 'payouts',
  objectType: 'payout',
  canTransition: canTransitionPayout,
  eventTypeFor: payoutEventTypeFor,
  toObject: (row) => toPayoutObject(row),
};

export interface PayoutTransitionInput {
  readonly payoutId: string;
  readonly to: PayoutStatus;
  readonly reason: string;
  readonly actor: { type: 'system' | 'operator' | 'api_key'; id: string | null };
  readonly details?: Record<string, unknown>;
  readonly set?: Partial<PayoutRow>;
}

export function transitionPayout(
  trx: Tx,
  deps: { queue: JobQueue; clock: Clock },
  input: PayoutTransitionInput,
): Promise<ObjectTransitionResult<PayoutRow>> {
  return transitionObject(trx, deps, PAYOUT_MACHINE, {
    id: input.payoutId,
    to: input.to,
    reason: input.reason,
    actor: input.actor,
    ...(input.details === undefined ? {} : { details: input.details }),
    ...(input.set === undefined ? {} : { set: () => input.set ?? {} }),
  });
}
