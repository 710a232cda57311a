// Signed checkpoints (LOG-4): every few minutes each chain's head (seq, hash) is signed with the
// audit signing key and stored. A hash chain alone cannot show that rows were cut off its end (the
// shortened chain is still a valid chain); a signed checkpoint naming a later row can.
import type { Clock } from '../clock.ts';
import type { AuditCheckpointsTable, Db } from '../db/schema.ts';
import { newId } from '../ids.ts';
import { AUDIT_CHAINS } from './chain.ts';
import type { CheckpointSigner } from './signing-key.ts';

export const DEFAULT_CHECKPOINT_INTERVAL_MS = 5 * 60_000;

/** The signed statement, canonical like the row hash: a JSON array in a fixed order. */
export function checkpointMessage(cp: Pick<AuditCheckpointsTable, 'chain' | 'seq' | 'hash' | 'signed_at'>): string {
  return JSON.stringify(['paywarden.audit.checkpoint.v1', cp.chain, cp.seq, cp.hash, cp.signed_at]);
}

/**
 * Signs the head of every chain that moved since its last checkpoint; returns how many were
 * written. Safe to run from several processes: a duplicate checkpoint is only redundant.
 */
export async function writeCheckpoints(deps: { db: Db; clock: Clock; signer: CheckpointSigner }): Promise<number> {
  let written = 0;
  for (const chain of AUDIT_CHAINS) {
    const head = await deps.db
      .selectFrom('audit_chain_heads')
      .select(['seq', 'hash'])
      .where('chain', '=', chain)
      .executeTakeFirst();
    if (head === undefined || head.seq === 0) continue;
    const last = await deps.db
      .selectFrom('audit_checkpoints')
      .select('seq')
      .where('chain', '=', chain)
      .orderBy('seq', 'desc')
      .limit(1)
      .executeTakeFirst();
    if (last !== undefined && last.seq >= head.seq) continue;
    const unsigned = { chain, seq: head.seq, hash: head.hash, signed_at: deps.clock.nowMs() };
    await deps.db
      .insertInto('audit_checkpoints')
      .values({
        id: newId('ack'),
        ...unsigned,
        key_id: deps.signer.keyId,
        signature: deps.signer.sign(checkpointMessage(unsigned)),
      })
      .execute();
    written += 1;
  }
  return written;
}
