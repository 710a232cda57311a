// PostgreSQL: pg_dump in its custom format (compressed, restorable table by table, read back with
// pg_restore), of the schema Paywarden uses. pg_dump works inside one repeatable-read snapshot, so
// the dump is consistent while the gateway runs. Connection details travel in PG* environment
// variables, never on the command line where `ps` would show a password.
import { spawn } from 'node:child_process';
import { closeSync, fsyncSync, openSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { createInterface } from 'node:readline';
import { sql } from 'kysely';
import type { DatabaseHandle } from '../db/database.ts';
import type { BackupCopy, Verification } from './types.ts';

export function libpqEnvironment(databaseUrl: string): Record<string, string> {
  const url = new URL(databaseUrl);
  const env: Record<string, string> = {};
  if (url.hostname !== '') env.PGHOST = decodeURIComponent(url.hostname.replace(/^\[|\]$/g, ''));
  if (url.port !== '') env.PGPORT = url.port;
  if (url.username !== '') env.PGUSER = decodeURIComponent(url.username);
  if (url.password !== '') env.PGPASSWORD = decodeURIComponent(url.password);
  const database = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (database !== '') env.PGDATABASE = database;
  const options = url.searchParams.get('options');
  if (options !== null) env.PGOPTIONS = options;
  const sslmode = url.searchParams.get('sslmode');
  if (sslmode !== null) env.PGSSLMODE = sslmode;
  return env;
}

function run(command: string, args: string[], env: Record<string, string>, onLine?: (line: string) => void) {
  return new Promise<void>((resolve, reject) => {
    const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      if (stderr.length < 4000) stderr += chunk.toString('utf8');
    });
    if (onLine !== undefined) createInterface({ input: child.stdout }).on('line', onLine);
    else child.stdout.resume();
    child.once('error', (error) =>
      reject(new Error(`${command} could not start (${error.message}); install postgresql-client`)),
    );
    child.once('close', (code) =>
      code === 0 ? resolve() : reject(new Error(`${command} exited with ${code}: ${stderr.trim().slice(0, 1000)}`)),
    );
  });
}

export async function backupPostgres(
  handle: DatabaseHandle,
  databaseUrl: string,
  destination: string,
): Promise<BackupCopy> {
  const schema = (await sql<{ schema: string }>`select current_schema() as schema`.execute(handle.db)).rows[0]?.schema;
  if (schema === undefined) throw new Error('no current schema');
  const partial = `${destination}.partial`;
  rmSync(partial, { force: true });
  await run(
    'pg_dump',
    ['--format=custom', `--schema=${schema}`, '--no-owner', `--file=${partial}`],
    libpqEnvironment(databaseUrl),
  );
  fsyncPath(partial);
  renameSync(partial, destination);
  fsyncPath(dirname(destination));
  return { location: destination, sizeBytes: statSync(destination).size };
}

/** Reads the whole archive back through pg_restore and counts the rows of every table in it. */
export async function verifyPostgres(location: string): Promise<Verification> {
  const counts: Record<string, number> = {};
  let table: string | undefined;
  try {
    await run('pg_restore', ['--list', location], {});
    await run('pg_restore', ['--data-only', '--file=-', location], {}, (line) => {
      if (table === undefined) {
        const copy = /^COPY (?:"?[\w$]+"?\.)?"?([\w$]+)"? .* FROM stdin;$/.exec(line);
        if (copy?.[1] !== undefined) {
          table = copy[1];
          counts[table] = 0;
        }
      } else if (line === '\\.') table = undefined;
      else counts[table] = (counts[table] ?? 0) + 1;
    });
    if (Object.keys(counts).length === 0) return { ok: false, counts, error: 'the archive holds no table data' };
    return { ok: true, counts };
  } catch (error) {
    return { ok: false, counts, error: error instanceof Error ? error.message : String(error) };
  }
}

/** Replaces the schema's objects with the archive's, in one transaction (all or nothing). */
export async function restorePostgres(location: string, databaseUrl: string): Promise<void> {
  await run(
    'pg_restore',
    [
      '--clean',
      '--if-exists',
      '--no-owner',
      '--single-transaction',
      '--exit-on-error',
      `--dbname=${new URL(databaseUrl).pathname.slice(1) || 'postgres'}`,
      location,
    ],
    libpqEnvironment(databaseUrl),
  );
}

function fsyncPath(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
