// The audit log's hash chain (LOG-4). Every row carries the hash of its predecessor in its chain
// (one chain per mode, and `global` for rows that belong to no mode: operators, sign-ins), so a
// changed, removed, inserted or reordered row breaks the chain where it happened. The canonical
// hashing input is documented in docs/audit-log.md; changing it means a new version tag.
//
// Tables (migration 0008-audit-chain):
//   audit_log: ... chain, seq (1, 2, ... per chain), prev_hash, hash
//   audit_chain_heads: chain (primary key), seq, hash — the newest row of each chain
import { createHash } from 'node:crypto';
import type { AuditLogTable, Mode, Tx } from '../db/schema.ts';

export const AUDIT_CHAINS = ['test', 'live', 'global'] as const;
export type AuditChain = (typeof AUDIT_CHAINS)[number];

/** The predecessor of the first row of every chain. */
export const GENESIS_HASH = '0'.repeat(64);
const HASH_VERSION = 'paywarden.audit.v1';

export function chainOf(mode: Mode | null): AuditChain {
  return mode ?? 'global';
}

/** An audit row before it joins its chain. */
export type UnchainedAuditRow = Omit<AuditLogTable, 'chain' | 'seq' | 'prev_hash' | 'hash'>;

/**
 * SHA-256 (hex) over the JSON array of the row's fields in a fixed order. A JSON array of strings,
 * integers and nulls has exactly one serialisation, so any verifier in any language rebuilds the
 * same bytes; details_json is hashed as the stored text, not re-serialised.
 */
export function auditRowHash(row: AuditLogTable): string {
  const input = JSON.stringify([
    HASH_VERSION,
    row.chain,
    row.seq,
    row.prev_hash,
    row.id,
    row.mode,
    row.actor_type,
    row.actor_id,
    row.action,
    row.object_type,
    row.object_id,
    row.request_id,
    row.ip,
    row.user_agent,
    row.result,
    row.details_json,
    row.created_at,
  ]);
  return createHash('sha256').update(input, 'utf8').digest('hex');
}

/**
 * Appends rows (all of one chain) inside the caller's transaction. The first statement advances
 * the chain's head row, which takes that row's lock on PostgreSQL (held to commit, so appends from
 * several gateway processes queue up in one order and a rolled-back transaction leaves no gap);
 * SQLite runs one write transaction at a time. An UPDATE locks on both engines and reads the
 * predecessor in the same round trip, so this needs no dialect strategy: three statements
 * whatever the number of rows.
 */
export async function appendToChain(tx: Tx, rows: readonly UnchainedAuditRow[]): Promise<AuditLogTable[]> {
  const first = rows[0];
  if (first === undefined) return [];
  const chain = chainOf(first.mode);
  if (rows.some((r) => chainOf(r.mode) !== chain)) throw new Error('appendToChain takes rows of one chain');
  const head = await tx
    .updateTable('audit_chain_heads')
    .set((eb) => ({ seq: eb('seq', '+', rows.length) }))
    .where('chain', '=', chain)
    .returning(['seq', 'hash'])
    .executeTakeFirst();
  if (head === undefined) throw new Error(`audit chain head ${chain} is missing (run the migrations)`);
  let seq = Number(head.seq) - rows.length;
  let prevHash = head.hash;
  const chained = rows.map((row) => {
    seq += 1;
    const unhashed: AuditLogTable = { ...row, chain, seq, prev_hash: prevHash, hash: '' };
    const linked = { ...unhashed, hash: auditRowHash(unhashed) };
    prevHash = linked.hash;
    return linked;
  });
  await tx.insertInto('audit_log').values(chained).execute();
  await tx.updateTable('audit_chain_heads').set({ hash: prevHash }).where('chain', '=', chain).execute();
  return chained;
}
