// A payout file as the merchant API answers with it (POST and GET /v1/payout_batches): the batch
// and every row with its result. Values are returned as the file had them: the API is read by
// programs, not spreadsheets (the dashboard and its CSV exports neutralise formulas).
import { type TSchema, Type } from 'typebox';
import type { BatchRowView, PayoutBatchRow } from './batch-service.ts';
import { totalsOf } from './totals.ts';

const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

export const PayoutBatchObjectSchema = Type.Object(
  {
    id: Type.String({ description: 'pob_...' }),
    object: Type.Literal('payout_batch'),
    status: Type.Union([Type.Literal('invalid'), Type.Literal('ready'), Type.Literal('submitted')], {
      description:
        'invalid: some row failed its checks and nothing was created; ready: every row passed, not yet submitted (a dashboard upload waiting for its maker); submitted: its payouts exist, each held for approval (hold rule `batch`).',
    }),
    sha256: Type.String({ description: 'SHA-256 of the file (hex): one batch per file per mode.' }),
    filename: Nullable(Type.String()),
    row_count: Type.Integer(),
    error_count: Type.Integer({ description: 'Rows with at least one error.' }),
    totals: Type.Array(
      Type.Object({
        currency: Type.String(),
        amount: Type.Integer({ description: 'Minor units: the sum of the valid amounts in this currency.' }),
        count: Type.Integer(),
      }),
    ),
    rows: Type.Array(
      Type.Object({
        row: Type.Integer({ description: '1-based, after the header row.' }),
        line: Type.Integer({ description: 'The line of the file the row starts on (the header is line 1).' }),
        amount: Nullable(Type.Integer({ description: 'Minor units, when the amount is valid.' })),
        amount_text: Type.String({ description: 'The amount as written in the file.' }),
        currency: Type.String(),
        beneficiary: Type.String(),
        reference: Type.String(),
        narration: Nullable(Type.String()),
        errors: Type.Array(
          Type.Object({
            field: Type.String({ description: 'amount, currency, beneficiary, reference, narration, or row.' }),
            code: Type.String({ description: 'Stable: see "Bulk payouts from a file" in the README.' }),
            message: Type.String(),
          }),
        ),
        payout: Nullable(Type.String({ description: 'po_..., once submitted.' })),
        payout_status: Nullable(Type.String()),
      }),
    ),
    livemode: Type.Boolean(),
    created_at: Type.String({ format: 'date-time' }),
    submitted_at: Nullable(Type.String({ format: 'date-time' })),
  },
  { description: 'A file of payouts, checked row by row before anything is created.' },
);

export function toPayoutBatchObject(batch: PayoutBatchRow, rows: readonly BatchRowView[]) {
  return {
    id: batch.id,
    object: 'payout_batch' as const,
    status: batch.status,
    sha256: batch.sha256,
    filename: batch.filename,
    row_count: batch.row_count,
    error_count: batch.error_count,
    totals: totalsOf(rows).map((t) => ({ currency: t.currency, amount: t.amountMinor, count: t.count })),
    rows: rows.map((r) => ({
      row: r.row_no,
      line: r.line,
      amount: r.amount_minor === null ? null : Number(r.amount_minor),
      amount_text: r.amount,
      currency: r.currency,
      beneficiary: r.beneficiary,
      reference: r.reference,
      narration: r.narration === '' ? null : r.narration,
      errors: r.errors.map((e) => ({ field: e.field, code: e.code, message: e.message })),
      payout: r.payout_id,
      payout_status: r.payout_status,
    })),
    livemode: batch.mode === 'live',
    created_at: new Date(batch.created_at).toISOString(),
    submitted_at: batch.submitted_at === null ? null : new Date(batch.submitted_at).toISOString(),
  };
}
