// Creating, reading and acting on payouts. Creation commits the payout, its first attempt (with
// the reference the provider will see) and the submit job in one transaction: the provider is
// called by the job, after that commit (PAY-1). The merchant's reference is unique per mode
// forever (the unique index decides races); a clash names the payout that holds it.
import { auditActorOf, writeAudit } from '../audit/audit.ts';
import { newestFirstPage } from '../db/pages.ts';
import type { Clock } from '../clock.ts';
import type { DialectStrategy } from '../db/dialect.ts';
import type { BeneficiaryRow, Db, Mode, PayoutRow, PayoutStatus, Tx } from '../db/schema.ts';
import { ApiError } from '../errors.ts';
import { newId } from '../ids.ts';
import type { JobQueue } from '../jobs/queue.ts';
import type { RequestContext } from '../payments/payment-service.ts';
import type { ProviderRegistry } from '../providers/registry.ts';
import type { BeneficiaryStore } from '../beneficiaries/beneficiary-store.ts';
import { insertAttempt, openAttempt, recordCheck } from './attempts.ts';
import { queueSubmit, type PayoutEngine } from './engine.ts';
import { transitionPayout } from './transition.ts';
import type { FiredRule, HoldRule, HoldService } from './controls/holds.ts';
import { evaluateRules } from './controls/rules.ts';
import { assertCountryAllowed, type ControlSettings } from './controls/settings.ts';

export interface CreatePayoutInput {
  readonly amount: number;
  readonly currency: string;
  readonly beneficiary: string;
  readonly reference: string;
  readonly narration?: string;
  readonly metadata?: Record<string, string>;
  readonly provider?: string;
}

/** A payout checked and ready to write (prepare, then insertPrepared in a transaction). */
export interface PreparedPayout {
  readonly input: CreatePayoutInput;
  readonly beneficiaryId: string;
  /** As read by prepare: the rules look at its name check. */
  readonly beneficiary: BeneficiaryRow;
  readonly provider: string;
}

export interface CreateOptions {
  /** Hold for approval whatever the rules say (the bulk-file work: rule 'batch'). */
  readonly hold?: { rule: HoldRule; detail?: FiredRule['detail']; approvalsRequired?: number };
}

export interface PayoutListFilters {
  readonly limit: number;
  readonly startingAfter?: string;
  readonly status?: PayoutStatus;
  readonly beneficiary?: string;
  readonly reference?: string;
  readonly provider?: string;
  /** Created at or after this instant (ms). */
  readonly createdFrom?: number;
  /** Created before this instant (ms). */
  readonly createdBefore?: number;
}

/** What a person may decide for a payout in review (those the state machine allows out of it). */
export const REVIEW_OUTCOMES = ['succeeded', 'failed', 'reversed'] as const;
export type ReviewOutcome = (typeof REVIEW_OUTCOMES)[number];

export interface PayoutServiceDeps {
  readonly db: Db;
  readonly dialect: DialectStrategy;
  readonly queue: JobQueue;
  readonly clock: Clock;
  readonly providers: ProviderRegistry;
  readonly beneficiaries: BeneficiaryStore;
  readonly engine: PayoutEngine;
  readonly settings: ControlSettings;
  readonly holds: HoldService;
}

const actorOf = (ctx: RequestContext) => {
  const a = auditActorOf(ctx);
  return { type: a.actorType === 'operator' ? ('operator' as const) : ('api_key' as const), id: a.actorId };
};

export function createPayoutService(deps: PayoutServiceDeps) {
  const get = (mode: Mode, id: string): Promise<PayoutRow | undefined> =>
    deps.db.selectFrom('payouts').selectAll().where('id', '=', id).where('mode', '=', mode).executeTakeFirst();

  async function mustGet(mode: Mode, id: string): Promise<PayoutRow> {
    const payout = await get(mode, id);
    if (payout === undefined) throw new ApiError('not_found', { message: 'No such payout.' });
    return payout;
  }

  /**
   * Everything about a payout that can be checked before anything is written (the beneficiary, its
   * provider, currency and destination). Throws the ApiError the API answers with.
   */
  async function prepare(mode: Mode, input: CreatePayoutInput): Promise<PreparedPayout> {
    const beneficiary = await deps.beneficiaries.get(mode, input.beneficiary);
    if (beneficiary === undefined)
      throw new ApiError('parameter_invalid', { param: 'beneficiary', message: 'No such beneficiary.' });
    if (beneficiary.currency !== input.currency)
      throw new ApiError('parameter_invalid', {
        param: 'currency',
        message: `The beneficiary is paid in ${beneficiary.currency}.`,
      });
    // Bank codes and recipients belong to the provider that verified the account: the payout
    // goes there (a named provider must be that one). Chosen once; never changed afterwards.
    const providerName = input.provider ?? beneficiary.provider;
    if (providerName !== beneficiary.provider)
      throw new ApiError('parameter_invalid', {
        param: 'provider',
        message: `The beneficiary was verified with ${beneficiary.provider}; pay it through that provider.`,
      });
    const adapter = deps.providers.payouts(mode, providerName);
    if (adapter === undefined)
      throw new ApiError('parameter_invalid', {
        param: 'provider',
        message: `${providerName} does not pay out in ${mode} mode here.`,
      });
    if (!adapter.currencies.includes(input.currency))
      throw new ApiError('currency_not_supported', {
        param: 'currency',
        message: `${adapter.name} does not pay out in ${input.currency}.`,
      });
    if (!adapter.destinations.includes(beneficiary.type))
      throw new ApiError('parameter_invalid', {
        param: 'beneficiary',
        message: `${adapter.name} does not pay to ${beneficiary.type}.`,
      });
    // Early, so a payout file names the row; insertPrepared checks again under the settings lock.
    assertCountryAllowed((await deps.settings.get(mode)).controls, beneficiary.country);
    return { input, beneficiaryId: beneficiary.id, beneficiary, provider: adapter.name };
  }

  /**
   * Writes a prepared payout in the caller's transaction: the row, its first attempt, the audit
   * row, then the rules (controls/rules.ts, plus `options.hold`): held, it waits on_hold with no
   * submit job; otherwise the submit job is queued. A used reference throws the database's unique
   * violation (create() turns it into payout_reference_used). Call queue.notify() after commit.
   */
  async function insertPrepared(
    trx: Tx,
    ctx: RequestContext,
    prepared: PreparedPayout,
    options: CreateOptions = {},
  ): Promise<string> {
    const { input, beneficiary } = prepared;
    const controls = await deps.settings.lockForCreation(trx, ctx.mode);
    assertCountryAllowed(controls, beneficiary.country);
    const now = deps.clock.nowMs();
    const fired = await evaluateRules(trx, controls, {
      mode: ctx.mode,
      amountMinor: input.amount,
      currency: input.currency,
      beneficiary,
      apiKeyId: ctx.operatorId === undefined ? ctx.apiKeyId : null,
      nowMs: now,
    });
    if (options.hold !== undefined)
      fired.push({
        rule: options.hold.rule,
        approvals: options.hold.approvalsRequired ?? 1,
        ...(options.hold.detail === undefined ? {} : { detail: options.hold.detail }),
      });
    const id = newId('po');
    await trx
      .insertInto('payouts')
      .values({
        id,
        mode: ctx.mode,
        reference: input.reference,
        amount_minor: input.amount,
        currency: input.currency,
        beneficiary_id: beneficiary.id,
        provider: prepared.provider,
        narration: input.narration ?? null,
        metadata_json: JSON.stringify(input.metadata ?? {}),
        status: 'pending',
        status_reason: 'queued',
        failure_code: null,
        failure_message: null,
        provider_transfer_id: null,
        fee_minor: null,
        created_by: auditActorOf(ctx).actorId,
        created_at: now,
        updated_at: now,
        // A safety net if the submit job were lost: the sweep looks again.
        next_check_at: now + 60_000,
        check_step: 0,
        version: 1,
        hold_json: null,
        hold_release_at: null,
        hold_expires_at: null,
      })
      .execute();
    const attempt = await insertAttempt(trx, deps.clock, {
      payoutId: id,
      attemptNo: 1,
      provider: prepared.provider,
      createdBy: auditActorOf(ctx).actorId,
    });
    await writeAudit(trx, deps.clock, {
      mode: ctx.mode,
      ...auditActorOf(ctx),
      action: 'payout.create',
      objectType: 'payout',
      objectId: id,
      requestId: ctx.requestId,
      ip: ctx.ip,
      details: {
        amount: input.amount,
        currency: input.currency,
        beneficiary: beneficiary.id,
        provider: prepared.provider,
        attemptId: attempt.id,
        reference: attempt.reference,
      },
    });
    if (fired.length > 0) {
      if (!(await deps.holds.hold(trx, id, fired))) throw new Error(`payout ${id} could not be held`);
      return id;
    }
    await queueSubmit(trx, deps.queue, attempt.id);
    return id;
  }

  async function create(
    ctx: RequestContext,
    input: CreatePayoutInput,
    options: CreateOptions = {},
  ): Promise<PayoutRow> {
    const prepared = await prepare(ctx.mode, input);
    let id: string;
    try {
      id = await deps.db.transaction().execute((trx) => insertPrepared(trx, ctx, prepared, options));
    } catch (error) {
      if (!deps.dialect.isUniqueViolation(error)) throw error;
      const holder = await deps.db
        .selectFrom('payouts')
        .select('id')
        .where('mode', '=', ctx.mode)
        .where('reference', '=', input.reference)
        .executeTakeFirst();
      throw new ApiError('payout_reference_used', {
        param: 'reference',
        message: `This reference already belongs to payout ${holder?.id ?? '(unknown)'}; references are never reused.`,
      });
    }
    deps.queue.notify();
    return mustGet(ctx.mode, id);
  }

  async function list(mode: Mode, filters: PayoutListFilters): Promise<{ data: PayoutRow[]; hasMore: boolean }> {
    let query = deps.db.selectFrom('payouts').selectAll().where('mode', '=', mode);
    if (filters.status !== undefined) query = query.where('status', '=', filters.status);
    if (filters.beneficiary !== undefined) query = query.where('beneficiary_id', '=', filters.beneficiary);
    if (filters.reference !== undefined) query = query.where('reference', '=', filters.reference);
    if (filters.provider !== undefined) query = query.where('provider', '=', filters.provider);
    if (filters.createdFrom !== undefined) query = query.where('created_at', '>=', filters.createdFrom);
    if (filters.createdBefore !== undefined) query = query.where('created_at', '<', filters.createdBefore);
    const cursor = filters.startingAfter === undefined ? undefined : await get(mode, filters.startingAfter);
    if (filters.startingAfter !== undefined && cursor === undefined)
      throw new ApiError('parameter_invalid', { param: 'starting_after', message: 'starting_after names no payout.' });
    return newestFirstPage(query, cursor, filters.limit);
  }

  /** Only while nothing was ever sent: the attempt is closed in the same transaction, guarded on
   * its send count, so a worker about to send (markSent) and a cancel cannot both win. An
   * operator's reason (the dashboard asks for one) goes into the transition's audit row. */
  async function cancel(ctx: RequestContext, id: string, note?: string): Promise<PayoutRow> {
    const payout = await mustGet(ctx.mode, id);
    const cancelled = await deps.db.transaction().execute(async (trx) => {
      const noted = note === undefined ? {} : { details: { note } };
      if (payout.status === 'on_hold') return deps.holds.cancelHeld(trx, id, actorOf(ctx), noted.details);
      if (payout.status !== 'pending') return false;
      const closed = await trx
        .updateTable('payout_attempts')
        .set({ state: 'cancelled', closed_at: deps.clock.nowMs() })
        .where('payout_id', '=', id)
        .where('closed_at', 'is', null)
        .where('sends', '=', 0)
        .executeTakeFirst();
      if (Number(closed.numUpdatedRows) !== 1) return false;
      const moved = await transitionPayout(trx, deps, {
        payoutId: id,
        to: 'cancelled',
        reason: 'cancelled_before_sending',
        actor: actorOf(ctx),
        ...noted,
        set: { next_check_at: null },
      });
      if (!moved.ok) throw new ApiError('payout_state_conflict');
      return true;
    });
    if (!cancelled)
      throw new ApiError('payout_state_conflict', {
        message: 'Only a payout that was never sent to the provider can be cancelled.',
      });
    return mustGet(ctx.mode, id);
  }

  /** Asks the provider now (a definite answer moves the payout; anything else changes nothing). */
  async function refresh(ctx: RequestContext, id: string): Promise<PayoutRow> {
    await mustGet(ctx.mode, id);
    await deps.engine.check(id, 'refresh');
    return mustGet(ctx.mode, id);
  }

  /**
   * A new attempt, with a NEW reference, after a definite failure: an explicit, audited decision
   * (dashboard, behind a fresh password). The partial unique index refuses a second open attempt.
   */
  async function newAttempt(ctx: RequestContext, id: string, note: string): Promise<PayoutRow> {
    const payout = await mustGet(ctx.mode, id);
    if (payout.status !== 'failed')
      throw new ApiError('payout_state_conflict', { message: 'A new attempt needs a definitely failed payout.' });
    const attemptId = await deps.db.transaction().execute(async (trx) => {
      const last = await trx
        .selectFrom('payout_attempts')
        .select(({ fn }) => fn.max('attempt_no').as('n'))
        .where('payout_id', '=', id)
        .executeTakeFirst();
      const attempt = await insertAttempt(trx, deps.clock, {
        payoutId: id,
        attemptNo: Number(last?.n ?? 0) + 1,
        provider: payout.provider,
        createdBy: auditActorOf(ctx).actorId,
      });
      const moved = await transitionPayout(trx, deps, {
        payoutId: id,
        to: 'pending',
        reason: 'new_attempt',
        actor: actorOf(ctx),
        details: { attemptId: attempt.id, reference: attempt.reference, note },
        set: { failure_code: null, failure_message: null, check_step: 0, next_check_at: deps.clock.nowMs() + 60_000 },
      });
      if (!moved.ok) throw new ApiError('payout_state_conflict');
      await queueSubmit(trx, deps.queue, attempt.id);
      return attempt.id;
    });
    deps.queue.notify();
    void attemptId;
    return mustGet(ctx.mode, id);
  }

  /** Paystack's OTP step. The code is passed through, never stored or logged. */
  async function finalize(ctx: RequestContext, id: string, otp: string, note?: string): Promise<PayoutRow> {
    const payout = await mustGet(ctx.mode, id);
    const attempt = await openAttempt(deps.db, id);
    const adapter = deps.providers.payouts(ctx.mode, payout.provider);
    if (payout.status !== 'requires_action' || attempt?.provider_transfer_id == null || adapter === undefined)
      throw new ApiError('payout_state_conflict', { message: 'This payout is not waiting for a code.' });
    if (adapter.finalizeTransfer === undefined)
      throw new ApiError('payout_state_conflict', { message: `${adapter.name} has no confirmation step.` });
    const started = performance.now();
    const outcome = await adapter.finalizeTransfer({
      reference: attempt.reference,
      providerTransferId: attempt.provider_transfer_id,
      otp,
    });
    await recordCheck(deps.db, deps.clock, {
      payoutId: id,
      attemptId: attempt.id,
      kind: 'finalize',
      outcome: outcome.kind,
      detail: outcome.kind === 'ok' ? { status: outcome.value.status } : { reason: outcome.reason.slice(0, 300) },
      latencyMs: Math.round(performance.now() - started),
    });
    await writeAudit(deps.db, deps.clock, {
      mode: ctx.mode,
      ...auditActorOf(ctx),
      action: 'payout.finalize',
      objectType: 'payout',
      objectId: id,
      requestId: ctx.requestId,
      ip: ctx.ip,
      result: outcome.kind === 'ok' ? 'success' : 'failure',
      details: { attemptId: attempt.id, outcome: outcome.kind, ...(note === undefined ? {} : { note }) },
    });
    if (outcome.kind === 'rejected') throw new ApiError('otp_rejected');
    // Whatever finalize answered, the status query decides.
    await deps.engine.check(id, 'finalize');
    return mustGet(ctx.mode, id);
  }

  /** A person settles a payout in review, with a reason (LOG-1). */
  async function resolveReview(ctx: RequestContext, id: string, to: ReviewOutcome, note: string): Promise<PayoutRow> {
    const payout = await mustGet(ctx.mode, id);
    if (payout.status !== 'requires_review') throw new ApiError('payout_state_conflict');
    await deps.db.transaction().execute(async (trx) => {
      const moved = await transitionPayout(trx, deps, {
        payoutId: id,
        to,
        reason: 'resolved_by_operator',
        actor: actorOf(ctx),
        details: { note },
        set: { next_check_at: null },
      });
      if (!moved.ok) throw new ApiError('payout_state_conflict');
      await trx
        .updateTable('payout_attempts')
        .set({ state: to === 'failed' ? 'failed' : 'succeeded', closed_at: deps.clock.nowMs() })
        .where('payout_id', '=', id)
        .where('closed_at', 'is', null)
        .execute();
    });
    deps.queue.notify();
    return mustGet(ctx.mode, id);
  }

  async function timeline(mode: Mode, id: string) {
    await mustGet(mode, id);
    const attempts = await deps.db
      .selectFrom('payout_attempts')
      .selectAll()
      .where('payout_id', '=', id)
      .orderBy('attempt_no')
      .execute();
    const checks = await deps.db
      .selectFrom('payout_checks')
      .selectAll()
      .where('payout_id', '=', id)
      .orderBy('at')
      .orderBy('id')
      .execute();
    return { attempts, checks };
  }

  return { prepare, insertPrepared, create, get, list, cancel, refresh, newAttempt, finalize, resolveReview, timeline };
}

export type PayoutService = ReturnType<typeof createPayoutService>;
