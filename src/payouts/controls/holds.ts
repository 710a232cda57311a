// Holds and approvals (PAY-5, maker-checker). A payout that a rule holds goes pending -> on_hold in
// the transaction that creates it, before any submit job exists, so nothing can be sent while it
// waits. It leaves on_hold only through this module, each move through the state machine with its
// event and audit row:
//   released  (-> pending, the submit job queued in the same transaction: the engine then sends it
//              exactly as any other payout) once its approvals are given and its cool-down is over;
//   rejected  (one approver says no), expired (nobody approved before `hold_expires_at`), or
//              cancelled by the merchant: it ends, the attempt closed unsent, no provider call.
//
// Entry points for other features (the bulk-file work: "a file always needs approval"):
//   - Creation option, the usual way: `payouts.prepare(mode, input)` validates a row without writing;
//     `payouts.insertPrepared(trx, ctx, prepared, { hold: { rule: 'batch', detail: { batch: id } } })`
//     writes it in your transaction and holds it for (at least) one approval whatever its amount,
//     together with whatever the configured rules add. Call `queue.notify()` after your commit.
//     `payouts.create(ctx, input, { hold })` does both in a transaction of its own.
//   - `holdForApproval(trx, payoutId, { rule, detail?, approvalsRequired? })` on this service: holds a
//     payout that is still pending and never sent (or adds the rule to its hold). Approval
//     requirements only grow: the largest `approvalsRequired` of all its rules wins.
// Approving (`decide`) needs an operator (API keys never approve); the maker cannot: the operator
// who created the payout, or, for a payout made with an API key, that key and the operator who
// created the key. An approver decides once: the unique (payout, operator) row counts a double
// click once, and the payout row is locked (PostgreSQL) while approvals are counted, so two
// approvers at the same moment both count and the payout is released once.
import { writeAudit } from '../../audit/audit.ts';
import type { Clock } from '../../clock.ts';
import type { DialectStrategy } from '../../db/dialect.ts';
import type { Db, Mode, PayoutRow, Tx } from '../../db/schema.ts';
import { newId } from '../../ids.ts';
import { can } from '../../operators/permissions.ts';
import { operatorDb } from '../../operators/schema.ts';
import type { JobQueue } from '../../jobs/queue.ts';
import type { Logger } from '../../log.ts';
import { queueSubmit } from '../engine.ts';
import { transitionPayout } from '../transition.ts';
import type { ControlSettings } from './settings.ts';
import { type FiredRule, type HoldRecord, type HoldRule, holdOf } from './hold-record.ts';

export { HOLD_RULES, holdOf, type FiredRule, type HoldRecord, type HoldRule } from './hold-record.ts';

export type DecideOutcome =
  | { ok: true; outcome: 'approved' | 'released' | 'rejected' | 'already_decided'; payout: PayoutRow }
  | { ok: false; reason: 'not_found' | 'not_on_hold' | 'maker_cannot_approve' | 'operator_required' | 'not_permitted' };

export interface HoldServiceDeps {
  readonly db: Db;
  readonly dialect: DialectStrategy;
  readonly queue: JobQueue;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly settings: ControlSettings;
  /** Told of every payout held, with its rules (the metrics and the alert-level log). */
  readonly onHeld?: (payout: PayoutRow, rules: readonly FiredRule[]) => void;
}

const SYSTEM = { type: 'system' as const, id: null };
const satisfied = (hold: HoldRecord, now: number) =>
  hold.approvals.length >= hold.approvals_required && (hold.release_at === null || hold.release_at <= now);

export function createHoldService(deps: HoldServiceDeps) {
  const log = deps.logger.child({ component: 'payout-controls' });

  function merge(existing: HoldRecord | null, rules: readonly FiredRule[], now: number, expiresAt: number): HoldRecord {
    const base: HoldRecord = existing ?? {
      rules: [],
      approvals_required: 0,
      approvals: [],
      held_at: now,
      release_at: null,
      expires_at: expiresAt,
      resolution: null,
    };
    const all = [
      ...base.rules,
      ...rules.map((r) => ({ rule: r.rule, approvals: r.approvals, detail: r.detail ?? {} })),
    ];
    const releases = [base.release_at, ...rules.map((r) => r.releaseAt ?? null)].filter((t): t is number => t !== null);
    return {
      ...base,
      rules: all,
      approvals_required: Math.max(base.approvals_required, ...rules.map((r) => r.approvals)),
      release_at: releases.length === 0 ? null : Math.max(...releases),
    };
  }

  /**
   * Holds a pending, never-sent payout for these rules (in the caller's transaction), or adds them
   * to its hold. Returns false when the payout is neither (it was already sent or has ended).
   */
  async function hold(trx: Tx, payoutId: string, rules: readonly FiredRule[]): Promise<boolean> {
    if (rules.length === 0) return true;
    const payout = await deps.dialect
      .lockForUpdate(trx.selectFrom('payouts').selectAll().where('id', '=', payoutId))
      .executeTakeFirst();
    if (payout === undefined) return false;
    const now = deps.clock.nowMs();
    if (payout.status === 'on_hold') {
      const merged = merge(holdOf(payout), rules, now, payout.hold_expires_at ?? now);
      await writeHold(trx, payout, merged);
      deps.onHeld?.(payout, rules);
      return true;
    }
    if (payout.status !== 'pending') return false;
    const sent = await trx
      .selectFrom('payout_attempts')
      .select('id')
      .where('payout_id', '=', payoutId)
      .where('sends', '>', 0)
      .executeTakeFirst();
    if (sent !== undefined) return false;
    const { controls } = await deps.settings.get(payout.mode, trx);
    const record = merge(null, rules, now, now + controls.expirySeconds * 1000);
    const moved = await transitionPayout(trx, deps, {
      payoutId,
      to: 'on_hold',
      reason: record.approvals_required > 0 ? 'awaiting_approval' : 'cool_down',
      actor: SYSTEM,
      details: { rules: record.rules.map((r) => r.rule), approvalsRequired: record.approvals_required },
      set: {
        hold_json: JSON.stringify(record),
        hold_release_at: record.release_at,
        hold_expires_at: record.expires_at,
        next_check_at: null,
      },
    });
    if (!moved.ok) return false;
    deps.onHeld?.(moved.row, rules);
    return true;
  }

  /** The public entry point for one rule (the bulk-file work's 'batch'). */
  function holdForApproval(
    trx: Tx,
    payoutId: string,
    input: { rule: HoldRule; detail?: FiredRule['detail']; approvalsRequired?: number },
  ): Promise<boolean> {
    return hold(trx, payoutId, [
      {
        rule: input.rule,
        approvals: input.approvalsRequired ?? 1,
        ...(input.detail === undefined ? {} : { detail: input.detail }),
      },
    ]);
  }

  async function writeHold(trx: Tx, payout: PayoutRow, record: HoldRecord): Promise<void> {
    await trx
      .updateTable('payouts')
      .set({
        hold_json: JSON.stringify(record),
        hold_release_at:
          record.release_at !== null && record.release_at > deps.clock.nowMs() ? record.release_at : null,
        version: payout.version + 1,
        updated_at: deps.clock.nowMs(),
      })
      .where('id', '=', payout.id)
      .where('version', '=', payout.version)
      .execute();
  }

  /** on_hold -> pending, and the submit job for its open attempt, in the caller's transaction. */
  async function release(trx: Tx, payout: PayoutRow, record: HoldRecord, by: string | null): Promise<boolean> {
    const now = deps.clock.nowMs();
    const attempt = await trx
      .selectFrom('payout_attempts')
      .select('id')
      .where('payout_id', '=', payout.id)
      .where('closed_at', 'is', null)
      .executeTakeFirst();
    const done: HoldRecord = { ...record, resolution: { outcome: 'released', at: now, by } };
    const moved = await transitionPayout(trx, deps, {
      payoutId: payout.id,
      to: 'pending',
      reason: 'released',
      actor: by === null ? SYSTEM : { type: 'operator', id: by },
      details: { approvals: record.approvals.map((a) => a.operator) },
      set: {
        hold_json: JSON.stringify(done),
        hold_release_at: null,
        hold_expires_at: null,
        // A safety net if the submit job were lost: the sweep looks again.
        next_check_at: now + 60_000,
        check_step: 0,
      },
    });
    if (!moved.ok) return false;
    if (attempt !== undefined) await queueSubmit(trx, deps.queue, attempt.id);
    return true;
  }

  /** on_hold -> rejected | expired | cancelled: the attempt closed unsent, no provider call. */
  async function end(
    trx: Tx,
    payout: PayoutRow,
    record: HoldRecord,
    to: 'rejected' | 'expired' | 'cancelled',
    actor: { type: 'system' | 'operator' | 'api_key'; id: string | null },
    details: Record<string, unknown>,
  ): Promise<boolean> {
    const now = deps.clock.nowMs();
    await trx
      .updateTable('payout_attempts')
      .set({ state: 'cancelled', closed_at: now })
      .where('payout_id', '=', payout.id)
      .where('closed_at', 'is', null)
      .where('sends', '=', 0)
      .execute();
    const outcome = to;
    const moved = await transitionPayout(trx, deps, {
      payoutId: payout.id,
      to,
      reason: to === 'rejected' ? 'rejected_by_approver' : to === 'expired' ? 'approval_expired' : 'cancelled_on_hold',
      actor,
      details,
      set: {
        hold_json: JSON.stringify({ ...record, resolution: { outcome, at: now, by: actor.id } }),
        hold_release_at: null,
        hold_expires_at: null,
        next_check_at: null,
      },
    });
    return moved.ok;
  }

  /** Is this operator the payout's maker (directly, or as the creator of the API key that made it)? */
  async function isMaker(trx: Tx, payout: PayoutRow, operatorId: string): Promise<boolean> {
    if (payout.created_by === null) return false;
    if (payout.created_by === operatorId) return true;
    const keyCreation = await trx
      .selectFrom('audit_log')
      .select('actor_id')
      .where('action', '=', 'api_key.create')
      .where('object_id', '=', payout.created_by)
      .where('actor_type', '=', 'operator')
      .executeTakeFirst();
    return keyCreation?.actor_id === operatorId;
  }

  /**
   * An approver's decision, with a reason (audited). `approverKeyId` is set when the caller is an
   * API key: refused, as approving is for people.
   */
  async function decide(
    ctx: { mode: Mode; operatorId?: string; apiKeyId?: string; requestId?: string; ip?: string },
    payoutId: string,
    decision: 'approve' | 'reject',
    reason: string,
  ): Promise<DecideOutcome> {
    const operatorId = ctx.operatorId;
    const result = await deps.db.transaction().execute(async (trx): Promise<DecideOutcome> => {
      const payout = await deps.dialect
        .lockForUpdate(trx.selectFrom('payouts').selectAll().where('id', '=', payoutId).where('mode', '=', ctx.mode))
        .executeTakeFirst();
      if (payout === undefined) return { ok: false, reason: 'not_found' };
      const refuse = async (
        why: 'maker_cannot_approve' | 'operator_required' | 'not_permitted',
      ): Promise<DecideOutcome> => {
        await writeAudit(trx, deps.clock, {
          mode: ctx.mode,
          actorType: operatorId === undefined ? 'api_key' : 'operator',
          actorId: operatorId ?? ctx.apiKeyId ?? null,
          action: `payout.${decision}`,
          objectType: 'payout',
          objectId: payoutId,
          result: 'denied',
          requestId: ctx.requestId ?? null,
          ip: ctx.ip ?? null,
          details: { refused: why },
        });
        return { ok: false, reason: why };
      };
      if (operatorId === undefined || operatorId === '') return refuse('operator_required');
      // The dashboard checks the role too; the service does not trust that it did.
      const approver = await operatorDb(trx)
        .selectFrom('operators')
        .select(['role', 'disabled_at'])
        .where('id', '=', operatorId)
        .executeTakeFirst();
      if (approver === undefined || approver.disabled_at !== null || !can(approver.role, 'approve_payouts'))
        return refuse('not_permitted');
      if (payout.status !== 'on_hold') return { ok: false, reason: 'not_on_hold' };
      if (await isMaker(trx, payout, operatorId)) return refuse('maker_cannot_approve');
      const now = deps.clock.nowMs();
      const inserted = await trx
        .insertInto('payout_decisions')
        .values({ id: newId('pod'), payout_id: payoutId, operator_id: operatorId, decision, reason, created_at: now })
        .onConflict((oc) => oc.columns(['payout_id', 'operator_id']).doNothing())
        .returning('id')
        .executeTakeFirst();
      if (inserted === undefined) return { ok: true, outcome: 'already_decided', payout };
      await writeAudit(trx, deps.clock, {
        mode: ctx.mode,
        actorType: 'operator',
        actorId: operatorId,
        action: `payout.${decision}`,
        objectType: 'payout',
        objectId: payoutId,
        requestId: ctx.requestId ?? null,
        ip: ctx.ip ?? null,
        details: { reason },
      });
      const record = holdOf(payout);
      if (record === null) throw new Error(`payout ${payoutId} is on hold without a hold record`);
      if (decision === 'reject') {
        await end(trx, payout, record, 'rejected', { type: 'operator', id: operatorId }, { reason });
        return { ok: true, outcome: 'rejected', payout };
      }
      const approved: HoldRecord = { ...record, approvals: [...record.approvals, { operator: operatorId, at: now }] };
      if (satisfied(approved, now) && (await release(trx, payout, approved, operatorId)))
        return { ok: true, outcome: 'released', payout };
      await writeHold(trx, payout, approved);
      return { ok: true, outcome: 'approved', payout };
    });
    deps.queue.notify();
    if (!result.ok) return result;
    const fresh = await deps.db.selectFrom('payouts').selectAll().where('id', '=', payoutId).executeTakeFirstOrThrow();
    return { ...result, payout: fresh };
  }

  /** The merchant cancels a held payout (POST /v1/payouts/:id/cancel). */
  async function cancelHeld(
    trx: Tx,
    payoutId: string,
    actor: { type: 'operator' | 'api_key'; id: string },
    details: Record<string, unknown> = {},
  ): Promise<boolean> {
    const payout = await deps.dialect
      .lockForUpdate(trx.selectFrom('payouts').selectAll().where('id', '=', payoutId))
      .executeTakeFirst();
    const record = payout === undefined ? null : holdOf(payout);
    if (payout === undefined || payout.status !== 'on_hold' || record === null) return false;
    return end(trx, payout, record, 'cancelled', actor, details);
  }

  /**
   * The hold sweep (a schedule, once per cluster): releases payouts whose cool-down is over and
   * whose approvals are given, and expires those nobody approved in time. Returns what it did.
   */
  async function sweep(limit = 100): Promise<{ released: number; expired: number }> {
    const now = deps.clock.nowMs();
    const due = await deps.db
      .selectFrom('payouts')
      .select('id')
      .where('status', '=', 'on_hold')
      .where((eb) => eb.or([eb('hold_release_at', '<=', now), eb('hold_expires_at', '<=', now)]))
      .limit(limit)
      .execute();
    let released = 0;
    let expired = 0;
    for (const { id } of due) {
      await deps.db.transaction().execute(async (trx) => {
        const payout = await deps.dialect
          .lockForUpdate(trx.selectFrom('payouts').selectAll().where('id', '=', id))
          .executeTakeFirst();
        const record = payout === undefined ? null : holdOf(payout);
        if (payout === undefined || payout.status !== 'on_hold' || record === null) return;
        if (satisfied(record, now)) {
          if (await release(trx, payout, record, null)) released += 1;
        } else if ((payout.hold_expires_at ?? Number.POSITIVE_INFINITY) <= now) {
          if (await end(trx, payout, record, 'expired', SYSTEM, { approvals: record.approvals.length })) {
            expired += 1;
            log.warn({ payoutId: id, rules: record.rules.map((r) => r.rule) }, 'held payout expired unapproved');
          }
        } else {
          // The cool-down is over but approvals are missing: nothing to do until an approver acts.
          await trx.updateTable('payouts').set({ hold_release_at: null }).where('id', '=', id).execute();
        }
      });
    }
    if (released > 0) deps.queue.notify();
    return { released, expired };
  }

  /** What waits (the dashboard queue), oldest first. */
  function waiting(mode: Mode, limit = 200) {
    return deps.db
      .selectFrom('payouts')
      .selectAll()
      .where('mode', '=', mode)
      .where('status', '=', 'on_hold')
      .orderBy('created_at')
      .orderBy('id')
      .limit(limit)
      .execute();
  }

  /** How many held payouts still need an approval (the overview). */
  async function waitingForApproval(mode: Mode): Promise<number> {
    const rows = await deps.db
      .selectFrom('payouts')
      .select('hold_json')
      .where('mode', '=', mode)
      .where('status', '=', 'on_hold')
      .execute();
    return rows.filter((row) => {
      const hold = holdOf(row);
      return hold !== null && hold.approvals.length < hold.approvals_required;
    }).length;
  }

  return { hold, holdForApproval, decide, cancelHeld, sweep, waiting, waitingForApproval };
}

export type HoldService = ReturnType<typeof createHoldService>;
