// COL-1 and COL-5: value is given only after the provider's verify API confirms status, amount,
// currency and reference. Only a definite answer changes state:
//   exact match + success  -> succeeded
//   definite failure       -> failed (after the reference, not only one attempt, says so; and
//                             where a declined checkout stays payable, only once it can no
//                             longer be paid: past our expiry, which the provider's follows)
//   any mismatch           -> requires_review (alert), never succeeded
//   in flight (a bank debit settling) -> unchanged, and never expired while the provider says so
//   timeout/5xx/429/unknown/pending -> unchanged; the job retries with backoff
// A webhook whose transaction belongs to another payment changes neither: that one is verified.
import type { Clock } from '../clock.ts';
import type { Db, PaymentRow, VerificationsTable } from '../db/schema.ts';
import { newId } from '../ids.ts';
import type { JobQueue } from '../jobs/queue.ts';
import type { PaymentProvider } from '../providers/types.ts';
import { RetryLater } from '../jobs/worker.ts';
import type { PrivacyService } from '../privacy/privacy-service.ts';
import type { Logger } from '../log.ts';
import type { ProviderRegistry } from '../providers/registry.ts';
import type { VerifiedTransaction, VerifyOutcome } from '../providers/types.ts';
import { awaitsProvider } from './state-machine.ts';
import { transitionPayment } from './transition.ts';

export const VERIFY_JOB = 'verify_payment';

export interface VerifyDeps {
  readonly db: Db;
  readonly queue: JobQueue;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly providers: ProviderRegistry;
  readonly privacy: PrivacyService;
}

export type VerifyResult =
  | 'succeeded'
  | 'failed'
  | 'requires_review'
  | 'still_pending'
  | 'in_flight'
  | 'not_found'
  | 'already_final'
  | 'names_other_payment';

/** A currency of '' or an amount of undefined (the provider's answer did not say, or not in a
 * form we can read exactly) equals no order, so they are mismatches too. */
export function compareWithPayment(
  payment: Pick<PaymentRow, 'id' | 'currency' | 'amount_minor'>,
  tx: VerifiedTransaction,
): string[] {
  const mismatches: string[] = [];
  if (tx.reference !== payment.id) mismatches.push('reference');
  if (tx.currency !== payment.currency) mismatches.push('currency');
  // A charge that includes fees may exceed the order; it may never fall short of it.
  const chargedShort =
    tx.charged !== undefined && (tx.charged.amountMinor === undefined || tx.charged.amountMinor < payment.amount_minor);
  if (tx.amountMinor !== payment.amount_minor || chargedShort) mismatches.push('amount');
  return mismatches;
}

export async function verifyPayment(
  deps: VerifyDeps,
  paymentId: string,
  providerTxIdHint: string | null,
  /** The payment as the caller just read it (the webhook job does), so it is not read twice. */
  current?: PaymentRow,
): Promise<VerifyResult> {
  const payment =
    current?.id === paymentId
      ? current
      : await deps.db.selectFrom('payments').selectAll().where('id', '=', paymentId).executeTakeFirst();
  if (payment === undefined) return 'not_found';
  if (!awaitsProvider(payment.status)) return 'already_final';
  const provider = deps.providers.payment(payment.mode, payment.provider);
  if (provider === undefined)
    throw new RetryLater(`provider ${payment.provider} is not configured in ${payment.mode} mode`, 60_000);

  let outcome = await timed(() =>
    provider.verifyPayment({ paymentId, providerTxId: providerTxIdHint ?? payment.provider_tx_id }),
  );
  if (
    outcome.result.kind === 'ok' &&
    providerTxIdHint !== null &&
    compareWithPayment(payment, outcome.result.value).includes('reference')
  )
    return namesOtherPayment(deps, payment, outcome.result.value, outcome.latencyMs, providerTxIdHint);
  // One failed attempt does not fail the payment: the customer may have retried at the hosted
  // checkout and paid with another attempt under the same reference. Ask by reference too.
  if (
    outcome.result.kind === 'ok' &&
    outcome.result.value.status === 'failed' &&
    (providerTxIdHint ?? payment.provider_tx_id) !== null &&
    provider.attemptsPerReference === 'many'
  ) {
    await record(deps, payment.id, 'failed', outcome.latencyMs, { by: 'id', ...summarise(outcome.result.value) });
    outcome = await timed(() => provider.verifyPayment({ paymentId, providerTxId: null }));
  }
  const { result, latencyMs } = outcome;

  if (result.kind === 'indefinite') {
    await record(deps, payment.id, 'indefinite', latencyMs, { reason: result.reason });
    throw new RetryLater(result.reason, result.retryAfterMs);
  }
  if (result.kind === 'not_found') {
    await record(deps, payment.id, 'not_found', latencyMs, {});
    // A webhook named a transaction the provider does not know yet: look again later. Without
    // a hint it simply means the customer has not paid; reconciliation asks again on schedule.
    if (providerTxIdHint !== null) throw new RetryLater('provider does not know the transaction yet', 30_000);
    return 'not_found';
  }
  if (result.kind === 'rejected') {
    await record(deps, payment.id, 'indefinite', latencyMs, { reason: result.reason });
    throw new RetryLater(result.reason);
  }

  const tx = result.value;
  const mismatches = compareWithPayment(payment, tx);
  if (tx.status === 'pending') {
    await record(deps, payment.id, 'pending', latencyMs, {
      ...summarise(tx),
      ...(tx.inFlight ? { inFlight: true } : {}),
    });
    return tx.inFlight === true ? 'in_flight' : 'still_pending';
  }
  if (tx.status === 'failed' && checkoutStillPayable(provider, payment, deps.clock.nowMs())) {
    // A declined card at a checkout that stays open: the customer may pay with the next attempt.
    await record(deps, payment.id, 'pending', latencyMs, { ...summarise(tx), attempt: 'declined_checkout_open' });
    return 'still_pending';
  }
  if (tx.status === 'failed') {
    if (mismatches.includes('reference')) {
      await record(deps, payment.id, 'mismatch', latencyMs, { ...summarise(tx), mismatches });
      // A failure that belongs to another payment says nothing about this one.
      deps.logger.error(
        { alert: 'verify_reference_mismatch', paymentId, providerTxId: tx.providerTxId },
        'provider returned another reference for this payment',
      );
      return 'still_pending';
    }
    return decide(deps, payment, 'failed', 'provider_reported_failure', tx, latencyMs, []);
  }
  if (mismatches.length > 0) {
    // Money moved, but not the money that was ordered: never success (COL-1).
    deps.logger.error(
      {
        alert: 'verify_mismatch',
        paymentId,
        mismatches,
        expected: { amount: payment.amount_minor, currency: payment.currency },
        got: { amount: tx.amountMinor ?? 'inexact', currency: tx.currency },
      },
      'verified payment does not match the order; flagged for review',
    );
    return decide(deps, payment, 'requires_review', `mismatch:${mismatches.join(',')}`, tx, latencyMs, mismatches);
  }
  if (payment.status !== 'pending') {
    deps.logger.error(
      { alert: 'late_success', paymentId, status: payment.status },
      'provider confirmed success after the payment was marked ' + payment.status,
    );
    return decide(deps, payment, 'requires_review', `late_success_after_${payment.status}`, tx, latencyMs, []);
  }
  return decide(deps, payment, 'succeeded', 'verified_with_provider', tx, latencyMs, []);
}

/** A declined attempt fails the payment only once its checkout can no longer be paid. */
function checkoutStillPayable(provider: PaymentProvider, payment: PaymentRow, nowMs: number): boolean {
  return provider.checkoutAfterDecline === 'open' && payment.expires_at > nowMs;
}

/**
 * A correctly signed webhook named this payment, but the provider's answer for its transaction
 * carries another reference: the transaction is not this payment's. This payment is left as it
 * is (it is reconciled by its own reference), the mismatch is an alert, and the payment the
 * provider names, if it is ours, is verified with that transaction.
 */
async function namesOtherPayment(
  deps: VerifyDeps,
  payment: PaymentRow,
  tx: VerifiedTransaction,
  latencyMs: number,
  providerTxIdHint: string,
): Promise<VerifyResult> {
  await record(deps, payment.id, 'mismatch', latencyMs, { ...summarise(tx), mismatches: ['reference'] });
  deps.logger.error(
    {
      alert: 'webhook_names_other_payment',
      paymentId: payment.id,
      providerTxId: providerTxIdHint,
      providerReference: tx.reference,
    },
    'a webhook named this payment with a transaction the provider says belongs to another reference; payment left unchanged',
  );
  const named = await deps.db
    .selectFrom('payments')
    .select(['id'])
    .where('id', '=', tx.reference)
    .where('mode', '=', payment.mode)
    .where('provider', '=', payment.provider)
    .executeTakeFirst();
  if (named !== undefined) {
    await deps.queue.enqueue(deps.db, {
      kind: VERIFY_JOB,
      payload: { paymentId: named.id, reason: 'named_by_provider', providerTxId: providerTxIdHint },
      dedupeKey: `verify:${named.id}:${providerTxIdHint}`,
      maxAttempts: 8,
    });
    deps.queue.notify();
  }
  return 'names_other_payment';
}

async function decide(
  deps: VerifyDeps,
  payment: PaymentRow,
  to: 'succeeded' | 'failed' | 'requires_review',
  reason: string,
  tx: VerifiedTransaction,
  latencyMs: number,
  mismatches: string[],
): Promise<VerifyResult> {
  const outcome: VerificationsTable['outcome'] =
    mismatches.length > 0 ? 'mismatch' : to === 'failed' ? 'failed' : 'succeeded';
  const moved = await deps.db.transaction().execute(async (trx) => {
    // The verification is kept whether or not the payment moves: with the transition's own writes
    // when it does (one round trip fewer), on its own when it does not.
    const verification = trx
      .insertInto('verifications')
      .values(verificationRow(deps.clock, payment.id, outcome, latencyMs, { ...summarise(tx), mismatches }))
      .compile();
    const result = await transitionPayment(trx, deps, {
      alsoWrite: [verification],
      paymentId: payment.id,
      // The row the decision was made on: the guarded update goes straight to it, and reads the
      // payment again only if it changed meanwhile.
      expected: payment,
      to,
      reason,
      actor: { type: 'system', id: null },
      providerTxId: tx.providerTxId,
      // A fee in another currency than the payment's is not this payment's fee in its units.
      ...(tx.feeMinor === undefined || tx.currency !== payment.currency ? {} : { providerFeeMinor: tx.feeMinor }),
      details: {
        providerStatus: tx.providerStatus,
        mismatches,
        ...(tx.feeMinor === undefined ? {} : { providerFeeMinor: tx.feeMinor }),
        ...(tx.charged?.amountMinor === undefined ? {} : { chargedAmountMinor: tx.charged.amountMinor }),
      },
    });
    if (!result.ok) await trx.executeQuery(verification);
    return result.ok;
  });
  if (moved) deps.queue.notify();
  // Another worker may have moved the payment meanwhile; its decision stands.
  return moved ? to : 'already_final';
}

async function timed(call: () => Promise<VerifyOutcome>): Promise<{ result: VerifyOutcome; latencyMs: number }> {
  const started = performance.now();
  const result = await call();
  return { result, latencyMs: Math.round(performance.now() - started) };
}

function summarise(tx: VerifiedTransaction): Record<string, unknown> {
  return {
    providerStatus: tx.providerStatus,
    amountMinor: tx.amountMinor ?? null,
    ...(tx.charged === undefined ? {} : { chargedAmountMinor: tx.charged.amountMinor ?? null }),
    ...(tx.feeMinor === undefined ? {} : { feesMinor: tx.feeMinor }),
    currency: tx.currency,
    reference: tx.reference,
    providerTxId: tx.providerTxId,
  };
}

function verificationRow(
  clock: Clock,
  paymentId: string,
  outcome: VerificationsTable['outcome'],
  latencyMs: number,
  detail: Record<string, unknown>,
) {
  return {
    id: newId('ver'),
    payment_id: paymentId,
    attempted_at: clock.nowMs(),
    outcome,
    detail_json: JSON.stringify(detail),
    latency_ms: latencyMs,
  };
}

async function record(
  deps: VerifyDeps,
  paymentId: string,
  outcome: VerificationsTable['outcome'],
  latencyMs: number,
  detail: Record<string, unknown>,
): Promise<void> {
  await deps.db
    .insertInto('verifications')
    .values(verificationRow(deps.clock, paymentId, outcome, latencyMs, detail))
    .execute();
}
