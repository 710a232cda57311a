// Payout files (OPS-10): an upload is checked whole (parse-file.ts, batch-validation.ts) and kept
// as a batch with every row's result, for the preview; nothing is paid at upload. The file's
// SHA-256 names the batch: the same bytes in the same mode are always the same batch (a unique
// index decides concurrent uploads), and uploading them again only checks a batch that was not
// yet submitted once more.
//
// Tables (migration 0015-payout-batches, shapes in tables.ts):
//   payout_batches(id, mode, sha256 UNIQUE per mode, filename, status, row_count, error_count,
//                  created_by(_type), submitted_by(_type), submitted_at, version)
//   payout_batch_rows(batch_id, row_no, line, amount, currency, beneficiary, reference, narration
//                     as in the file, amount_minor, errors_json, payout_id)
import { createHash } from 'node:crypto';
import { auditActorOf, writeAudit } from '../audit/audit.ts';
import type { Clock } from '../clock.ts';
import type { DialectStrategy } from '../db/dialect.ts';
import type { Db, Mode, Tx } from '../db/schema.ts';
import { newId } from '../ids.ts';
import type { JobQueue } from '../jobs/queue.ts';
import type { RequestContext } from '../payments/payment-service.ts';
import type { DecideOutcome, HoldService } from '../payouts/controls/holds.ts';
import type { PayoutService, PreparedPayout } from '../payouts/payout-service.ts';
import { validateRows, type CheckedRow } from './batch-validation.ts';
import { transitionBatch } from './batch-state.ts';
import type { FileProblem } from './file-check.ts';
import { parsePayoutFile, type FileLimits } from './parse-file.ts';
import { COLUMNS, type RowError } from './row-checks.ts';
import type { PayoutBatchesTable, PayoutBatchRowsTable } from './tables.ts';

export type PayoutBatchRow = PayoutBatchesTable;

/** A row of the batch as shown: the stored row, its errors read, and its payout's status once made. */
export interface BatchRowView extends Omit<PayoutBatchRowsTable, 'errors_json'> {
  readonly errors: readonly RowError[];
  readonly payout_status: string | null;
}

export interface UploadedFile {
  readonly bytes: Uint8Array;
  /** As the client named it; informational only (nothing is decided by it). */
  readonly filename?: string;
}

export type UploadOutcome =
  | { readonly kind: 'refused'; readonly problem: FileProblem; readonly sha256: string }
  | { readonly kind: 'batch'; readonly batch: PayoutBatchRow; readonly created: boolean };

export type SubmitOutcome = {
  readonly kind: 'submitted' | 'already_submitted' | 'invalid' | 'not_ready' | 'not_maker';
  readonly batch: PayoutBatchRow;
};

/** What happened to each held payout of a file when an approver decided on the whole file. */
export type FileDecision =
  | { readonly ok: true; readonly outcomes: Readonly<Record<string, number>> }
  | { readonly ok: false; readonly reason: Exclude<DecideOutcome, { ok: true }>['reason'] | 'nothing_on_hold' };

export interface PayoutBatchServiceDeps {
  readonly db: Db;
  readonly dialect: DialectStrategy;
  readonly clock: Clock;
  readonly queue: JobQueue;
  readonly payouts: PayoutService;
  readonly holds: Pick<HoldService, 'decide'>;
  readonly limits: FileLimits;
}

/** Another transaction moved the batch first; its outcome stands. */
class BatchMoved extends Error {}

const ROW_INSERT_CHUNK = 100;
const FILENAME_UNSAFE = /[^\p{L}\p{N} ._()-]/gu;

export const actorOf = (ctx: RequestContext) => {
  const a = auditActorOf(ctx);
  return { type: a.actorType === 'operator' ? ('operator' as const) : ('api_key' as const), id: a.actorId };
};

/** Shown, never trusted: letters, digits and a few marks, at most 100 characters. */
export function cleanFilename(name: string | undefined): string | null {
  const cleaned = (name ?? '').replace(FILENAME_UNSAFE, '_').slice(0, 100);
  return cleaned === '' ? null : cleaned;
}

export function createPayoutBatchService(deps: PayoutBatchServiceDeps) {
  const get = (mode: Mode, id: string): Promise<PayoutBatchRow | undefined> =>
    deps.db.selectFrom('payout_batches').selectAll().where('id', '=', id).where('mode', '=', mode).executeTakeFirst();

  const bySha = (mode: Mode, sha256: string): Promise<PayoutBatchRow | undefined> =>
    deps.db
      .selectFrom('payout_batches')
      .selectAll()
      .where('mode', '=', mode)
      .where('sha256', '=', sha256)
      .executeTakeFirst();

  async function mustGet(mode: Mode, id: string): Promise<PayoutBatchRow> {
    const batch = await get(mode, id);
    if (batch === undefined) throw new Error(`payout batch ${id} vanished`);
    return batch;
  }

  async function writeRows(
    trx: Tx,
    batchId: string,
    rows: readonly CheckedRow[],
    payoutIds: readonly string[] = [],
  ): Promise<void> {
    await trx.deleteFrom('payout_batch_rows').where('batch_id', '=', batchId).execute();
    for (let i = 0; i < rows.length; i += ROW_INSERT_CHUNK)
      await trx
        .insertInto('payout_batch_rows')
        .values(
          rows.slice(i, i + ROW_INSERT_CHUNK).map((r, j) => ({
            batch_id: batchId,
            row_no: r.rowNo,
            line: r.line,
            ...r.values,
            amount_minor: r.amountMinor,
            errors_json: JSON.stringify(r.errors),
            payout_id: payoutIds[i + j] ?? null,
          })),
        )
        .execute();
  }

  /** The same file again, not yet submitted: its rows are checked once more against today's data. */
  async function recheck(ctx: RequestContext, batch: PayoutBatchRow, rows: readonly CheckedRow[]): Promise<void> {
    const errorCount = rows.filter((r) => r.errors.length > 0).length;
    const status = errorCount === 0 ? 'ready' : 'invalid';
    await deps.db.transaction().execute(async (trx) => {
      const updated = await trx
        .updateTable('payout_batches')
        .set({
          row_count: rows.length,
          error_count: errorCount,
          updated_at: deps.clock.nowMs(),
          version: batch.version + 1,
        })
        .where('id', '=', batch.id)
        .where('version', '=', batch.version)
        .where('status', '!=', 'submitted')
        .executeTakeFirst();
      // Submitted (or checked) meanwhile by someone else: their outcome stands.
      if (Number(updated.numUpdatedRows) !== 1) return;
      await writeRows(trx, batch.id, rows);
      if (status !== batch.status)
        await transitionBatch(trx, deps, {
          batchId: batch.id,
          to: status,
          reason: 'checked_again',
          actor: actorOf(ctx),
          details: { errorCount },
        });
    });
  }

  async function upload(ctx: RequestContext, file: UploadedFile): Promise<UploadOutcome> {
    const sha256 = createHash('sha256').update(file.bytes).digest('hex');
    const existing = await bySha(ctx.mode, sha256);
    if (existing?.status === 'submitted') return { kind: 'batch', batch: existing, created: false };
    const parsed = parsePayoutFile(file.bytes, deps.limits);
    if (!parsed.ok) {
      await writeAudit(deps.db, deps.clock, {
        mode: ctx.mode,
        ...auditActorOf(ctx),
        action: 'payout_batch.upload',
        objectType: 'payout_file',
        objectId: sha256,
        requestId: ctx.requestId,
        ip: ctx.ip,
        result: 'failure',
        details: { code: parsed.problem.code, bytes: file.bytes.length },
      });
      return { kind: 'refused', problem: parsed.problem, sha256 };
    }
    const rows = await validateRows(deps, ctx, parsed.rows);
    if (existing !== undefined) {
      await recheck(ctx, existing, rows);
      return { kind: 'batch', batch: await mustGet(ctx.mode, existing.id), created: false };
    }
    const errorCount = rows.filter((r) => r.errors.length > 0).length;
    const id = newId('pob');
    const now = deps.clock.nowMs();
    const actor = actorOf(ctx);
    try {
      await deps.db.transaction().execute(async (trx) => {
        await trx
          .insertInto('payout_batches')
          .values({
            id,
            mode: ctx.mode,
            sha256,
            filename: cleanFilename(file.filename),
            status: errorCount === 0 ? 'ready' : 'invalid',
            status_reason: 'uploaded',
            row_count: rows.length,
            error_count: errorCount,
            created_by_type: actor.type,
            created_by: actor.id,
            created_at: now,
            submitted_by_type: null,
            submitted_by: null,
            submitted_at: null,
            updated_at: now,
            version: 1,
          })
          .execute();
        await writeRows(trx, id, rows);
        await writeAudit(trx, deps.clock, {
          mode: ctx.mode,
          ...auditActorOf(ctx),
          action: 'payout_batch.upload',
          objectType: 'payout_batch',
          objectId: id,
          requestId: ctx.requestId,
          ip: ctx.ip,
          details: { sha256, rows: rows.length, errorCount, bytes: file.bytes.length },
        });
      });
    } catch (error) {
      if (!deps.dialect.isUniqueViolation(error)) throw error;
      const winner = await bySha(ctx.mode, sha256);
      if (winner === undefined) throw error;
      return { kind: 'batch', batch: winner, created: false };
    }
    return { kind: 'batch', batch: await mustGet(ctx.mode, id), created: true };
  }

  /**
   * The maker submits a ready file: every row checked once more against today's data (a reference
   * used or a beneficiary deleted since the preview makes the file invalid, nothing created), then
   * in ONE transaction the batch moves to submitted and each row becomes a payout through the
   * payout service (its attempt, audit row and the rules), held for approval by the rule `batch`
   * whatever its amount. Only the actor who uploaded the file submits it, so the file has one maker,
   * whom the approval mechanism refuses as an approver.
   */
  async function submit(ctx: RequestContext, batch: PayoutBatchRow): Promise<SubmitOutcome> {
    if (batch.status === 'submitted') return { kind: 'already_submitted', batch };
    const actor = actorOf(ctx);
    if (batch.created_by_type !== actor.type || batch.created_by !== actor.id) return { kind: 'not_maker', batch };
    const stored = await rowsOf(batch.id);
    const rows = await validateRows(
      deps,
      ctx,
      stored.map((r) => ({ rowNo: r.row_no, line: r.line, cells: COLUMNS.map((c) => r[c]) })),
    );
    if (rows.some((r) => r.errors.length > 0) || batch.status !== 'ready') {
      await recheck(ctx, batch, rows);
      const now = await mustGet(ctx.mode, batch.id);
      return { kind: now.status === 'invalid' ? 'invalid' : 'not_ready', batch: now };
    }
    const prepared = await prepareRows(ctx, rows);
    const now = deps.clock.nowMs();
    try {
      await deps.db.transaction().execute(async (trx) => {
        const moved = await transitionBatch(trx, deps, {
          batchId: batch.id,
          to: 'submitted',
          reason: 'submitted',
          actor,
          details: { rows: rows.length },
          set: { submitted_by_type: actor.type, submitted_by: actor.id, submitted_at: now },
        });
        if (!moved.ok) throw new BatchMoved();
        const payoutIds: string[] = [];
        for (const [i, row] of rows.entries())
          payoutIds.push(
            await deps.payouts.insertPrepared(trx, ctx, prepared[i]!, {
              hold: { rule: 'batch', detail: { batch: batch.id, line: row.line } },
            }),
          );
        // The rows again with their payouts: a few multi-row inserts rather than one update per row.
        await writeRows(trx, batch.id, rows, payoutIds);
      });
    } catch (error) {
      if (error instanceof BatchMoved) {
        const current = await mustGet(ctx.mode, batch.id);
        return { kind: current.status === 'submitted' ? 'already_submitted' : 'not_ready', batch: current };
      }
      // A reference taken between the check and the commit: nothing was created; the rows say why.
      if (!deps.dialect.isUniqueViolation(error)) throw error;
      await recheck(
        ctx,
        batch,
        await validateRows(
          deps,
          ctx,
          rows.map((r) => ({ ...r, cells: COLUMNS.map((c) => r.values[c]) })),
        ),
      );
      return { kind: 'invalid', batch: await mustGet(ctx.mode, batch.id) };
    }
    deps.queue.notify();
    return { kind: 'submitted', batch: await mustGet(ctx.mode, batch.id) };
  }

  /** Each row as POST /v1/payouts prepares it; the checks are per beneficiary and currency. */
  async function prepareRows(ctx: RequestContext, rows: readonly CheckedRow[]): Promise<PreparedPayout[]> {
    const byPayee = new Map<string, PreparedPayout>();
    const out: PreparedPayout[] = [];
    for (const row of rows) {
      const input = {
        amount: row.amountMinor ?? 0,
        currency: row.values.currency,
        beneficiary: row.values.beneficiary,
        reference: row.values.reference,
        ...(row.values.narration === '' ? {} : { narration: row.values.narration }),
      };
      const key = `${input.beneficiary}|${input.currency}`;
      const checked = byPayee.get(key) ?? (await deps.payouts.prepare(ctx.mode, input));
      byPayee.set(key, checked);
      out.push({ ...checked, input });
    }
    return out;
  }

  /**
   * An approver decides on every held payout of a submitted file at once, each through the
   * approval mechanism (holds.decide: the maker refused, one decision per approver, audited).
   */
  async function decideAll(
    ctx: RequestContext,
    batch: PayoutBatchRow,
    decision: 'approve' | 'reject',
    reason: string,
  ): Promise<FileDecision> {
    const held = (await rowsOf(batch.id)).filter((r) => r.payout_id !== null && r.payout_status === 'on_hold');
    if (held.length === 0) return { ok: false, reason: 'nothing_on_hold' };
    const outcomes: Record<string, number> = {};
    for (const row of held) {
      const decided = await deps.holds.decide(ctx, row.payout_id!, decision, reason);
      // The same approver, the same file: a refusal for one payout is a refusal for all.
      if (!decided.ok) {
        if (decided.reason === 'not_on_hold') continue;
        return decided;
      }
      outcomes[decided.outcome] = (outcomes[decided.outcome] ?? 0) + 1;
    }
    return { ok: true, outcomes };
  }

  async function rowsOf(batchId: string): Promise<BatchRowView[]> {
    const rows = await deps.db
      .selectFrom('payout_batch_rows as r')
      .leftJoin('payouts as p', 'p.id', 'r.payout_id')
      .selectAll('r')
      .select('p.status as payout_status')
      .where('r.batch_id', '=', batchId)
      .orderBy('r.row_no')
      .execute();
    return rows.map(({ errors_json, ...row }) => ({ ...row, errors: JSON.parse(errors_json) as RowError[] }));
  }

  function list(mode: Mode, limit: number): Promise<PayoutBatchRow[]> {
    return deps.db
      .selectFrom('payout_batches')
      .selectAll()
      .where('mode', '=', mode)
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .limit(limit)
      .execute();
  }

  return { upload, submit, decideAll, get, rowsOf, list, limits: deps.limits };
}

export type PayoutBatchService = ReturnType<typeof createPayoutBatchService>;
