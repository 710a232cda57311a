// Provider-side recipient objects (Paystack's RCP_ codes), created once per beneficiary and
// provider and stored. A lost answer means one more recipient object at the provider, which is
// harmless (no money moves); a transfer can never be made without the stored one.
import type { Clock } from '../clock.ts';
import type { Db, PayoutAttemptRow, PayoutRow } from '../db/schema.ts';
import type { PayoutDestination, PayoutProvider, ProviderRecipient } from '../providers/payout-types.ts';
import { recordCheck } from './attempts.ts';

export type RecipientResult =
  | { kind: 'ok'; recipient: ProviderRecipient | undefined }
  | { kind: 'rejected'; reason: string }
  | { kind: 'indefinite'; reason: string; retryAfterMs?: number };

export async function recipientFor(
  deps: { db: Db; clock: Clock },
  adapter: PayoutProvider,
  payout: PayoutRow,
  attempt: PayoutAttemptRow,
  destination: PayoutDestination,
): Promise<RecipientResult> {
  if (adapter.ensureRecipient === undefined) return { kind: 'ok', recipient: undefined };
  const stored = await deps.db
    .selectFrom('beneficiary_recipients')
    .select('recipient_code')
    .where('beneficiary_id', '=', payout.beneficiary_id)
    .where('provider', '=', adapter.name)
    .executeTakeFirst();
  if (stored !== undefined) return { kind: 'ok', recipient: { recipientCode: stored.recipient_code } };
  const started = performance.now();
  const outcome = await adapter.ensureRecipient(destination);
  await recordCheck(deps.db, deps.clock, {
    payoutId: payout.id,
    attemptId: attempt.id,
    kind: 'recipient',
    outcome: outcome.kind,
    detail: outcome.kind === 'ok' ? { recipientCode: outcome.value.recipientCode } : { reason: outcome.reason },
    latencyMs: Math.round(performance.now() - started),
  });
  if (outcome.kind !== 'ok') return outcome;
  await deps.db
    .insertInto('beneficiary_recipients')
    .values({
      beneficiary_id: payout.beneficiary_id,
      provider: adapter.name,
      recipient_code: outcome.value.recipientCode,
      created_at: deps.clock.nowMs(),
    })
    .onConflict((oc) => oc.columns(['beneficiary_id', 'provider']).doNothing())
    .execute();
  // Whoever stored first wins, so every transfer of this beneficiary uses the same recipient.
  const winner = await deps.db
    .selectFrom('beneficiary_recipients')
    .select('recipient_code')
    .where('beneficiary_id', '=', payout.beneficiary_id)
    .where('provider', '=', adapter.name)
    .executeTakeFirstOrThrow();
  return { kind: 'ok', recipient: { recipientCode: winner.recipient_code } };
}
