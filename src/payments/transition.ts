// The only code that changes `payments.status`. One transaction holds: the guarded update
// (compare-and-set on the current status, so two workers racing on one payment cannot both
// transition it), the event, the audit row and the outbox rows.
import type { Clock } from '../clock.ts';
import type { PaymentRow, PaymentStatus, Tx } from '../db/schema.ts';
import { writeAudit } from '../audit/audit.ts';
import { writeEvent } from '../events/outbox.ts';
import type { JobQueue } from '../jobs/queue.ts';
import { toPaymentObject } from './payment-object.ts';
import { canTransition, eventTypeFor } from './state-machine.ts';

export interface TransitionInput {
  readonly paymentId: string;
  readonly to: PaymentStatus;
  readonly reason: string;
  readonly actor: { type: 'system' | 'operator' | 'api_key'; id: string | null };
  readonly details?: Record<string, unknown>;
  readonly providerTxId?: string | null;
}

export type TransitionResult =
  | { ok: true; payment: PaymentRow; eventId: string }
  | { ok: false; reason: 'not_found' | 'illegal_transition'; current?: PaymentStatus };

export async function transitionPayment(
  trx: Tx,
  deps: { queue: JobQueue; clock: Clock },
  input: TransitionInput,
): Promise<TransitionResult> {
  const current = await trx.selectFrom('payments').selectAll().where('id', '=', input.paymentId).executeTakeFirst();
  if (current === undefined) return { ok: false, reason: 'not_found' };
  if (!canTransition(current.status, input.to))
    return { ok: false, reason: 'illegal_transition', current: current.status };

  const now = deps.clock.nowMs();
  const updated = await trx
    .updateTable('payments')
    .set({
      status: input.to,
      status_reason: input.reason,
      updated_at: now,
      version: current.version + 1,
      next_reconcile_at: input.to === 'pending' ? current.next_reconcile_at : null,
      ...(input.providerTxId === undefined || input.providerTxId === null
        ? {}
        : { provider_tx_id: input.providerTxId }),
    })
    .where('id', '=', current.id)
    .where('version', '=', current.version)
    .returningAll()
    .executeTakeFirst();
  // Another transaction moved the payment first; the caller re-reads and decides again.
  if (updated === undefined) return { ok: false, reason: 'illegal_transition', current: current.status };

  const eventId = await writeEvent(trx, deps, {
    mode: updated.mode,
    type: eventTypeFor(input.to),
    objectId: updated.id,
    data: { object: toPaymentObject(updated) },
  });
  await writeAudit(trx, deps.clock, {
    mode: updated.mode,
    actorType: input.actor.type,
    actorId: input.actor.id,
    action: `payment.transition.${current.status}.${input.to}`,
    objectType: 'payment',
    objectId: updated.id,
    details: { from: current.status, to: input.to, reason: input.reason, eventId, ...input.details },
  });
  return { ok: true, payment: updated, eventId };
}
