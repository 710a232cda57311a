// Signed checkpoints (LOG-4): every few minutes the heads (seq, hash) of all the lanes of a mode
// are signed together with the audit signing key and stored, one row per lane sharing a set_id
// and the one signature. A hash chain alone cannot show that rows were cut off its end (the
// shortened chain is still a valid chain); a signed checkpoint naming a later row can. Signing the
// lanes together means no lane's checkpoint can be removed or rolled back alone: the set's
// signature covers every lane. Checkpoints from before lanes (set_id null) were signed one chain
// at a time (v1) and still verify.
import type { Clock } from '../clock.ts';
import type { AuditCheckpointsTable, Db } from '../db/schema.ts';
import { newId } from '../ids.ts';
import { lanesOf, MODE_CHAINS } from './chain.ts';
import type { CheckpointSigner } from './signing-key.ts';

export const DEFAULT_CHECKPOINT_INTERVAL_MS = 5 * 60_000;

type Signed = Pick<AuditCheckpointsTable, 'chain' | 'seq' | 'hash' | 'signed_at' | 'set_id'>;

/** The signed statement of a checkpoint signed alone (v1), canonical like the row hash. */
export function checkpointMessage(cp: Pick<AuditCheckpointsTable, 'chain' | 'seq' | 'hash' | 'signed_at'>): string {
  return JSON.stringify(['paywarden.audit.checkpoint.v1', cp.chain, cp.seq, cp.hash, cp.signed_at]);
}

/**
 * The signed statement of a set (v2): its id, time and every lane's head in lane order. Rows of
 * one set share set_id and signed_at; a set missing a row, or with a row changed, signs differently.
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
 * Signs the heads of every lane of each mode where any lane moved since its last checkpoint;
 * returns how many sets were written. Safe to run from several processes: a duplicate set is only
 * redundant.
 */
export async function writeCheckpoints(deps: { db: Db; clock: Clock; signer: CheckpointSigner }): Promise<number> {
  let written = 0;
  for (const base of MODE_CHAINS) {
    const lanes = lanesOf(base);
    const heads = await deps.db
      .selectFrom('audit_chain_heads')
      .select(['chain', 'seq', 'hash'])
      .where('chain', 'in', lanes)
      .execute();
    if (heads.every((head) => Number(head.seq) === 0)) continue;
    const signedSeq = new Map(
      (
        await deps.db
          .selectFrom('audit_checkpoints')
          .select(['chain', (eb) => eb.fn.max('seq').as('seq')])
          .where('chain', 'in', lanes)
          .groupBy('chain')
          .execute()
      ).map((row) => [row.chain, Number(row.seq)]),
    );
    if (heads.every((head) => Number(head.seq) <= (signedSeq.get(head.chain) ?? 0))) continue;
    const setId = newId('acs');
    const signedAt = deps.clock.nowMs();
    const rows: Signed[] = heads.map((head) => ({
      chain: head.chain,
      seq: Number(head.seq),
      hash: head.hash,
      signed_at: signedAt,
      set_id: setId,
    }));
    const signature = deps.signer.sign(checkpointSetMessage(rows));
    await deps.db
      .insertInto('audit_checkpoints')
      .values(rows.map((row) => ({ id: newId('ack'), ...row, key_id: deps.signer.keyId, signature })))
      .execute();
    written += 1;
  }
  return written;
}
