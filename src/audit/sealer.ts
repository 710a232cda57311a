// The audit sealer (LOG-4): links committed, unsealed audit rows into their mode's chain. Writers
// only insert (chain.ts), so no audited transaction waits on a chain head; the sealer alone takes
// the head row, locked until it commits (FOR UPDATE on PostgreSQL through the dialect seam; SQLite
// runs one write transaction at a time), so two sealers, in one process or several, work a chain
// one after the other and can never fork it. The order is the sealing order: unsealed rows in
// insertion position order, batch after batch. A row whose transaction commits after a row with a
// higher position was already sealed is simply sealed in the next pass (docs/audit-log.md).
// Runs every second in each process that runs the schedules (createSealerLoop, started beside the
// scheduler in runtime.ts), and before every checkpoint and archive run. The loop skips a chain
// whose head another process holds (SKIP LOCKED), so one process seals each chain at a time across
// the cluster; the others find nothing to wait for. It is a timer rather than a scheduled job
// because every scheduled slot leaves a job row behind (86,400 a day at one a second).
import { sql, type RawBuilder } from 'kysely';
import type { DialectStrategy } from '../db/dialect.ts';
import type { AuditLogTable, Db, Tx } from '../db/schema.ts';
import type { Logger } from '../log.ts';
import { MODE_CHAINS, sealRow, type ModeChain } from './chain.ts';

export interface SealerDeps {
  readonly db: Db;
  readonly dialect: Pick<DialectStrategy, 'lockForUpdate' | 'lockForClaim'>;
}

export interface SealOptions {
  /** Skip a chain whose head another sealer holds, instead of waiting for it (the periodic loop). */
  readonly skipLocked?: boolean;
}

/** Rows sealed per transaction: short enough that a sealer never holds the head for long. */
export const SEAL_BATCH_ROWS = 500;
/** Rows per UPDATE statement (three parameters a row, well under SQLite's limit). */
const UPDATE_ROWS = 100;
export const DEFAULT_SEAL_INTERVAL_MS = 1000;

/** Seals the oldest batch of one chain's unsealed rows; returns how many rows it sealed. */
export async function sealBatch(deps: SealerDeps, chain: ModeChain, options: SealOptions = {}): Promise<number> {
  return deps.db.transaction().execute(async (tx) => {
    const query = tx.selectFrom('audit_chain_heads').select(['seq', 'hash']).where('chain', '=', chain);
    const head = await (options.skipLocked === true
      ? deps.dialect.lockForClaim(query)
      : deps.dialect.lockForUpdate(query)
    ).executeTakeFirst();
    if (head === undefined) {
      if (options.skipLocked === true) return 0; // another sealer is at work on this chain
      throw new Error(`audit chain head ${chain} is missing (run the migrations)`);
    }
    // Read after the head lock, so rows sealed by the sealer that held it before are not read
    // again (PostgreSQL's read committed takes each statement's snapshot when it starts).
    const rows = await tx
      .selectFrom('audit_log')
      .selectAll()
      .where('chain', '=', chain)
      .where('seq', '=', sql.lit(0))
      .orderBy('position')
      .orderBy('id')
      .limit(SEAL_BATCH_ROWS)
      .execute();
    if (rows.length === 0) return 0;
    let seq = Number(head.seq);
    let prevHash = head.hash;
    const sealed = rows.map((row) => {
      seq += 1;
      const linked = sealRow(row, seq, prevHash);
      prevHash = linked.hash;
      return linked;
    });
    for (let i = 0; i < sealed.length; i += UPDATE_ROWS) await writeSeals(tx, sealed.slice(i, i + UPDATE_ROWS));
    await tx.updateTable('audit_chain_heads').set({ seq, hash: prevHash }).where('chain', '=', chain).execute();
    return rows.length;
  });
}

/** One UPDATE for many rows, portable SQL (CASE on the id); only rows still unsealed are touched. */
async function writeSeals(tx: Tx, rows: readonly AuditLogTable[]): Promise<void> {
  const cases = <T>(value: (row: AuditLogTable) => RawBuilder<T>) =>
    sql<T>`case id ${sql.join(
      rows.map((row) => sql`when ${row.id} then ${value(row)}`),
      sql` `,
    )} end`;
  const result = await tx
    .updateTable('audit_log')
    .set({
      seq: cases((row) => sql<number>`cast(${row.seq} as bigint)`),
      prev_hash: cases((row) => sql<string>`${row.prev_hash}`),
      hash: cases((row) => sql<string>`${row.hash}`),
    })
    .where(
      'id',
      'in',
      rows.map((row) => row.id),
    )
    .where('seq', '=', sql.lit(0))
    .executeTakeFirst();
  if (Number(result.numUpdatedRows) !== rows.length)
    throw new Error('audit rows changed while they were sealed (the head lock should prevent this)');
}

/** Seals every unsealed row of every mode's chain visible now; returns how many it sealed. */
export async function sealAuditLog(deps: SealerDeps, options: SealOptions = {}): Promise<number> {
  let total = 0;
  for (const chain of MODE_CHAINS)
    for (;;) {
      const sealed = await sealBatch(deps, chain, options);
      total += sealed;
      if (sealed < SEAL_BATCH_ROWS) break;
    }
  return total;
}

export interface SealerLoop {
  start(): void;
  /** Stops the timer and waits for a pass under way, so the database can be closed after it. */
  stop(): Promise<void>;
}

/** The periodic sealer of a process that runs the schedules. */
export function createSealerLoop(deps: SealerDeps & { logger: Logger; intervalMs?: number }): SealerLoop {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  const pass = () => {
    if (running !== undefined) return;
    running = sealAuditLog(deps, { skipLocked: true })
      .then(() => undefined)
      .catch((error: unknown) =>
        deps.logger.error({ err: error instanceof Error ? error.message : String(error) }, 'audit sealer pass failed'),
      )
      .finally(() => {
        running = undefined;
      });
  };
  return {
    start() {
      if (timer !== undefined) return;
      timer = setInterval(pass, deps.intervalMs ?? DEFAULT_SEAL_INTERVAL_MS);
      timer.unref();
    },
    async stop() {
      if (timer !== undefined) clearInterval(timer);
      timer = undefined;
      await running;
    },
  };
}
