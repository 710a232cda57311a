// `paywarden audit verify` as a library function (doctor calls it too). Read-only. Walks each
// chain in seq order, from the oldest archive still kept (when the archive directory is given)
// through the database, and names the first row that breaks it: changed (its hash no longer
// matches its content), removed (a gap in seq), inserted or reordered (it does not follow its
// predecessor), cut off the end (a signed checkpoint or the chain head names a row that is not
// there). The mode chains come first: the row that closed migration 0017's lanes names each lane's
// final head, and the frozen lanes walked after must end exactly there. Rows not yet sealed are
// counted; one left unsealed past a tolerance (the sealer is not running, or it was slipped in
// outside the gateway) is a problem.
import { sql } from 'kysely';
import type { Db, AuditCheckpointsTable } from '../db/schema.ts';
import { AUDIT_CHAINS, closedLanesOf, GENESIS_HASH, LEGACY_LANES, MODE_CHAINS, type AuditChain } from './chain.ts';
import { checkpointMessage, checkpointSetMessage } from './checkpoints.ts';
import {
  ChainWalker,
  checkArchiveRecords,
  checkEnd,
  checkSeam,
  walkArchive,
  type AuditProblem,
} from './chain-walker.ts';
import { verifySignature, type CheckpointKeyring } from './signing-key.ts';

export type { AuditProblem, AuditProblemKind } from './chain-walker.ts';

export interface ChainReport {
  readonly chain: AuditChain;
  /** Rows whose hashes were recomputed (archived ones included when their files were read). */
  readonly rowsChecked: number;
  readonly headSeq: number;
  readonly checkpointsChecked: number;
  /** The newest valid checkpoint's time, to notice a checkpoint job that stopped. */
  readonly lastCheckpointAt: number | null;
  /** Archived rows that were not read, because no archive directory was given. */
  readonly archivedRowsSkipped: number;
  /** Rows written but not sealed yet (younger than the tolerance: the sealer's next pass takes them). */
  readonly unsealedRows: number;
  readonly problem: AuditProblem | null;
}

export interface AuditVerifyReport {
  readonly ok: boolean;
  readonly chains: readonly ChainReport[];
  /** The first problem of each broken chain. */
  readonly problems: readonly AuditProblem[];
}

export interface AuditVerifyDeps {
  readonly db: Db;
  /** Public keys trusted for checkpoints; a checkpoint signed by any other key is a problem. */
  readonly keyring: CheckpointKeyring;
  /** Where `audit archive` wrote its files; without it, archived ranges are taken on trust. */
  readonly archiveDir?: string;
  /** Now, to age unsealed rows (the clock's time; defaults to the system's). */
  readonly nowMs?: number;
  /** How long a row may stay unsealed before it is a problem; 5 minutes unless said otherwise. */
  readonly unsealedToleranceMs?: number;
}

const PAGE_ROWS = 1000;
export const UNSEALED_TOLERANCE_MS = 5 * 60_000;

/** Each frozen lane's final head, as the row that closed the lanes names it. */
type LaneSeams = Map<AuditChain, { seq: number; hash: string; rowSeq: number }>;

export async function verifyAuditLog(deps: AuditVerifyDeps): Promise<AuditVerifyReport> {
  const checkpoints = await deps.db.selectFrom('audit_checkpoints').selectAll().orderBy('seq').execute();
  const signatures = checkSignatures(deps.keyring, checkpoints);
  const seams: LaneSeams = new Map();
  const chains: ChainReport[] = [];
  for (const chain of AUDIT_CHAINS) {
    const report = await verifyChain(
      deps,
      chain,
      checkpoints.filter((cp) => cp.chain === chain),
      signatures,
      seams,
    );
    // A lane of 0017 that never held a row has nothing to report (its checkpoints signed row 0).
    const empty =
      report.rowsChecked === 0 && report.headSeq === 0 && report.archivedRowsSkipped === 0 && report.problem === null;
    if (!(LEGACY_LANES.includes(chain) && empty)) chains.push(report);
  }
  const stray = await strayUnsealedRow(deps.db);
  if (stray !== undefined)
    chains.push({
      chain: stray.chain,
      rowsChecked: 0,
      headSeq: 0,
      checkpointsChecked: 0,
      lastCheckpointAt: null,
      archivedRowsSkipped: 0,
      unsealedRows: stray.seq === 0 ? 1 : 0,
      problem: {
        chain: stray.chain,
        kind: 'inserted',
        seq: null,
        rowId: stray.id,
        message:
          stray.seq < 0
            ? `row ${stray.id} is numbered ${stray.seq} in ${stray.chain}, outside any chain: added outside the gateway`
            : `row ${stray.id} waits to be sealed into ${stray.chain}, which is no audit chain: added outside the gateway`,
      },
    });
  const problems = chains.flatMap((c) => (c.problem === null ? [] : [c.problem]));
  return { ok: problems.length === 0, chains, problems };
}

/**
 * A row no walk reads: unsealed but naming no chain at all (no sealer will ever take it), or with a
 * number below the chain's (written outside the gateway, out of every chain's sight).
 */
async function strayUnsealedRow(db: Db) {
  return db
    .selectFrom('audit_log')
    .select(['id', 'chain', 'seq'])
    .where((eb) =>
      eb.or([
        eb.and([eb('seq', '=', sql.lit(0)), eb('chain', 'not in', [...AUDIT_CHAINS])]),
        eb('seq', '<', sql.lit(0)),
      ]),
    )
    .orderBy('position')
    .limit(1)
    .executeTakeFirst();
}

/**
 * How many rows of a chain wait to be sealed, and the first of them older than the tolerance (of a
 * frozen lane, where nothing is sealed any more: the first of them).
 */
async function unsealedOf(deps: AuditVerifyDeps, chain: AuditChain, open: boolean) {
  const count = await deps.db
    .selectFrom('audit_log')
    .select((eb) => eb.fn.countAll().as('n'))
    .where('chain', '=', chain)
    .where('seq', '=', sql.lit(0))
    .executeTakeFirstOrThrow();
  const rows = Number(count.n);
  if (rows === 0) return { rows, stale: undefined };
  const cutoff = open
    ? (deps.nowMs ?? Date.now()) - (deps.unsealedToleranceMs ?? UNSEALED_TOLERANCE_MS)
    : Number.MAX_SAFE_INTEGER;
  const stale = await deps.db
    .selectFrom('audit_log')
    .select(['id', 'created_at'])
    .where('chain', '=', chain)
    .where('seq', '=', sql.lit(0))
    .where('created_at', '<', cutoff)
    .orderBy('position')
    .limit(1)
    .executeTakeFirst();
  return { rows, stale };
}

/**
 * Why each checkpoint with a bad signature is bad, by id. A set (one row per lane, set_id) is
 * checked as a whole: a row removed from it, added to it or changed makes every row of it invalid.
 */
function checkSignatures(
  keyring: CheckpointKeyring,
  checkpoints: readonly AuditCheckpointsTable[],
): Map<string, string> {
  const bad = new Map<string, string>();
  const sets = new Map<string, AuditCheckpointsTable[]>();
  for (const cp of checkpoints) {
    if (cp.set_id === null) {
      const key = keyring.get(cp.key_id);
      if (key === undefined) bad.set(cp.id, `is signed by an unknown key ${cp.key_id}`);
      else if (!verifySignature(key, checkpointMessage(cp), cp.signature)) bad.set(cp.id, 'has an invalid signature');
    } else sets.set(cp.set_id, [...(sets.get(cp.set_id) ?? []), cp]);
  }
  for (const rows of sets.values()) {
    const first = rows[0]!;
    const key = keyring.get(first.key_id);
    const consistent = rows.every(
      (row) => row.key_id === first.key_id && row.signature === first.signature && row.signed_at === first.signed_at,
    );
    const reason =
      key === undefined
        ? `is signed by an unknown key ${first.key_id}`
        : !consistent || !verifySignature(key, checkpointSetMessage(rows), first.signature)
          ? `has an invalid signature (its set ${first.set_id} of all lanes was changed, or a lane's checkpoint removed)`
          : undefined;
    if (reason !== undefined) for (const row of rows) bad.set(row.id, reason);
  }
  return bad;
}

async function verifyChain(
  deps: AuditVerifyDeps,
  chain: AuditChain,
  checkpoints: readonly AuditCheckpointsTable[],
  signatures: ReadonlyMap<string, string>,
  seams: LaneSeams,
): Promise<ChainReport> {
  const { db } = deps;
  const archives = await db
    .selectFrom('audit_archives')
    .selectAll()
    .where('chain', '=', chain)
    .orderBy('from_seq')
    .execute();

  // Checkpoints first: each must carry a valid signature from a trusted key.
  let badCheckpoint: AuditProblem | null = null;
  let lastCheckpointAt: number | null = null;
  for (const cp of checkpoints) {
    const reason = signatures.get(cp.id);
    if (reason !== undefined) {
      badCheckpoint ??= {
        chain,
        kind: 'checkpoint_invalid',
        seq: cp.seq,
        rowId: null,
        message: `checkpoint ${cp.id} (row ${cp.seq}) ${reason}`,
      };
    } else lastCheckpointAt = Math.max(lastCheckpointAt ?? 0, cp.signed_at);
  }

  const kept = archives.filter((a) => a.expired_at === null);
  const firstKept = kept[0];
  const lastArchive = archives[archives.length - 1];
  // Rows of expired archives are gone for good (past retention); the chain starts after them.
  const start =
    firstKept !== undefined
      ? { seq: firstKept.from_seq, hash: firstKept.first_prev_hash }
      : lastArchive !== undefined
        ? { seq: lastArchive.to_seq + 1, hash: lastArchive.last_hash }
        : { seq: 1, hash: GENESIS_HASH };
  const walker = new ChainWalker(
    chain,
    start.seq,
    start.hash,
    checkpoints.filter((cp) => cp.seq >= start.seq && !signatures.has(cp.id)),
  );
  if (badCheckpoint !== null) walker.fail(badCheckpoint.kind, badCheckpoint.seq, null, badCheckpoint.message);
  if ((MODE_CHAINS as readonly string[]).includes(chain))
    walker.onRow = (row) => {
      for (const [lane, head] of closedLanesOf(row) ?? [])
        if (!seams.has(lane)) seams.set(lane, { ...head, rowSeq: row.seq });
    };
  checkArchiveRecords(walker, archives);

  let archivedRowsSkipped = 0;
  for (const archive of kept) {
    if (walker.problem !== null) break;
    if (deps.archiveDir === undefined) {
      walker.jump(archive.to_seq, archive.last_hash);
      archivedRowsSkipped += archive.row_count;
      continue;
    }
    await walkArchive(walker, deps.archiveDir, archive);
  }

  // Then the database, in keyset pages, until the head read after the last page is reached:
  // rows appended meanwhile by a running gateway are read too, so they are never mistaken for a
  // cut-off end.
  const boundary = lastArchive?.to_seq ?? 0;
  let lastSeq = boundary;
  let head = await readHead(db, chain);
  for (let round = 0; walker.problem === null; round += 1) {
    for (;;) {
      const rows = await db
        .selectFrom('audit_log')
        .selectAll()
        .where('chain', '=', chain)
        .where('seq', '>', sql.lit(0))
        .where('seq', '>', lastSeq)
        .orderBy('seq')
        .limit(PAGE_ROWS)
        .execute();
      for (const row of rows) if (!walker.feed(row)) break;
      if (walker.problem !== null || rows.length < PAGE_ROWS) {
        lastSeq = rows[rows.length - 1]?.seq ?? lastSeq;
        break;
      }
      lastSeq = rows[rows.length - 1]!.seq;
    }
    if (walker.problem !== null) break;
    head = await readHead(db, chain);
    const reached = walker.expectedSeq - 1;
    if (reached === head.seq || round >= 3) break;
  }
  if (walker.problem === null) checkEnd(walker, head, checkpoints);
  const seam = seams.get(chain);
  if (walker.problem === null && seam !== undefined) checkSeam(walker, seam);
  const open = (MODE_CHAINS as readonly string[]).includes(chain);
  const unsealed = await unsealedOf(deps, chain, open);
  if (unsealed.stale !== undefined)
    walker.fail(
      open ? 'unsealed' : 'inserted',
      null,
      unsealed.stale.id,
      open
        ? `row ${unsealed.stale.id}, written ${new Date(unsealed.stale.created_at).toISOString()}, is still not sealed into the chain (${unsealed.rows} unsealed): is the sealer running? A row slipped in outside the gateway looks the same`
        : `row ${unsealed.stale.id} waits to be sealed into ${chain}, a lane closed by migration 0019: added outside the gateway`,
    );

  return {
    chain,
    rowsChecked: walker.rowsChecked,
    headSeq: head.seq,
    checkpointsChecked: checkpoints.length,
    lastCheckpointAt,
    archivedRowsSkipped,
    unsealedRows: unsealed.rows,
    problem: walker.problem,
  };
}

async function readHead(db: Db, chain: AuditChain): Promise<{ seq: number; hash: string }> {
  const head = await db
    .selectFrom('audit_chain_heads')
    .select(['seq', 'hash'])
    .where('chain', '=', chain)
    .executeTakeFirst();
  return head ?? { seq: 0, hash: GENESIS_HASH };
}
