// Retention (LOG-4, adopted): 12 months kept, the last 3 at hand. `paywarden audit archive` seals
// what has committed, then moves sealed rows older than 3 months out of the database into
// JSON-lines files (archive-file.ts) and deletes files whose newest row is older than 12 months.
// Unsealed rows are never archived: they have no place in the chain yet. A range is archived only after its chain has been
// checked, so archiving never launders a tampered row; the archive record keeps the range's first
// predecessor hash and last hash, so the chain left in the database still verifies from there.
// Deleting audit rows needs more than the gateway's database grants (docs/audit-log.md): run this
// with the owner's database URL.
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { sql } from 'kysely';
import type { Clock } from '../clock.ts';
import type { AuditLogTable } from '../db/schema.ts';
import { newId } from '../ids.ts';
import { archiveFileName, writeArchive } from './archive-file.ts';
import { AUDIT_CHAINS, auditRowHash, GENESIS_HASH, type AuditChain } from './chain.ts';
import { sealAuditLog, type SealerDeps } from './sealer.ts';

export const AT_HAND_MONTHS = 3;
export const RETENTION_MONTHS = 12;
/** Rows per archive file, so one file stays a size a person can open. */
const FILE_ROWS = 50_000;
const PAGE_ROWS = 1000;

export interface RetentionDeps extends SealerDeps {
  readonly clock: Clock;
  readonly archiveDir: string;
}

export interface RetentionResult {
  readonly archived: { chain: AuditChain; fileName: string; fromSeq: number; toSeq: number }[];
  readonly expired: { chain: AuditChain; fileName: string }[];
  /** A chain that did not verify over the range to archive: nothing of it was moved. */
  readonly refused: { chain: AuditChain; seq: number; message: string }[];
}

/** `months` calendar months before `ms` (UTC), so "3 months" means the same date 3 months ago. */
export function monthsBefore(ms: number, months: number): number {
  const date = new Date(ms);
  date.setUTCMonth(date.getUTCMonth() - months);
  return date.getTime();
}

export async function applyRetention(deps: RetentionDeps): Promise<RetentionResult> {
  const result: RetentionResult = { archived: [], expired: [], refused: [] };
  const now = deps.clock.nowMs();
  await sealAuditLog(deps);
  for (const chain of AUDIT_CHAINS) {
    await archiveChain(deps, chain, monthsBefore(now, AT_HAND_MONTHS), result);
    await expireArchives(deps, chain, monthsBefore(now, RETENTION_MONTHS), result);
  }
  return result;
}

async function archiveChain(deps: RetentionDeps, chain: AuditChain, cutoffMs: number, result: RetentionResult) {
  const { db } = deps;
  const oldest = await db
    .selectFrom('audit_log')
    .select((eb) => eb.fn.max('seq').as('seq'))
    .where('chain', '=', chain)
    .where('seq', '>', sql.lit(0))
    .where('created_at', '<', cutoffMs)
    .executeTakeFirst();
  const toSeq = oldest?.seq === null || oldest?.seq === undefined ? 0 : Number(oldest.seq);
  for (;;) {
    const previous = await db
      .selectFrom('audit_archives')
      .select(['to_seq', 'last_hash'])
      .where('chain', '=', chain)
      .orderBy('to_seq', 'desc')
      .limit(1)
      .executeTakeFirst();
    const fromSeq = (previous?.to_seq ?? 0) + 1;
    if (toSeq < fromSeq) return;
    const lastSeq = Math.min(toSeq, fromSeq + FILE_ROWS - 1);
    const rows = await readRange(db, chain, fromSeq, lastSeq);
    const broken = firstBreak(rows, fromSeq, previous?.last_hash ?? GENESIS_HASH);
    if (broken !== null) {
      result.refused.push({ chain, ...broken });
      return;
    }
    const fileName = archiveFileName(chain, fromSeq, lastSeq);
    const fileSha256 = await writeArchive(deps.archiveDir, fileName, rows);
    await db.transaction().execute(async (tx) => {
      await tx
        .insertInto('audit_archives')
        .values({
          id: newId('aar'),
          chain,
          from_seq: fromSeq,
          to_seq: lastSeq,
          first_prev_hash: rows[0]!.prev_hash,
          last_hash: rows[rows.length - 1]!.hash,
          file_name: fileName,
          file_sha256: fileSha256,
          row_count: rows.length,
          newest_created_at: Math.max(...rows.map((r) => r.created_at)),
          archived_at: deps.clock.nowMs(),
          expired_at: null,
        })
        .execute();
      await tx
        .deleteFrom('audit_log')
        .where('chain', '=', chain)
        .where('seq', '>=', fromSeq)
        .where('seq', '<=', lastSeq)
        .execute();
    });
    result.archived.push({ chain, fileName, fromSeq, toSeq: lastSeq });
  }
}

async function readRange(
  db: RetentionDeps['db'],
  chain: AuditChain,
  fromSeq: number,
  toSeq: number,
): Promise<AuditLogTable[]> {
  const rows: AuditLogTable[] = [];
  for (let next = fromSeq; next <= toSeq; ) {
    const page = await db
      .selectFrom('audit_log')
      .selectAll()
      .where('chain', '=', chain)
      .where('seq', '>', sql.lit(0))
      .where('seq', '>=', next)
      .where('seq', '<=', toSeq)
      .orderBy('seq')
      .limit(PAGE_ROWS)
      .execute();
    if (page.length === 0) break;
    rows.push(...page);
    next = page[page.length - 1]!.seq + 1;
  }
  return rows;
}

function firstBreak(rows: readonly AuditLogTable[], fromSeq: number, prevHash: string) {
  let expected = fromSeq;
  let previous = prevHash;
  for (const row of rows) {
    if (row.seq !== expected || row.prev_hash !== previous || auditRowHash(row) !== row.hash)
      return { seq: expected, message: `row ${expected} does not verify; run paywarden audit verify` };
    expected += 1;
    previous = row.hash;
  }
  return rows.length === 0 ? { seq: fromSeq, message: `row ${fromSeq} is missing` } : null;
}

async function expireArchives(deps: RetentionDeps, chain: AuditChain, cutoffMs: number, result: RetentionResult) {
  const kept = await deps.db
    .selectFrom('audit_archives')
    .selectAll()
    .where('chain', '=', chain)
    .where('expired_at', 'is', null)
    .orderBy('from_seq')
    .execute();
  // Oldest first, and only a prefix: the chain then starts at the first archive still kept.
  for (const archive of kept) {
    if (archive.newest_created_at >= cutoffMs) return;
    await deps.db
      .updateTable('audit_archives')
      .set({ expired_at: deps.clock.nowMs() })
      .where('id', '=', archive.id)
      .execute();
    await rm(join(deps.archiveDir, archive.file_name), { force: true });
    result.expired.push({ chain, fileName: archive.file_name });
  }
}
