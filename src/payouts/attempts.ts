// The attempt rows and the payout timeline (payout_checks). An attempt is committed, with the
// reference it will carry, before the provider is first called (PAY-1); `sends` counts calls made
// under that reference, and `markSent` is committed before each call, so a crash at any point
// leaves a row that says a call may have happened.
import { openBeneficiary } from '../beneficiaries/beneficiary-fields.ts';
import type { SystemKeys } from '../privacy/system-keys.ts';
import { randomBytes } from 'node:crypto';
import type { Clock } from '../clock.ts';
import type { FieldCipher } from '../crypto/encryption.ts';
import type { DbOrTx, PayoutAttemptRow, PayoutRow } from '../db/schema.ts';
import { newId } from '../ids.ts';
import type { PayoutDestination } from '../providers/payout-types.ts';

const REFERENCE_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

/** `pwo-` and 24 characters from the CSPRNG (124 bits): within every provider's rules. */
export function newPayoutReference(): string {
  let out = 'pwo-';
  while (out.length < 28) {
    const byte = randomBytes(1)[0]!;
    if (byte < 252) out += REFERENCE_ALPHABET[byte % 36];
  }
  return out;
}

export async function insertAttempt(
  db: DbOrTx,
  clock: Clock,
  input: { payoutId: string; attemptNo: number; provider: string; createdBy: string | null },
): Promise<PayoutAttemptRow> {
  const row: PayoutAttemptRow = {
    id: newId('poa'),
    payout_id: input.payoutId,
    attempt_no: input.attemptNo,
    provider: input.provider,
    reference: newPayoutReference(),
    state: 'created',
    sends: 0,
    first_sent_at: null,
    last_sent_at: null,
    accepted_at: null,
    provider_transfer_id: null,
    provider_status: null,
    created_by: input.createdBy,
    created_at: clock.nowMs(),
    closed_at: null,
  };
  await db.insertInto('payout_attempts').values(row).execute();
  return row;
}

export function openAttempt(db: DbOrTx, payoutId: string): Promise<PayoutAttemptRow | undefined> {
  return db
    .selectFrom('payout_attempts')
    .selectAll()
    .where('payout_id', '=', payoutId)
    .where('closed_at', 'is', null)
    .executeTakeFirst();
}

/** The open attempt, or else the latest one (a succeeded payout's, re-checked for reversals). */
export function latestAttempt(db: DbOrTx, payoutId: string): Promise<PayoutAttemptRow | undefined> {
  return db
    .selectFrom('payout_attempts')
    .selectAll()
    .where('payout_id', '=', payoutId)
    .orderBy('attempt_no', 'desc')
    .limit(1)
    .executeTakeFirst();
}

/** Committed before each provider call; false when the attempt was closed meanwhile (cancelled). */
export async function markSent(db: DbOrTx, clock: Clock, attempt: PayoutAttemptRow): Promise<boolean> {
  const now = clock.nowMs();
  const result = await db
    .updateTable('payout_attempts')
    .set({
      state: attempt.state === 'created' ? 'sent' : attempt.state,
      sends: attempt.sends + 1,
      first_sent_at: attempt.first_sent_at ?? now,
      last_sent_at: now,
    })
    .where('id', '=', attempt.id)
    .where('closed_at', 'is', null)
    .where('sends', '=', attempt.sends)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

export async function recordCheck(
  db: DbOrTx,
  clock: Clock,
  input: {
    payoutId: string;
    attemptId: string | null;
    kind: 'create' | 'query' | 'finalize' | 'recipient' | 'webhook';
    outcome: string;
    detail: Record<string, unknown>;
    latencyMs: number;
  },
): Promise<void> {
  await db
    .insertInto('payout_checks')
    .values({
      id: newId('pck'),
      payout_id: input.payoutId,
      attempt_id: input.attemptId,
      kind: input.kind,
      at: clock.nowMs(),
      outcome: input.outcome,
      detail_json: JSON.stringify(input.detail).slice(0, 4000),
      latency_ms: input.latencyMs,
    })
    .execute();
}

/** Where the payout's money goes, read from its beneficiary (the account number unsealed here only). */
export async function destinationOf(
  db: DbOrTx,
  cipher: FieldCipher,
  payout: PayoutRow,
  systemKeys: SystemKeys,
): Promise<PayoutDestination | undefined> {
  const b = await openBeneficiary(
    systemKeys,
    await db.selectFrom('beneficiaries').selectAll().where('id', '=', payout.beneficiary_id).executeTakeFirst(),
  );
  if (b === undefined) return undefined;
  const account = cipher.decrypt(b.account_sealed, `beneficiary:${b.id}`);
  if (b.type === 'connected_account')
    return { type: 'connected_account', country: b.country, accountId: account, accountName: b.account_name };
  return {
    type: b.type,
    country: b.country ?? '',
    bankCode: b.bank_code ?? '',
    accountNumber: account,
    accountName: b.account_name,
  };
}
