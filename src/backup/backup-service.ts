// `paywarden backup` and `paywarden restore`: one consistent copy, opened and checked before it is
// recorded as verified (backup_runs), so `paywarden doctor` can report the last verified backup.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Clock } from '../clock.ts';
import type { DatabaseHandle } from '../db/database.ts';
import type { DialectName } from '../db/dialect.ts';
import { newId } from '../ids.ts';
import { backupPostgres, restorePostgres, verifyPostgres } from './postgres-backup.ts';
import { backupSqlite, restoreSqlite, verifySqlite } from './sqlite-backup.ts';
import type { BackupCopy, Verification } from './types.ts';

interface BackupStrategy {
  readonly extension: string;
  copy(handle: DatabaseHandle, databaseUrl: string, destination: string): Promise<BackupCopy>;
  verify(location: string): Promise<Verification>;
  restore(location: string, databaseUrl: string): Promise<void>;
}

const STRATEGIES: Readonly<Record<DialectName, BackupStrategy>> = {
  sqlite: {
    extension: 'sqlite',
    copy: (handle, _url, destination) => backupSqlite(handle, destination),
    verify: async (location) => verifySqlite(location),
    restore: async (location, url) => restoreSqlite(location, url),
  },
  postgres: {
    extension: 'dump',
    copy: backupPostgres,
    verify: verifyPostgres,
    restore: restorePostgres,
  },
};

/** The tables without which a copy cannot be a Paywarden backup. */
export const ESSENTIAL_TABLES = ['payments', 'provider_webhooks', 'events', 'jobs', 'audit_log', 'api_keys'] as const;

export interface BackupOutcome {
  readonly id: string;
  readonly location: string;
  readonly sizeBytes: number;
  readonly verification: Verification;
}

export interface BackupDeps {
  readonly database: DatabaseHandle;
  readonly databaseUrl: string;
  readonly clock: Clock;
}

export async function runBackup(deps: BackupDeps, directory: string): Promise<BackupOutcome> {
  const strategy = STRATEGIES[deps.database.dialect.name];
  const id = newId('bak');
  const startedAt = deps.clock.nowMs();
  mkdirSync(directory, { recursive: true, mode: 0o700 });
  const stamp = new Date(startedAt).toISOString().replace(/[:.]/g, '-');
  const copy = await strategy.copy(
    deps.database,
    deps.databaseUrl,
    join(directory, `paywarden-${stamp}-${id}.${strategy.extension}`),
  );
  const verification = withEssentialTables(await strategy.verify(copy.location));
  await deps.database.db
    .insertInto('backup_runs')
    .values({
      id,
      dialect: deps.database.dialect.name,
      location: copy.location,
      started_at: startedAt,
      finished_at: deps.clock.nowMs(),
      size_bytes: copy.sizeBytes,
      verified: verification.ok ? 'yes' : 'no',
      counts_json: JSON.stringify(verification.counts),
      error: verification.error ?? null,
    })
    .execute();
  return { id, location: copy.location, sizeBytes: copy.sizeBytes, verification };
}

/** Checks a backup file (the same check as after `backup`) without touching any database. */
export async function verifyBackup(dialect: DialectName, location: string): Promise<Verification> {
  return withEssentialTables(await STRATEGIES[dialect].verify(location));
}

/** Verifies the copy first: a restore never starts from a file that does not open whole. */
export async function restoreBackup(
  dialect: DialectName,
  location: string,
  databaseUrl: string,
): Promise<Verification> {
  const verification = await verifyBackup(dialect, location);
  if (!verification.ok) return verification;
  await STRATEGIES[dialect].restore(location, databaseUrl);
  return verification;
}

function withEssentialTables(verification: Verification): Verification {
  if (!verification.ok) return verification;
  const missing = ESSENTIAL_TABLES.filter((t) => verification.counts[t] === undefined);
  return missing.length === 0
    ? verification
    : { ...verification, ok: false, error: `tables missing: ${missing.join(', ')}` };
}

export async function latestVerifiedBackup(
  database: DatabaseHandle,
): Promise<{ finishedAt: number; location: string } | undefined> {
  const row = await database.db
    .selectFrom('backup_runs')
    .select(['finished_at', 'location'])
    .where('verified', '=', 'yes')
    .orderBy('finished_at', 'desc')
    .limit(1)
    .executeTakeFirst();
  return row === undefined ? undefined : { finishedAt: row.finished_at, location: row.location };
}
