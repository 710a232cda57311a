// The erasure journal (DAT-3): a backup taken before an erasure still holds the customer's wrapped
// data key, so restoring it would bring their personal data back. Every erasure is therefore also
// appended to a file outside the database (PAYWARDEN_ERASURE_JOURNAL, by default
// DATA_DIR/erasure-journal.jsonl, next to the backups' configuration), which a restore does not
// touch; `paywarden restore`, and every gateway start before it serves, re-apply each journalled
// erasure the database does not hold. One JSON line per erasure, no personal data: the customer
// id, mode, time and the request id that names its audit row (`customer.erase`).
//
// The line is written and fsynced before the erasure's transaction commits: a crash between the
// two leaves a journalled erasure the database lacks, which the next start applies (the erasure
// was asked for); the other order could lose an erasure.
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Db, Mode } from '../db/schema.ts';

export interface ErasureEntry {
  readonly customer_id: string;
  readonly mode: Mode;
  readonly erased_at: string;
  /** The request that erased; its audit row is `customer.erase` with this request id. */
  readonly request_id: string | null;
}

export interface ErasureJournal {
  readonly path: string;
  append(entries: readonly ErasureEntry[]): void;
  read(): ErasureEntry[];
}

const CUSTOMER_ID = /^cus_[0-9A-Za-z]{22}$/;

export function createErasureJournal(path: string): ErasureJournal {
  return {
    path,
    append(entries) {
      if (entries.length === 0) return;
      mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
      const fd = openSync(path, 'a', 0o600);
      try {
        writeSync(fd, entries.map((e) => `${JSON.stringify(e)}\n`).join(''));
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
    },
    read() {
      if (!existsSync(path)) return [];
      const entries: ErasureEntry[] = [];
      for (const line of readFileSync(path, 'utf8').split('\n')) {
        if (line.trim() === '') continue;
        let entry: Partial<ErasureEntry>;
        try {
          entry = JSON.parse(line) as Partial<ErasureEntry>;
        } catch {
          // A line torn by a crash mid-write: its erasure never committed before the line did.
          continue;
        }
        if (
          typeof entry.customer_id === 'string' &&
          CUSTOMER_ID.test(entry.customer_id) &&
          (entry.mode === 'test' || entry.mode === 'live')
        )
          entries.push(entry as ErasureEntry);
      }
      return entries;
    },
  };
}

/** The journalled erasures this database does not hold (a restored backup older than them). */
export async function erasuresToReapply(db: Db, journal: ErasureJournal): Promise<ErasureEntry[]> {
  const entries = journal.read();
  if (entries.length === 0) return [];
  const live = new Set<string>();
  const ids = [...new Set(entries.map((e) => e.customer_id))];
  for (let i = 0; i < ids.length; i += 500) {
    const rows = await db
      .selectFrom('customer_keys')
      .select('id')
      .where('id', 'in', ids.slice(i, i + 500))
      .where('erased_at', 'is', null)
      .execute();
    for (const row of rows) live.add(row.id);
  }
  const seen = new Set<string>();
  return entries.filter((e) => live.has(e.customer_id) && !seen.has(e.customer_id) && seen.add(e.customer_id));
}
