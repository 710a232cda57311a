// The hold as data: the fixed list of rules, what a rule that fired asks for, and the record kept
// on the payout (payouts.hold_json). No dependencies, so the API objects can use it.
import type { PayoutRow } from '../../db/schema.ts';

/** Every rule that can hold a payout (a fixed list: metric labels, the API, the dashboard). */
export const HOLD_RULES = [
  'amount',
  'currency_unlisted',
  'velocity_beneficiary_count',
  'velocity_beneficiary_amount',
  'velocity_mode_amount',
  'velocity_api_key_count',
  'new_beneficiary_cooldown',
  'new_beneficiary_cap',
  'name_mismatch',
  'name_unverified',
  'batch',
] as const;
export type HoldRule = (typeof HOLD_RULES)[number];

export interface FiredRule {
  readonly rule: HoldRule;
  /** Approvals this rule asks for (0: it only delays, as the cool-down). */
  readonly approvals: number;
  /** Not released before this (cool-down). */
  readonly releaseAt?: number;
  readonly detail?: Record<string, string | number | boolean | null>;
}

/** The hold as stored on the payout (hold_json) and shown on its API object. */
export interface HoldRecord {
  rules: Array<{ rule: HoldRule; approvals: number; detail: Record<string, string | number | boolean | null> }>;
  approvals_required: number;
  approvals: Array<{ operator: string; at: number }>;
  held_at: number;
  release_at: number | null;
  expires_at: number;
  resolution: { outcome: 'released' | 'rejected' | 'expired' | 'cancelled'; at: number; by: string | null } | null;
}

export function holdOf(row: Pick<PayoutRow, 'hold_json'>): HoldRecord | null {
  return row.hold_json === null ? null : (JSON.parse(row.hold_json) as HoldRecord);
}
