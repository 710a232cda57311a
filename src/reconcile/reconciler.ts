// Nothing stays pending silently (COL-2, COL-5): a payment that no webhook resolved is verified on
// a schedule (by default 10 min, 1 h, 6 h and 24 h after creation), and once it is past its
// expiry and the provider still has no definite answer, it becomes `expired`.
import type { Clock } from '../clock.ts';
import type { Db } from '../db/schema.ts';
import type { JobQueue } from '../jobs/queue.ts';
import type { PrivacyService } from '../privacy/privacy-service.ts';
import type { Logger } from '../log.ts';
import { verifyPayment, VERIFY_JOB, type VerifyDeps } from '../payments/verification.ts';
import { transitionPayment } from '../payments/transition.ts';
import { expireWithoutCheckout } from '../payments/checkout-creation.ts';

export const RECONCILE_BATCH = 100;

export function createReconciler(deps: {
  db: Db;
  queue: JobQueue;
  clock: Clock;
  logger: Logger;
  privacy: PrivacyService;
  scheduleSeconds: readonly number[];
}) {
  /** Finds payments whose next check is due and queues one verification each. */
  async function sweep(): Promise<number> {
    const now = deps.clock.nowMs();
    const due = await deps.db
      .selectFrom('payments')
      .select(['id', 'created_at', 'reconcile_step', 'expires_at'])
      .where('status', '=', 'pending')
      .where('next_reconcile_at', '<=', now)
      .orderBy('next_reconcile_at')
      .limit(RECONCILE_BATCH)
      .execute();
    for (const payment of due) {
      const nextStep = payment.reconcile_step + 1;
      const nextOffsetSeconds = deps.scheduleSeconds[nextStep];
      // After the last scheduled check, the next look is at expiry (or never, once past it).
      const scheduledAt = nextOffsetSeconds !== undefined ? payment.created_at + nextOffsetSeconds * 1000 : null;
      const expiryCheckAt = payment.expires_at > now ? payment.expires_at : null;
      const nextAt =
        scheduledAt !== null && expiryCheckAt !== null
          ? Math.min(scheduledAt, expiryCheckAt)
          : (scheduledAt ?? expiryCheckAt);
      await deps.db.transaction().execute(async (trx) => {
        await trx
          .updateTable('payments')
          .set({ next_reconcile_at: nextAt, reconcile_step: nextStep })
          .where('id', '=', payment.id)
          .where('status', '=', 'pending')
          .execute();
        await deps.queue.enqueue(trx, {
          kind: VERIFY_JOB,
          payload: { paymentId: payment.id, reason: 'reconcile' },
          dedupeKey: `verify:${payment.id}`,
          maxAttempts: 8,
        });
      });
    }
    if (due.length > 0) deps.queue.notify();
    return due.length;
  }
  return { sweep };
}

/** How often a payment past its expiry is asked about again while the provider says its money is
 * on the way (a bank debit takes days). */
export const IN_FLIGHT_RECHECK_MS = 6 * 3_600_000;

/** The verify job: used by reconciliation. Expires a payment still undecided past its expiry,
 * unless the provider says the payment is in flight (then it is asked again later). */
export function createVerifyJob(deps: VerifyDeps) {
  return async (payload: Record<string, unknown>): Promise<void> => {
    const paymentId = String(payload.paymentId);
    // A transaction the provider named (a webhook that named another payment with it).
    const hint = typeof payload.providerTxId === 'string' ? payload.providerTxId : null;
    // A payment that never got its checkout (its creation died, or the provider never answered,
    // and no retry resumed it): nobody holds a link to it, so there is nothing to ask the provider
    // (and Stripe could not be asked without the session id). It expires at its expiry, visibly.
    if (hint === null) {
      const payment = await deps.db
        .selectFrom('payments')
        .select(['status', 'checkout_url'])
        .where('id', '=', paymentId)
        .executeTakeFirst();
      if (payment?.status === 'pending' && payment.checkout_url === null) {
        await expireWithoutCheckout(deps, paymentId);
        return;
      }
    }
    const result = await verifyPayment(deps, paymentId, hint);
    if (result === 'in_flight') {
      const now = deps.clock.nowMs();
      await deps.db
        .updateTable('payments')
        .set({ next_reconcile_at: now + IN_FLIGHT_RECHECK_MS })
        .where('id', '=', paymentId)
        .where('status', '=', 'pending')
        .where('expires_at', '<=', now)
        .execute();
      return;
    }
    if (result !== 'still_pending' && result !== 'not_found') return;
    const payment = await deps.db
      .selectFrom('payments')
      .select(['status', 'expires_at'])
      .where('id', '=', paymentId)
      .executeTakeFirst();
    if (payment?.status !== 'pending' || payment.expires_at > deps.clock.nowMs()) return;
    await deps.db.transaction().execute((trx) =>
      transitionPayment(trx, deps, {
        paymentId,
        to: 'expired',
        reason: result === 'not_found' ? 'customer_never_paid' : 'provider_still_pending_at_expiry',
        actor: { type: 'system', id: null },
      }),
    );
    deps.queue.notify();
  };
}
