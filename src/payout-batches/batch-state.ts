// A payout file's status, through the one transition mechanism (src/events/transition.ts): the
// guarded update and its audit row in the caller's transaction. A batch is not announced to the
// merchant (no event type): its payouts are, each with its own events.
//   invalid <-> ready: the same file checked again (a row fixed in the database, or broken by it)
//   ready -> submitted: its payouts were created, held for approval; nothing leaves submitted.
import type { Clock } from '../clock.ts';
import type { Tx } from '../db/schema.ts';
import { transitionObject, type StateMachineSpec } from '../events/transition.ts';
import type { JobQueue } from '../jobs/queue.ts';
import type { PayoutBatchesTable, PayoutBatchStatus } from './tables.ts';

const TRANSITIONS: Readonly<Record<PayoutBatchStatus, readonly PayoutBatchStatus[]>> = {
  invalid: ['ready'],
  ready: ['invalid', 'submitted'],
  submitted: [],
};

export const BATCH_MACHINE: StateMachineSpec<'payout_batches'> = {
  table: 'payout_batches',
  objectType: 'payout_batch',
  canTransition: (from, to) => TRANSITIONS[from].includes(to),
  eventTypeFor: () => null,
  toObject: (row) => ({ id: row.id, object: 'payout_batch', status: row.status }),
};

export function transitionBatch(
  trx: Tx,
  deps: { queue: JobQueue; clock: Clock },
  input: {
    batchId: string;
    to: PayoutBatchStatus;
    reason: string;
    actor: { type: 'operator' | 'api_key'; id: string };
    details?: Record<string, unknown>;
    set?: Partial<PayoutBatchesTable>;
  },
) {
  return transitionObject(trx, deps, BATCH_MACHINE, {
    id: input.batchId,
    to: input.to,
    reason: input.reason,
    actor: input.actor,
    ...(input.details === undefined ? {} : { details: input.details }),
    ...(input.set === undefined ? {} : { set: () => input.set ?? {} }),
  });
}
