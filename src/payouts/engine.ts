// The exactly-once heart of payouts (PAY-1, PAY-2). Two operations, both idempotent, both run as
// jobs (so a crash anywhere is followed by a re-run):
//   submit(attempt)  sends the attempt's transfer under its reference (committed beforehand);
//   check(payout)    asks the provider's status query and applies the answer.
// The rules, each with a test in test/e2e/payout-*.test.ts:
//   - Only a definite answer changes state. An indefinite create (timeout, 5xx, 429, reset,
//     unreadable) makes the payout `unknown`; the status query decides, and re-submission reuses
//     the SAME reference. A duplicate-reference answer means the transfer exists: query it.
//   - "Not found" right after a create proves nothing for the provider's grace period; after it,
//     the same reference is sent again (the provider's uniqueness rule makes that safe).
//   - A refusal of a RE-submission is trusted only once the status query cannot find the first
//     send past the grace period (the first send might have created the transfer).
//   - The status query wins over any webhook; webhooks only trigger check(). Nothing moves a
//     payout backwards (the state machine), and provider evidence that contradicts what we told
//     the merchant (failure after success, success after failure, wrong amount) goes to review.
//   - No other provider is ever tried: the attempt's provider is fixed.
import type { SystemKeys } from '../privacy/system-keys.ts';
import type { Clock } from '../clock.ts';
import type { FieldCipher } from '../crypto/encryption.ts';
import type { Db, DbOrTx, PayoutAttemptRow, PayoutRow, PayoutStatus } from '../db/schema.ts';
import type { JobQueue } from '../jobs/queue.ts';
import { RetryLater } from '../jobs/worker.ts';
import type { Logger } from '../log.ts';
import type { CreateTransferOutcome, PayoutProvider, ProviderTransfer } from '../providers/payout-types.ts';
import type { ProviderRegistry } from '../providers/registry.ts';
import { destinationOf, latestAttempt, markSent, openAttempt, recordCheck } from './attempts.ts';
import { recipientFor } from './recipients.ts';
import { isOpen } from './state-machine.ts';
import { transitionPayout } from './transition.ts';

export const SUBMIT_PAYOUT_JOB = 'submit_payout';
export const CHECK_PAYOUT_JOB = 'check_payout';

/** The submit job of an attempt, in the caller's transaction (one per attempt while queued). */
export function queueSubmit(db: DbOrTx, queue: JobQueue, attemptId: string): Promise<unknown> {
  return queue.enqueue(db, {
    kind: SUBMIT_PAYOUT_JOB,
    payload: { attemptId },
    dedupeKey: `payout-submit:${attemptId}`,
    maxAttempts: 20,
  });
}

/** When open payouts are asked about again (after the last, every 24 h) until review. */
export const DEFAULT_CHECK_SCHEDULE_MS = [30_000, 120_000, 600_000, 1_800_000, 3_600_000, 10_800_000, 21_600_000];
const DAY_MS = 86_400_000;

export interface PayoutEngineDeps {
  readonly db: Db;
  readonly queue: JobQueue;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly providers: ProviderRegistry;
  readonly cipher: FieldCipher;
  /** Opens the beneficiary's sealed name for the provider call. */
  readonly systemKeys: SystemKeys;
  /** Overrides every adapter's notFoundGraceMs (crash runs use seconds, not 30 minutes). */
  readonly notFoundGraceMs?: number;
  readonly checkScheduleMs?: readonly number[];
  /** An open payout older than this goes to review (default 7 days). */
  readonly maxOpenMs?: number;
  /** A succeeded payout is asked about once more after this, for a reversal whose webhook was lost. */
  readonly reversalRecheckMs?: number;
  /** Sends under one reference before a person looks (default 12). */
  readonly maxSends?: number;
}

const SYSTEM = { type: 'system' as const, id: null };
const bounded = (text: string | undefined, max = 300) => (text === undefined ? null : text.slice(0, max));

export function createPayoutEngine(deps: PayoutEngineDeps) {
  const log = deps.logger.child({ component: 'payouts' });
  const schedule = deps.checkScheduleMs ?? DEFAULT_CHECK_SCHEDULE_MS;
  const maxOpenMs = deps.maxOpenMs ?? 7 * DAY_MS;
  const maxSends = deps.maxSends ?? 12;
  const graceOf = (adapter: PayoutProvider) => deps.notFoundGraceMs ?? adapter.notFoundGraceMs;
  const nextCheckAt = (step: number) => deps.clock.nowMs() + (schedule[Math.min(step, schedule.length - 1)] ?? DAY_MS);

  const loadPayout = (id: string) => deps.db.selectFrom('payouts').selectAll().where('id', '=', id).executeTakeFirst();

  function adapterFor(payout: PayoutRow, attempt: PayoutAttemptRow): PayoutProvider {
    const adapter = deps.providers.payouts(payout.mode, attempt.provider);
    // Configuration changed under an open payout: wait for it to come back, never send elsewhere.
    if (adapter === undefined) throw new RetryLater(`provider ${attempt.provider} is not configured for payouts`);
    return adapter;
  }

  /** The reconciliation sweep (src/reconcile/payout-sweep.ts) queues a check once this is due. */
  async function scheduleCheck(payoutId: string, atMs: number): Promise<void> {
    await deps.db.updateTable('payouts').set({ next_check_at: atMs }).where('id', '=', payoutId).execute();
  }

  async function toReview(payout: PayoutRow, reason: string, details: Record<string, unknown>): Promise<void> {
    const moved = await deps.db.transaction().execute((trx) =>
      transitionPayout(trx, deps, {
        payoutId: payout.id,
        to: 'requires_review',
        reason,
        actor: SYSTEM,
        details,
        set: { next_check_at: null },
      }),
    );
    if (moved.ok) {
      log.error({ alert: 'payout_requires_review', payoutId: payout.id, reason, ...details }, 'payout needs review');
      deps.queue.notify();
    }
  }

  /** A definite failure: the attempt is closed; a new reference needs an explicit action. */
  async function fail(
    payout: PayoutRow,
    attempt: PayoutAttemptRow,
    code: string,
    message: string | undefined,
  ): Promise<void> {
    await deps.db.transaction().execute(async (trx) => {
      const moved = await transitionPayout(trx, deps, {
        payoutId: payout.id,
        to: 'failed',
        reason: 'provider_refused',
        actor: SYSTEM,
        details: { attemptId: attempt.id, reference: attempt.reference, failureCode: code },
        set: { failure_code: code, failure_message: bounded(message), next_check_at: null },
      });
      if (!moved.ok) return;
      await trx
        .updateTable('payout_attempts')
        .set({ state: 'failed', closed_at: deps.clock.nowMs() })
        .where('id', '=', attempt.id)
        .where('closed_at', 'is', null)
        .execute();
    });
    deps.queue.notify();
  }

  async function markUnknown(payout: PayoutRow, reason: string, retryAfterMs: number | undefined): Promise<void> {
    const at = Math.max(nextCheckAt(0), deps.clock.nowMs() + (retryAfterMs ?? 0));
    if (payout.status === 'pending') {
      await deps.db.transaction().execute((trx) =>
        transitionPayout(trx, deps, {
          payoutId: payout.id,
          to: 'unknown',
          reason: 'ambiguous_provider_response',
          actor: SYSTEM,
          details: { detail: reason },
          set: { check_step: 0 },
        }),
      );
    }
    await scheduleCheck(payout.id, at);
    deps.queue.notify();
  }

  /** Sends the attempt (again, under the same reference). */
  async function submit(attemptId: string): Promise<string> {
    const attempt = await deps.db
      .selectFrom('payout_attempts')
      .selectAll()
      .where('id', '=', attemptId)
      .executeTakeFirst();
    if (attempt === undefined || attempt.closed_at !== null) return 'attempt closed';
    if (attempt.state === 'accepted') return 'already accepted';
    const payout = await loadPayout(attempt.payout_id);
    if (payout === undefined || (payout.status !== 'pending' && payout.status !== 'unknown'))
      return `payout is ${payout?.status ?? 'missing'}`;
    const adapter = adapterFor(payout, attempt);
    const destination = await destinationOf(deps.db, deps.cipher, payout, deps.systemKeys);
    if (destination === undefined) {
      await toReview(payout, 'beneficiary_missing', { attemptId });
      return 'beneficiary missing';
    }
    const recipient = await recipientFor(deps, adapter, payout, attempt, destination);
    if (recipient.kind === 'rejected') {
      // No transfer can exist without a recipient, unless an earlier send had one.
      if (attempt.sends === 0) await fail(payout, attempt, 'invalid_account', recipient.reason);
      else await markUnknown(payout, recipient.reason, undefined);
      return 'recipient refused';
    }
    if (recipient.kind === 'indefinite') throw new RetryLater(recipient.reason, recipient.retryAfterMs);
    if (attempt.sends >= maxSends) {
      await toReview(payout, 'too_many_sends', { attemptId, sends: attempt.sends });
      return 'too many sends';
    }
    // Committed before the call: from here on, a transfer may exist under this reference.
    if (!(await markSent(deps.db, deps.clock, attempt))) return 'attempt changed meanwhile';
    const started = performance.now();
    const outcome = await adapter.createTransfer({
      payoutId: payout.id,
      reference: attempt.reference,
      amountMinor: Number(payout.amount_minor),
      currency: payout.currency,
      narration: payout.narration ?? `Payout ${payout.reference}`.slice(0, 100),
      destination,
      recipient: recipient.recipient,
    });
    await recordCheck(deps.db, deps.clock, {
      payoutId: payout.id,
      attemptId,
      kind: 'create',
      outcome: outcome.kind,
      detail: describeCreate(outcome, attempt.sends + 1),
      latencyMs: Math.round(performance.now() - started),
    });
    const fresh = (await loadPayout(payout.id)) ?? payout;
    switch (outcome.kind) {
      case 'accepted':
        await apply(fresh, attempt, outcome.transfer);
        return `accepted (${outcome.transfer.providerStatus})`;
      case 'duplicate_reference':
        return `duplicate reference: ${await check(payout.id, 'duplicate_reference')}`;
      case 'rejected':
        // The first send was refused: definite. A re-send's refusal is trusted only if the query
        // cannot find the earlier send (check() decides with the grace period).
        if (attempt.sends === 0) {
          await fail(fresh, attempt, outcome.reason, outcome.message);
          return `rejected: ${outcome.reason}`;
        }
        return `re-send rejected: ${await check(payout.id, 'resend_rejected', outcome)}`;
      case 'indefinite':
        await markUnknown(fresh, outcome.reason, outcome.retryAfterMs);
        return `indefinite: ${outcome.reason}`;
    }
  }

  /** Asks the provider about the payout's attempt and applies the answer. */
  async function check(
    payoutId: string,
    trigger: string,
    rejection?: Extract<CreateTransferOutcome, { kind: 'rejected' }>,
  ): Promise<string> {
    const payout = await loadPayout(payoutId);
    if (payout === undefined) return 'no payout';
    if (!isOpen(payout.status) && payout.status !== 'succeeded') return `payout is ${payout.status}`;
    const attempt = isOpen(payout.status)
      ? await openAttempt(deps.db, payoutId)
      : await latestAttempt(deps.db, payoutId);
    if (attempt === undefined) return 'no attempt';
    if (attempt.sends === 0) {
      await enqueueSubmit(attempt.id);
      return 'never sent: submit queued';
    }
    const adapter = adapterFor(payout, attempt);
    const started = performance.now();
    const outcome = await adapter.getTransfer({
      reference: attempt.reference,
      providerTransferId: attempt.provider_transfer_id,
      // Lets Stripe say reversed for a payout paid and then failed (payout-types.ts).
      ...(payout.status === 'succeeded' ? { lastStatus: 'succeeded' as const } : {}),
    });
    await recordCheck(deps.db, deps.clock, {
      payoutId,
      attemptId: attempt.id,
      kind: 'query',
      outcome: outcome.kind === 'ok' ? `status:${outcome.value.status}` : outcome.kind,
      detail: { trigger, ...(outcome.kind === 'ok' ? describeTransfer(outcome.value) : { reason: reasonOf(outcome) }) },
      latencyMs: Math.round(performance.now() - started),
    });
    const fresh = (await loadPayout(payoutId)) ?? payout;
    if (outcome.kind === 'ok') {
      await apply(fresh, attempt, outcome.value);
      return `status ${outcome.value.status}`;
    }
    if (outcome.kind === 'not_found') return notFound(fresh, attempt, adapter, rejection);
    // The query itself had no answer: nothing changes; ask again later.
    await keepWaiting(fresh);
    return `query indefinite: ${outcome.reason}`;
  }

  async function notFound(
    payout: PayoutRow,
    attempt: PayoutAttemptRow,
    adapter: PayoutProvider,
    rejection: Extract<CreateTransferOutcome, { kind: 'rejected' }> | undefined,
  ): Promise<string> {
    if (payout.status === 'succeeded') {
      await toReview(payout, 'succeeded_transfer_not_found', { attemptId: attempt.id });
      return 'succeeded but not found: review';
    }
    if (attempt.state === 'accepted') {
      // The provider said it holds the transfer; it cannot lose it quietly.
      if (deps.clock.nowMs() - (attempt.accepted_at ?? 0) < graceOf(adapter)) return keepWaiting(payout);
      await toReview(payout, 'accepted_transfer_not_found', { attemptId: attempt.id });
      return 'accepted but not found: review';
    }
    const pastGrace = deps.clock.nowMs() - (attempt.first_sent_at ?? 0) >= graceOf(adapter);
    if (rejection !== undefined && pastGrace) {
      await fail(payout, attempt, rejection.reason, rejection.message);
      return `not found and refused: failed (${rejection.reason})`;
    }
    if (rejection !== undefined) {
      await markUnknown(payout, `re-send refused (${rejection.reason}) while the first send may exist`, undefined);
      return 're-send refused within grace: unknown';
    }
    if (deps.clock.nowMs() - (attempt.last_sent_at ?? 0) < graceOf(adapter)) return keepWaiting(payout);
    // Past the grace period nothing exists under this reference: send it again, same reference.
    await enqueueSubmit(attempt.id);
    return 'not found past grace: re-submit queued (same reference)';
  }

  async function keepWaiting(payout: PayoutRow): Promise<string> {
    if (!isOpen(payout.status)) return `payout is ${payout.status}`;
    if (deps.clock.nowMs() - payout.created_at > maxOpenMs) {
      await toReview(payout, 'unresolved_after_schedule', { status: payout.status });
      return 'unresolved: review';
    }
    const step = payout.check_step + 1;
    await deps.db.updateTable('payouts').set({ check_step: step }).where('id', '=', payout.id).execute();
    await scheduleCheck(payout.id, nextCheckAt(step));
    return 'still open: check scheduled';
  }

  async function enqueueSubmit(attemptId: string): Promise<void> {
    await queueSubmit(deps.db, deps.queue, attemptId);
    deps.queue.notify();
  }

  /** Applies what the provider says about the attempt's transfer. */
  async function apply(payout: PayoutRow, attempt: PayoutAttemptRow, view: ProviderTransfer): Promise<void> {
    if (payout.status === 'requires_review' || payout.status === 'reversed' || payout.status === 'cancelled') return;
    const mismatch =
      view.reference !== attempt.reference
        ? 'reference_mismatch'
        : view.currency !== undefined && view.currency !== payout.currency
          ? 'currency_mismatch'
          : view.amountMinor === undefined
            ? 'amount_not_exact'
            : view.amountMinor !== Number(payout.amount_minor)
              ? 'amount_mismatch'
              : undefined;
    if (mismatch !== undefined) {
      await toReview(payout, mismatch, { attemptId: attempt.id, provider: describeTransfer(view) });
      return;
    }
    const target = targetFor(payout.status, view.status);
    if (target === 'review') {
      await toReview(payout, `provider_reports_${view.status}_after_${payout.status}`, {
        attemptId: attempt.id,
        providerStatus: view.providerStatus,
      });
      return;
    }
    if (view.status === 'unknown')
      log.error(
        { alert: 'payout_unknown_provider_status', payoutId: payout.id, providerStatus: view.providerStatus },
        'provider answered with a transfer status we do not know; payout left open',
      );
    const now = deps.clock.nowMs();
    const closes = target === 'succeeded' || target === 'failed' || target === 'reversed';
    await deps.db.transaction().execute(async (trx) => {
      if (target !== undefined && target !== payout.status) {
        const moved = await transitionPayout(trx, deps, {
          payoutId: payout.id,
          to: target,
          reason: reasonFor(target, view),
          actor: SYSTEM,
          details: { attemptId: attempt.id, providerStatus: view.providerStatus },
          set: {
            provider_transfer_id: view.providerTransferId ?? payout.provider_transfer_id,
            fee_minor: view.feeMinor ?? payout.fee_minor,
            ...(target === 'failed' || target === 'reversed'
              ? { failure_code: view.failureReason ?? 'other', failure_message: bounded(view.message) }
              : {}),
            check_step: 0,
            next_check_at:
              target === 'succeeded' ? now + (deps.reversalRecheckMs ?? DAY_MS) : closes ? null : nextCheckAt(0),
          },
        });
        // Another writer moved it first; the next check re-reads and decides again.
        if (!moved.ok) return;
      } else if (payout.status === 'succeeded' && view.status === 'succeeded') {
        // The reversal re-check found it still paid: nothing more to ask.
        await trx.updateTable('payouts').set({ next_check_at: null }).where('id', '=', payout.id).execute();
      }
      await trx
        .updateTable('payout_attempts')
        .set({
          provider_status: view.providerStatus.slice(0, 100),
          provider_transfer_id: view.providerTransferId ?? attempt.provider_transfer_id,
          ...(attempt.state === 'created' || attempt.state === 'sent' ? { state: 'accepted', accepted_at: now } : {}),
          ...(closes
            ? { state: target === 'failed' ? 'failed' : 'succeeded', closed_at: attempt.closed_at ?? now }
            : {}),
        })
        .where('id', '=', attempt.id)
        .execute();
    });
    // No move (a repeated or late signal, or still in flight): ask again on the schedule.
    if (target === undefined || target === payout.status) {
      const after = await loadPayout(payout.id);
      if (after !== undefined && isOpen(after.status)) await keepWaiting(after);
    }
    deps.queue.notify();
  }

  return { submit, check, enqueueSubmit, scheduleCheck };
}

export type PayoutEngine = ReturnType<typeof createPayoutEngine>;

/**
 * The payout status a provider status leads to from the current one: undefined to stay put (a
 * late or repeated signal), 'review' when the provider contradicts what the merchant was told.
 */
export function targetFor(
  current: PayoutStatus,
  provider: ProviderTransfer['status'],
): PayoutStatus | 'review' | undefined {
  if (current === 'succeeded') {
    if (provider === 'reversed') return 'reversed';
    if (provider === 'failed') return 'review';
    return undefined;
  }
  if (current === 'failed') return provider === 'failed' ? undefined : 'review';
  switch (provider) {
    case 'pending':
    case 'processing':
      return current === 'pending' || current === 'unknown' ? 'processing' : undefined;
    case 'requires_action':
      return current === 'requires_action' ? undefined : 'requires_action';
    case 'succeeded':
    case 'failed':
    case 'reversed':
      return provider;
    case 'unknown':
      return current === 'pending' ? 'unknown' : undefined;
  }
}

function reasonFor(target: PayoutStatus, view: ProviderTransfer): string {
  if (target === 'failed' || target === 'reversed') return view.failureReason ?? 'provider_reported';
  if (target === 'requires_action') return 'otp_required';
  if (target === 'unknown') return 'unknown_provider_status';
  return `provider_${view.status}`;
}

function describeTransfer(view: ProviderTransfer): Record<string, unknown> {
  return {
    status: view.status,
    providerStatus: view.providerStatus,
    providerTransferId: view.providerTransferId ?? null,
    amountMinor: view.amountMinor ?? null,
    currency: view.currency ?? null,
    ...(view.message === undefined ? {} : { message: view.message.slice(0, 300) }),
  };
}

function describeCreate(outcome: CreateTransferOutcome, send: number): Record<string, unknown> {
  switch (outcome.kind) {
    case 'accepted':
      return { send, ...describeTransfer(outcome.transfer) };
    case 'rejected':
      return { send, reason: outcome.reason, message: outcome.message.slice(0, 300) };
    case 'duplicate_reference':
      return { send, message: outcome.message.slice(0, 300) };
    case 'indefinite':
      return { send, reason: outcome.reason.slice(0, 300), notSent: outcome.notSent === true };
  }
}

function reasonOf(outcome: { kind: string; reason?: string }): string {
  return (outcome.reason ?? outcome.kind).slice(0, 300);
}
