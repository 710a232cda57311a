// The audit log's hash chains (LOG-4): one per mode (`test`, `live`) and `global` for rows that
// belong to no mode (operators, sign-ins). Every sealed row carries the hash of its predecessor in
// its chain, so a changed, removed, inserted or reordered row breaks the chain where it happened.
//
// Writers never touch the chain: a transaction inserts its audit rows unsealed (chain named, seq 0,
// prev_hash and hash empty), and the database gives each an insertion `position`, without a lock
// anyone waits on. The sealer (sealer.ts) later takes the chain's head row, numbers the committed
// unsealed rows in position order and hashes them in. The canonical hashing input is documented in
// docs/audit-log.md; changing it means a new version tag.
//
// Chains of migration 0017 (`test.1` ... `test.15`, likewise live and global: the lanes) are frozen
// history: verify.ts still checks them, and the row that closed them (`audit.lanes_closed`,
// migration 0019) names their heads inside the mode's chain.
//
// Tables (migrations 0008-audit-chain, 0017-audit-lanes, 0019-audit-sealer):
//   audit_log: ... chain, seq (1, 2, ... per chain; 0 while unsealed), prev_hash, hash, position
//   audit_chain_heads: chain (primary key), seq, hash — the newest sealed row of each chain
import { createHash } from 'node:crypto';
import type { AuditLogTable, DbOrTx, Mode } from '../db/schema.ts';
import { newId } from '../ids.ts';

/** The chain of each mode, and `global`. */
export const MODE_CHAINS = ['test', 'live', 'global'] as const;
export type ModeChain = (typeof MODE_CHAINS)[number];
export type AuditChain = string;

/** The lanes of migration 0017, frozen since 0019: `test.1` ... `test.15`, likewise live and global. */
export const LEGACY_LANES: readonly string[] = MODE_CHAINS.flatMap((base) =>
  Array.from({ length: 15 }, (_, i) => `${base}.${i + 1}`),
);
/** Every chain verify walks: the mode chains first (they name the lanes' final heads), then the lanes. */
export const AUDIT_CHAINS: readonly string[] = [...MODE_CHAINS, ...LEGACY_LANES];

/** The predecessor of the first row of every chain. */
export const GENESIS_HASH = '0'.repeat(64);
const HASH_VERSION = 'paywarden.audit.v1';
/** The row of migration 0019 that names the frozen lanes' heads inside the mode's chain. */
export const LANES_CLOSED_ACTION = 'audit.lanes_closed';

export function chainOf(mode: Mode | null): ModeChain {
  return mode ?? 'global';
}

/** An audit row before it joins its chain. */
export type UnchainedAuditRow = Omit<AuditLogTable, 'chain' | 'seq' | 'prev_hash' | 'hash' | 'position'>;

/**
 * SHA-256 (hex) over the JSON array of the row's fields in a fixed order. A JSON array of strings,
 * integers and nulls has exactly one serialisation, so any verifier in any language rebuilds the
 * same bytes; details_json is hashed as the stored text, not re-serialised. `position` is not
 * hashed: it only orders rows until they are sealed, and seq is the order from then on.
 */
export function auditRowHash(row: Omit<AuditLogTable, 'position'>): string {
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

/** A row with its place in the chain and its hash. */
export function sealRow<R extends Omit<AuditLogTable, 'position'>>(row: R, seq: number, prevHash: string): R {
  const unhashed = { ...row, seq, prev_hash: prevHash, hash: '' };
  return { ...unhashed, hash: auditRowHash(unhashed) };
}

/**
 * Inserts audit rows unsealed, in the caller's transaction when given one: one INSERT, no lock
 * taken, so audited transactions never wait for each other here. The sealer chains them after
 * they commit; a transaction that rolls back leaves nothing to seal and no gap.
 */
export async function insertUnsealed(db: DbOrTx, rows: readonly UnchainedAuditRow[]): Promise<void> {
  if (rows.length === 0) return;
  await unsealedInsert(db, rows).execute();
}

/** The insert of insertUnsealed, for callers that send it with other writes (transaction-writes.ts). */
export function unsealedInsert(db: DbOrTx, rows: readonly UnchainedAuditRow[]) {
  return db
    .insertInto('audit_log')
    .values(rows.map((row) => ({ ...row, chain: chainOf(row.mode), seq: 0, prev_hash: '', hash: '' })));
}

/** The `audit.lanes_closed` row of migration 0019, sealed at `seq` after `prevHash`. */
export function lanesClosedRow(input: {
  mode: Mode | null;
  chain: string;
  seq: number;
  prevHash: string;
  lanes: readonly (readonly [string, number, string])[];
  nowMs: number;
}): Omit<AuditLogTable, 'position'> {
  return sealRow(
    {
      id: newId('aud', input.nowMs),
      mode: input.mode,
      actor_type: 'system',
      actor_id: null,
      action: LANES_CLOSED_ACTION,
      object_type: 'audit_chain',
      object_id: input.chain,
      request_id: null,
      ip: null,
      user_agent: null,
      result: 'success',
      details_json: JSON.stringify({ lanes: input.lanes }),
      created_at: input.nowMs,
      chain: input.chain,
      seq: 0,
      prev_hash: '',
      hash: '',
    },
    input.seq,
    input.prevHash,
  );
}

/** The lane heads an `audit.lanes_closed` row names, or undefined for any other row. */
export function closedLanesOf(row: Pick<AuditLogTable, 'action' | 'object_type' | 'details_json'>) {
  if (row.action !== LANES_CLOSED_ACTION || row.object_type !== 'audit_chain') return undefined;
  try {
    const parsed = JSON.parse(row.details_json) as { lanes?: unknown };
    if (!Array.isArray(parsed.lanes)) return undefined;
    return new Map(
      (parsed.lanes as [string, number, string][]).map(([lane, seq, hash]) => [
        String(lane),
        { seq: Number(seq), hash: String(hash) },
      ]),
    );
  } catch {
    return undefined;
  }
}
