import type { PayoutRow } from '../db/schema.ts';
import { holdOf } from './controls/hold-record.ts';

/** The payout as the merchant's API and events see it (its schema: ./schemas.ts). */
export function toPayoutObject(row: PayoutRow) {
  return {
    id: row.id,
    object: 'payout' as const,
    status: row.status,
    status_reason: row.status_reason,
    failure_code: row.failure_code,
    failure_message: row.failure_message,
    amount: Number(row.amount_minor),
    currency: row.currency,
    reference: row.reference,
    beneficiary: row.beneficiary_id,
    provider: row.provider,
    provider_transfer_id: row.provider_transfer_id,
    fee: row.fee_minor === null ? null : Number(row.fee_minor),
    narration: row.narration,
    metadata: JSON.parse(row.metadata_json) as Record<string, string>,
    hold: holdObject(row),
    livemode: row.mode === 'live',
    created_at: new Date(row.created_at).toISOString(),
    updated_at: new Date(row.updated_at).toISOString(),
  };
}

export type PayoutObject = ReturnType<typeof toPayoutObject>;

/** Why and how a payout is (or was) held: null when no rule ever held it. */
function holdObject(row: PayoutRow) {
  const hold = holdOf(row);
  if (hold === null) return null;
  const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
  return {
    rules: hold.rules.map((r) => ({ rule: r.rule, approvals: r.approvals, detail: r.detail })),
    approvals_required: hold.approvals_required,
    approvals: hold.approvals.length,
    held_at: new Date(hold.held_at).toISOString(),
    release_at: iso(hold.release_at),
    expires_at: hold.resolution === null ? iso(hold.expires_at) : null,
    resolution: hold.resolution?.outcome ?? null,
  };
}
