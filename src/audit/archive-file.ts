// Archive files (LOG-4): one JSON object per line, each a whole sealed audit row with its chain
// fields (chain, seq, prev_hash, hash; position too, which is not hashed), in seq order, so
// `audit verify` checks them exactly like rows in the database. Written to a temporary name,
// fsynced, then renamed: a crash leaves no half file under the final name.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { AuditLogTable } from '../db/schema.ts';
import type { AuditChain } from './chain.ts';

const FILE_NAME = /^audit-(test|live|global)(\.\d{1,2})?-\d{1,15}-\d{1,15}\.jsonl$/;

export function archiveFileName(chain: AuditChain, fromSeq: number, toSeq: number): string {
  return `audit-${chain}-${fromSeq}-${toSeq}.jsonl`;
}

/** The stored order of the fields in a line (any order parses; this one reads well). */
function line(row: AuditLogTable): string {
  const { chain, seq, prev_hash, hash, ...rest } = row;
  return `${JSON.stringify({ chain, seq, prev_hash, hash, ...rest })}\n`;
}

/** Writes the rows and returns the file's SHA-256 (hex), recorded with the archive. */
export async function writeArchive(dir: string, fileName: string, rows: readonly AuditLogTable[]): Promise<string> {
  if (!FILE_NAME.test(fileName)) throw new Error(`not an archive file name: ${fileName}`);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const temporary = join(dir, `.${fileName}.partial`);
  const file = await open(temporary, 'w', 0o600);
  const digest = createHash('sha256');
  try {
    for (const row of rows) {
      const text = line(row);
      digest.update(text, 'utf8');
      await file.write(text);
    }
    await file.sync();
  } finally {
    await file.close();
  }
  await rename(temporary, join(dir, fileName));
  return digest.digest('hex');
}

export type ArchiveRead = { ok: true; sha256: string; rows: number } | { ok: false; reason: string };

/**
 * Streams an archive's rows to `onRow` (which returns false to stop) and hashes the bytes read.
 * The file name comes from the database, so it is checked before it touches the filesystem.
 */
export async function readArchive(
  dir: string,
  fileName: string,
  onRow: (row: AuditLogTable) => boolean,
): Promise<ArchiveRead> {
  if (!FILE_NAME.test(fileName)) return { ok: false, reason: 'not an archive file name' };
  const digest = createHash('sha256');
  const stream = createReadStream(join(dir, fileName));
  stream.on('data', (chunk) => digest.update(chunk));
  let rows = 0;
  try {
    for await (const text of createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY })) {
      if (text === '') continue;
      let row: AuditLogTable;
      try {
        row = JSON.parse(text) as AuditLogTable;
      } catch {
        return { ok: false, reason: `line ${rows + 1} is not JSON` };
      }
      rows += 1;
      if (!onRow(row)) {
        stream.destroy();
        return { ok: true, sha256: '', rows };
      }
    }
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    return { ok: false, reason: code === 'ENOENT' ? 'the file is missing' : `cannot be read (${String(code)})` };
  }
  return { ok: true, sha256: digest.digest('hex'), rows };
}
