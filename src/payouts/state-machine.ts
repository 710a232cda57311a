import type { PayoutStatus } from '../db/schema.ts';

// Every status change of a payout is checked against this table (through the one transition
// mechanism, src/events/transition.ts). The rules that keep a payout from being paid twice or
// lost:
//   - `unknown` is the honest answer to an indefinite outcome (timeout, 5xx, reset, unreadable
//     body, unknown status word, not found shortly after a create). It is never folded into
//     `failed`: only the provider's status query (or its definite refusal) leaves it.
//   - Nothing moves backwards: once processing, never pending again; once succeeded, only a
//     reversal (or conflicting evidence, to review) can follow.
//   - failed -> pending exists only for an operator's explicit, audited new attempt (a new
//     reference), never automatically. failed -> requires_review: the provider later says the
//     money went after all.
//   - cancelled only from pending, and only while no attempt was ever sent (checked by the
//     service in the same transaction).
//   - requires_review ends with a person's decision.
//   - on_hold (src/payouts/controls/): a rule held the payout before anything was sent. It is
//     entered only from pending with no send, in the creating transaction; it leaves to pending
//     (released: the engine sends it as any other), or ends without any provider call:
//     rejected (an approver said no), expired (nobody approved in time), cancelled (the merchant).
const TRANSITIONS: Readonly<Record<PayoutStatus, readonly PayoutStatus[]>> = {
  pending: [
    'processing',
    'unknown',
    'requires_action',
    'succeeded',
    'failed',
    'reversed',
    'cancelled',
    'requires_review',
    'on_hold',
  ],
  on_hold: ['pending', 'rejected', 'expired', 'cancelled'],
  unknown: ['processing', 'requires_action', 'succeeded', 'failed', 'reversed', 'requires_review'],
  processing: ['requires_action', 'succeeded', 'failed', 'reversed', 'requires_review'],
  requires_action: ['processing', 'succeeded', 'failed', 'reversed', 'requires_review'],
  succeeded: ['reversed', 'requires_review'],
  failed: ['pending', 'requires_review'],
  requires_review: ['succeeded', 'failed', 'reversed'],
  reversed: [],
  cancelled: [],
  rejected: [],
  expired: [],
};

export const PAYOUT_STATUSES = Object.keys(TRANSITIONS) as PayoutStatus[];

/** Where a payout in `from` may go next (the dashboard offers an operator only these). */
export function nextPayoutStatuses(from: PayoutStatus): readonly PayoutStatus[] {
  return TRANSITIONS[from] ?? [];
}

export function canTransitionPayout(from: PayoutStatus, to: PayoutStatus): boolean {
  return TRANSITIONS[from].includes(to);
}

/** Statuses in which the provider may still move money for the open attempt. */
export function isOpen(status: PayoutStatus): boolean {
  return status === 'pending' || status === 'unknown' || status === 'processing' || status === 'requires_action';
}

/**
 * Merchant events: one per status that matters (payout.on_hold carries the hold: which rules). `pending` (created, not yet sent) and `unknown`
 * (we do not know yet) are visible in the API and dashboard but not announced: neither is news
 * a merchant can act on, and `unknown` resolves to one of the announced ones.
 */
const ANNOUNCED: readonly PayoutStatus[] = [
  'processing',
  'requires_action',
  'succeeded',
  'failed',
  'reversed',
  'cancelled',
  'requires_review',
  'on_hold',
  'rejected',
  'expired',
];

export function payoutEventTypeFor(status: PayoutStatus): string | null {
  return ANNOUNCED.includes(status) ? `payout.${status}` : null;
}

export const PAYOUT_EVENT_TYPES = ANNOUNCED.map((s) => `payout.${s}`);
