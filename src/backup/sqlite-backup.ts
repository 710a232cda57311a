// SQLite: `VACUUM INTO` on a connection of its own. It reads one consistent snapshot (WAL readers
// never block the gateway's writer, nor it them) and writes a compact, self-contained database
// file: an online backup while the gateway keeps taking webhooks. The copy is then opened
// read-only and checked (integrity_check, every table counted) before it is called a backup.
import { closeSync, fsyncSync, openSync, renameSync, rmSync, statSync, copyFileSync, existsSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { sql } from 'kysely';
import type { DatabaseHandle } from '../db/database.ts';
import type { BackupCopy, Verification } from './types.ts';

export async function backupSqlite(handle: DatabaseHandle, destination: string): Promise<BackupCopy> {
  const partial = `${destination}.partial`;
  rmSync(partial, { force: true });
  await sql`vacuum into ${partial}`.execute(handle.db);
  fsyncFile(partial);
  renameSync(partial, destination);
  fsyncFile(dirname(destination));
  return { location: destination, sizeBytes: statSync(destination).size };
}

export function verifySqlite(location: string): Verification {
  let copy: BetterSqlite3.Database | undefined;
  try {
    copy = new BetterSqlite3(location, { readonly: true, fileMustExist: true });
    const integrity = copy.pragma('integrity_check', { simple: true });
    const tables = copy
      .prepare("select name from sqlite_master where type = 'table' and name not like 'sqlite_%' order by name")
      .pluck()
      .all() as string[];
    const counts: Record<string, number> = {};
    for (const table of tables)
      counts[table] = Number(
        copy
          .prepare(`select count(*) from "${table.replaceAll('"', '""')}"`)
          .pluck()
          .get(),
      );
    if (integrity !== 'ok') return { ok: false, counts, error: `integrity_check: ${String(integrity)}` };
    return { ok: true, counts };
  } catch (error) {
    return { ok: false, counts: {}, error: error instanceof Error ? error.message : String(error) };
  } finally {
    copy?.close();
  }
}

/**
 * Puts a verified copy in place of the database file. The gateway must be stopped: a running one
 * keeps its open file (and its WAL) and would write over what was restored.
 */
export function restoreSqlite(backup: string, target: string): void {
  const staged = `${target}.restoring`;
  copyFileSync(backup, staged);
  fsyncFile(staged);
  // The old WAL and shared-memory files belong to the old database; replayed onto the restored
  // one they would corrupt it.
  for (const suffix of ['-wal', '-shm']) if (existsSync(`${target}${suffix}`)) rmSync(`${target}${suffix}`);
  renameSync(staged, target);
  fsyncFile(dirname(target));
}

function fsyncFile(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
