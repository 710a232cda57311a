// Walking one audit chain (verify.ts): rows fed in seq order, from archive files or the database,
// each checked against its hash, its predecessor and the signed checkpoints; the first problem
// stops the walk (what comes after it cannot be trusted). Then the chain's end is checked against
// its head row, its newest checkpoint and, for a lane of migration 0017, the row that closed it.
import type { AuditArchivesTable, AuditCheckpointsTable, AuditLogTable } from '../db/schema.ts';
import { readArchive } from './archive-file.ts';
import { auditRowHash, type AuditChain } from './chain.ts';

export type AuditProblemKind =
  | 'changed'
  | 'removed'
  | 'inserted'
  | 'broken_link'
  | 'truncated'
  | 'head_mismatch'
  | 'checkpoint_invalid'
  | 'checkpoint_mismatch'
  | 'archive_invalid'
  | 'unsealed';

export interface AuditProblem {
  readonly chain: AuditChain;
  readonly kind: AuditProblemKind;
  /** The first bad position in the chain, when there is one. */
  readonly seq: number | null;
  readonly rowId: string | null;
  readonly message: string;
}

/** Follows one chain row by row; stops at its first problem (what comes after it cannot be trusted). */
export class ChainWalker {
  readonly chain: AuditChain;
  expectedSeq: number;
  prevHash: string;
  rowsChecked = 0;
  problem: AuditProblem | null = null;
  /** Called with each row that verified (the mode chains collect the lanes' final heads). */
  onRow: ((row: AuditLogTable) => void) | undefined;
  private readonly checkpointsBySeq: Map<number, AuditCheckpointsTable[]>;

  constructor(chain: AuditChain, startSeq: number, startHash: string, checkpoints: readonly AuditCheckpointsTable[]) {
    this.chain = chain;
    this.expectedSeq = startSeq;
    this.prevHash = startHash;
    this.checkpointsBySeq = new Map();
    for (const cp of checkpoints) this.checkpointsBySeq.set(cp.seq, [...(this.checkpointsBySeq.get(cp.seq) ?? []), cp]);
  }

  fail(kind: AuditProblemKind, seq: number | null, rowId: string | null, message: string): void {
    this.problem ??= { chain: this.chain, kind, seq, rowId, message };
  }

  /** Skips an archived range that is not read (its boundary hashes come from the archive record). */
  jump(toSeq: number, lastHash: string): void {
    this.expectedSeq = toSeq + 1;
    this.prevHash = lastHash;
  }

  feed(row: AuditLogTable): boolean {
    if (this.problem !== null) return false;
    const where = `row ${row.seq} (${row.id})`;
    if (row.chain !== this.chain) {
      this.fail('inserted', row.seq, row.id, `${where} names chain ${row.chain} but sits in chain ${this.chain}`);
      return false;
    }
    if (!Number.isSafeInteger(row.seq) || row.seq < this.expectedSeq) {
      this.fail('inserted', row.seq, row.id, `${where} is not in the chain: expected row ${this.expectedSeq} next`);
      return false;
    }
    if (row.seq > this.expectedSeq) {
      const gap =
        row.seq === this.expectedSeq + 1 ? `row ${this.expectedSeq} is` : `rows ${this.expectedSeq}-${row.seq - 1} are`;
      this.fail('removed', this.expectedSeq, null, `${gap} missing (removed) before ${where}`);
      return false;
    }
    if (auditRowHash(row) !== row.hash) {
      this.fail('changed', row.seq, row.id, `${where} was changed: its content no longer matches its hash`);
      return false;
    }
    if (row.prev_hash !== this.prevHash) {
      this.fail(
        'broken_link',
        row.seq,
        row.id,
        `${where} does not follow row ${row.seq - 1}: a row was inserted, reordered or rewritten before it`,
      );
      return false;
    }
    for (const cp of this.checkpointsBySeq.get(row.seq) ?? [])
      if (cp.hash !== row.hash) {
        this.fail(
          'checkpoint_mismatch',
          row.seq,
          row.id,
          `${where} differs from the signed checkpoint ${cp.id}: the chain was rewritten up to here`,
        );
        return false;
      }
    this.expectedSeq = row.seq + 1;
    this.prevHash = row.hash;
    this.rowsChecked += 1;
    this.onRow?.(row);
    return true;
  }
}

/** The end of the chain must be where the head row and the newest signed checkpoint say it is. */
export function checkEnd(
  walker: ChainWalker,
  head: { seq: number; hash: string },
  checkpoints: readonly AuditCheckpointsTable[],
): void {
  const reached = walker.expectedSeq - 1;
  const newestCheckpoint = checkpoints.reduce<AuditCheckpointsTable | undefined>(
    (newest, cp) => (newest === undefined || cp.seq > newest.seq ? cp : newest),
    undefined,
  );
  if (newestCheckpoint !== undefined && newestCheckpoint.seq > reached) {
    walker.fail(
      'truncated',
      reached + 1,
      null,
      `the chain ends at row ${reached}, but checkpoint ${newestCheckpoint.id} was signed for row ${newestCheckpoint.seq}: rows were cut off the end`,
    );
    return;
  }
  if (head.seq > reached) {
    walker.fail(
      'truncated',
      reached + 1,
      null,
      `the chain ends at row ${reached}, but its head names row ${head.seq}: rows were cut off the end`,
    );
    return;
  }
  if (head.seq < reached) {
    walker.fail(
      'inserted',
      head.seq + 1,
      null,
      `rows ${head.seq + 1}-${reached} are beyond the chain head (${head.seq}): added outside the gateway`,
    );
    return;
  }
  if (reached > 0 && head.hash !== walker.prevHash)
    walker.fail('head_mismatch', reached, null, `the chain head's hash differs from row ${reached}'s`);
}

/** A frozen lane must end at the head the row that closed the lanes names for it. */
export function checkSeam(walker: ChainWalker, seam: { seq: number; hash: string; rowSeq: number }): void {
  const reached = walker.expectedSeq - 1;
  const closedBy = `the row that closed the lanes (row ${seam.rowSeq} of the mode's chain) names row ${seam.seq}`;
  if (reached < seam.seq)
    walker.fail('truncated', reached + 1, null, `the lane ends at row ${reached}, but ${closedBy}: rows were cut off`);
  else if (reached > seam.seq)
    walker.fail(
      'inserted',
      seam.seq + 1,
      null,
      `rows ${seam.seq + 1}-${reached} were added after the lane was closed (${closedBy})`,
    );
  else if (reached > 0 && walker.prevHash !== seam.hash)
    walker.fail(
      'checkpoint_mismatch',
      reached,
      null,
      `row ${reached} differs from the head recorded by the row that closed the lanes (row ${seam.rowSeq} of the mode's chain)`,
    );
}

/** Archive records must tile the chain: each starts where the previous one ended. */
export function checkArchiveRecords(walker: ChainWalker, archives: readonly AuditArchivesTable[]): void {
  for (let i = 1; i < archives.length; i += 1) {
    const previous = archives[i - 1]!;
    const archive = archives[i]!;
    if (archive.from_seq !== previous.to_seq + 1 || archive.first_prev_hash !== previous.last_hash) {
      walker.fail(
        'archive_invalid',
        archive.from_seq,
        null,
        `archive ${archive.file_name} does not continue archive ${previous.file_name}`,
      );
      return;
    }
  }
}

export async function walkArchive(walker: ChainWalker, archiveDir: string, archive: AuditArchivesTable): Promise<void> {
  const read = await readArchive(archiveDir, archive.file_name, (row) => walker.feed(row));
  if (walker.problem !== null) return;
  if (!read.ok) {
    walker.fail('archive_invalid', archive.from_seq, null, `archive ${archive.file_name}: ${read.reason}`);
    return;
  }
  if (read.sha256 !== archive.file_sha256)
    walker.fail(
      'archive_invalid',
      archive.from_seq,
      null,
      `archive ${archive.file_name} was changed since it was written`,
    );
  else if (walker.expectedSeq !== archive.to_seq + 1 || walker.prevHash !== archive.last_hash)
    walker.fail(
      'archive_invalid',
      walker.expectedSeq,
      null,
      `archive ${archive.file_name} ends before row ${archive.to_seq}`,
    );
}
