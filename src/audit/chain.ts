// The audit log's hash chains (LOG-4). Every row carries the hash of its predecessor in its chain,
// so a changed, removed, inserted or reordered row breaks the chain where it happened. Each mode
// (and `global` for rows that belong to no mode: operators, sign-ins) has AUDIT_LANES chains, its
// lanes: `test` (lane 0, the one chain of migration 0008) and `test.1` ... `test.15`. A transaction
// appends to one lane per mode, chosen by a stable hash of the object its first audit row names,
// so concurrent transactions on different objects lock different head rows instead of queueing
// behind one (issue 14). The signed checkpoints sign every lane of a mode together
// (checkpoints.ts). The canonical hashing input is documented in docs/audit-log.md; changing it
// means a new version tag.
//
// Tables (migrations 0008-audit-chain, 0017-audit-lanes):
//   audit_log: ... chain, seq (1, 2, ... per chain), prev_hash, hash
//   audit_chain_heads: chain (primary key), seq, hash — the newest row of each chain
import { createHash } from 'node:crypto';
import type { AuditLogTable, Mode, Tx } from '../db/schema.ts';

/** The chain of each mode before lanes (migration 0008), and lane 0 of that mode since. */
export const MODE_CHAINS = ['test', 'live', 'global'] as const;
export type ModeChain = (typeof MODE_CHAINS)[number];
/** Lanes per mode. Changing it needs a migration (head rows) and re-reading chainsOf's users. */
export const AUDIT_LANES = 16;
export type AuditChain = string;

/** The lanes of one mode, lane 0 first. */
export function lanesOf(base: ModeChain): string[] {
  return Array.from({ length: AUDIT_LANES }, (_, lane) => (lane === 0 ? base : `${base}.${lane}`));
}
/** Every chain, mode by mode, lanes in order. */
export const AUDIT_CHAINS: readonly string[] = MODE_CHAINS.flatMap(lanesOf);

/** The mode chain a lane belongs to (`test.3` → `test`). */
export function baseOf(chain: string): ModeChain {
  return chain.split('.')[0] as ModeChain;
}

/** The predecessor of the first row of every chain. */
export const GENESIS_HASH = '0'.repeat(64);
const HASH_VERSION = 'paywarden.audit.v1';

export function chainOf(mode: Mode | null): ModeChain {
  return mode ?? 'global';
}

/** The lane for rows about one object: a stable hash of its type and id (the same in every process). */
export function laneOf(mode: Mode | null, objectType: string, objectId: string): AuditChain {
  const digest = createHash('sha256').update(`${objectType}:${objectId}`, 'utf8').digest();
  return lanesOf(chainOf(mode))[digest.readUInt32BE(0) % AUDIT_LANES]!;
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

/** The lane each open transaction took per mode: its later rows join the same one. */
const lanesTaken = new WeakMap<Tx, Map<ModeChain, AuditChain>>();

/**
 * The lane a transaction's rows of one mode go to: the first row's object picks it, and every
 * later row of that mode in the same transaction follows, so a transaction holds at most one head
 * row lock per mode and two transactions can never wait for each other's lanes (no deadlock).
 */
export function laneForTransaction(tx: Tx, row: UnchainedAuditRow): AuditChain {
  let taken = lanesTaken.get(tx);
  if (taken === undefined) {
    taken = new Map();
    lanesTaken.set(tx, taken);
  }
  const base = chainOf(row.mode);
  let lane = taken.get(base);
  if (lane === undefined) {
    lane = laneOf(row.mode, row.object_type, row.object_id);
    taken.set(base, lane);
  }
  return lane;
}

/**
 * Appends rows (all of one mode) inside the caller's transaction, to the transaction's lane of
 * that mode. The first statement advances the lane's head row, which takes that row's lock on
 * PostgreSQL (held to commit, so appends to one lane from several gateway processes queue up in
 * one order and a rolled-back transaction leaves no gap); SQLite runs one write transaction at a
 * time. An UPDATE locks on both engines and reads the predecessor in the same round trip, so this
 * needs no dialect strategy: three statements whatever the number of rows.
 */
export async function appendToChain(tx: Tx, rows: readonly UnchainedAuditRow[]): Promise<AuditLogTable[]> {
  const first = rows[0];
  if (first === undefined) return [];
  if (rows.some((r) => chainOf(r.mode) !== chainOf(first.mode)))
    throw new Error('appendToChain takes rows of one mode');
  const chain = laneForTransaction(tx, first);
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
