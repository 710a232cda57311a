// Payments' use of the one transition mechanism (src/events/transition.ts): their state machine,
// their event names and their wire object. There is no other path to `payments.status`.
import type { CompiledQuery } from 'kysely';
import type { Clock } from '../clock.ts';
import type { PaymentRow, PaymentStatus, Tx } from '../db/schema.ts';
import { transitionObject, type StateMachineSpec } from '../events/transition.ts';
import type { JobQueue } from '../jobs/queue.ts';
import type { PrivacyService } from '../privacy/privacy-service.ts';
import { toPaymentObject } from './payment-object.ts';
import { canTransition, eventTypeFor } from './state-machine.ts';

export interface TransitionInput {
  readonly paymentId: string;
  /** The payment as last read, if the caller has it: see ObjectTransitionInput.expected. */
  readonly expected?: PaymentRow;
  readonly to: PaymentStatus;
  readonly reason: string;
  readonly actor: { type: 'system' | 'operator' | 'api_key'; id: string | null };
  readonly details?: Record<string, unknown>;
  readonly providerTxId?: string | null;
  /** The provider's fee in minor units of the payment's currency, from its verify answer. */
  readonly providerFeeMinor?: number;
  /** See ObjectTransitionInput.alsoWrite: written with the transition, only when it happens. */
  readonly alsoWrite?: readonly CompiledQuery[];
}

export type TransitionResult =
  | { ok: true; payment: PaymentRow; eventId: string }
  | { ok: false; reason: 'not_found' | 'illegal_transition'; current?: PaymentStatus };

export const PAYMENT_MACHINE: StateMachineSpec<'payments'> = {
  table: 'payments',
  objectType: 'payment',
  canTransition,
  eventTypeFor,
  toObject: toPaymentObject,
  // The event carries the payment with its customer: opened for the object, sealed again with the
  // same customer's key in the event row (DAT-1).
  open: (trx, privacy, row) => privacy.openPaymentRow(trx, row),
  customerIdOf: (row) => row.customer_id,
};

export async function transitionPayment(
  trx: Tx,
  deps: { queue: JobQueue; clock: Clock; privacy: PrivacyService },
  input: TransitionInput,
): Promise<TransitionResult> {
  const result = await transitionObject(trx, deps, PAYMENT_MACHINE, {
    id: input.paymentId,
    ...(input.expected === undefined ? {} : { expected: input.expected }),
    to: input.to,
    reason: input.reason,
    actor: input.actor,
    ...(input.details === undefined ? {} : { details: input.details }),
    ...(input.alsoWrite === undefined ? {} : { alsoWrite: input.alsoWrite }),
    set: (current) => ({
      next_reconcile_at: input.to === 'pending' ? current.next_reconcile_at : null,
      ...(input.providerTxId === undefined || input.providerTxId === null
        ? {}
        : { provider_tx_id: input.providerTxId }),
      ...(input.providerFeeMinor === undefined ? {} : { provider_fee_minor: input.providerFeeMinor }),
    }),
  });
  if (!result.ok)
    return result.current === undefined
      ? { ok: false, reason: result.reason }
      : { ok: false, reason: result.reason, current: result.current.status };
  // Every payment status has its event.
  return { ok: true, payment: result.row, eventId: result.eventId ?? '' };
}
