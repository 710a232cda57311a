// Signed checkpoints (LOG-4): every few minutes the head (seq, hash) of each mode's chain is signed
// with the audit signing key and stored. A hash chain alone cannot show that rows were cut off its
// end (the shortened chain is still a valid chain); a signed checkpoint naming a later row can.
// The sealer runs first, so the head signed is as recent as the rows committed. Statement v1 (one
// chain, signed alone) is the one written; sets of v2 (every lane of a mode signed together,
// migration 0017's lanes) are no longer written and still verify.
import type { Clock } from '../clock.ts';
import type { AuditCheckpointsTable } from '../db/schema.ts';
import { newId } from '../ids.ts';
import { MODE_CHAINS } from './chain.ts';
import { sealAuditLog, type SealerDeps } from './sealer.ts';
import type { CheckpointSigner } from './signing-key.ts';

export const DEFAULT_CHECKPOINT_INTERVAL_MS = 5 * 60_000;

type Signed = Pick<AuditCheckpointsTable, 'chain' | 'seq' | 'hash' | 'signed_at' | 'set_id'>;

/** The signed statement of a checkpoint of one chain (v1), canonical like the row hash. */
export function checkpointMessage(cp: Pick<AuditCheckpointsTable, 'chain' | 'seq' | 'hash' | 'signed_at'>): string {
  return JSON.stringify(['paywarden.audit.checkpoint.v1', cp.chain, cp.seq, cp.hash, cp.signed_at]);
}

/**
 * The signed statement of a set (v2, written while 0017's lanes were in use): its id, time and
 * every lane's head in lane order. Rows of one set share set_id and signed_at; a set missing a row,
 * or with a row changed, signs differently.
 */
export function checkpointSetMessage(rows: readonly Signed[]): string {
  const first = rows[0];
  if (first === undefined) throw new Error('an empty checkpoint set');
  const heads = [...rows]
    .sort((a, b) => laneIndex(a.chain) - laneIndex(b.chain))
    .map((row) => [row.chain, row.seq, row.hash]);
  return JSON.stringify(['paywarden.audit.checkpoint.v2', first.set_id, first.signed_at, heads]);
}

function laneIndex(chain: string): number {
  const dot = chain.indexOf('.');
  return dot === -1 ? 0 : Number(chain.slice(dot + 1));
}

/**
 * Seals what has committed, then signs the head of each mode's chain that moved since its last
 * checkpoint; returns how many checkpoints were written. Safe to run from several processes: a
 * duplicate checkpoint is only redundant.
 */
export async function writeCheckpoints(deps: SealerDeps & { clock: Clock; signer: CheckpointSigner }): Promise<number> {
  await sealAuditLog(deps);
  let written = 0;
  for (const chain of MODE_CHAINS) {
    const head = await deps.db
      .selectFrom('audit_chain_heads')
      .select(['seq', 'hash'])
      .where('chain', '=', chain)
      .executeTakeFirst();
    if (head === undefined || Number(head.seq) === 0) continue;
    const signed = await deps.db
      .selectFrom('audit_checkpoints')
      .select((eb) => eb.fn.max('seq').as('seq'))
      .where('chain', '=', chain)
      .executeTakeFirst();
    if (Number(head.seq) <= Number(signed?.seq ?? 0)) continue;
    const checkpoint = { chain, seq: Number(head.seq), hash: head.hash, signed_at: deps.clock.nowMs() };
    await deps.db
      .insertInto('audit_checkpoints')
      .values({
        id: newId('ack'),
        ...checkpoint,
        key_id: deps.signer.keyId,
        signature: deps.signer.sign(checkpointMessage(checkpoint)),
        set_id: null,
      })
      .execute();
    written += 1;
  }
  return written;
}
