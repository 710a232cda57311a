// `paywarden backup` and `paywarden restore`.
import { existsSync } from 'node:fs';
import { systemClock } from '../clock.ts';
import type { Config } from '../config/config.ts';
import { isPostgresUrl, openDatabase, type DatabaseHandle } from '../db/database.ts';
import { migrateToLatest } from '../db/migrate.ts';
import { openKeysAtRest } from '../privacy/keys-at-rest.ts';
import { customerDataFor } from './customers.ts';
import { restoreBackup, runBackup } from '../backup/backup-service.ts';

export async function backupFromCli(config: Config, database: DatabaseHandle, directory: string): Promise<number> {
  const outcome = await runBackup({ database, databaseUrl: config.databaseUrl, clock: systemClock }, directory);
  const counts = Object.entries(outcome.verification.counts)
    .filter(([table]) => ['payments', 'provider_webhooks', 'events', 'audit_log'].includes(table))
    .map(([table, n]) => `${table} ${n}`)
    .join(', ');
  if (!outcome.verification.ok) {
    console.error(
      `Backup ${outcome.id} written to ${outcome.location} but it does NOT verify: ${outcome.verification.error}`,
    );
    return 1;
  }
  console.log(`Backup ${outcome.id}: ${outcome.location} (${outcome.sizeBytes} bytes), verified: ${counts}`);
  return 0;
}

export async function restoreFromCli(config: Config, file: string, force: boolean): Promise<number> {
  if (!existsSync(file)) {
    console.error(`No backup at ${file}`);
    return 2;
  }
  const dialect = isPostgresUrl(config.databaseUrl) ? 'postgres' : 'sqlite';
  if (dialect === 'sqlite' && existsSync(config.databaseUrl) && !force) {
    console.error(
      `${config.databaseUrl} exists. Stop the gateway, then run again with --force to replace it with the backup.`,
    );
    return 2;
  }
  const verification = await restoreBackup(dialect, file, config.databaseUrl);
  if (!verification.ok) {
    console.error(`Not restored: ${file} does not verify (${verification.error}).`);
    return 1;
  }
  console.log(
    `Restored ${file} into ${dialect === 'sqlite' ? config.databaseUrl : 'the configured PostgreSQL schema'}.`,
  );
  const reapplied = await reapplyErasuresAfterRestore(config);
  console.log(
    reapplied === 0
      ? `No erasure in ${config.erasureJournalPath} is missing from the backup.`
      : `Re-applied ${reapplied} erasure(s) made after the backup was taken (from ${config.erasureJournalPath}).`,
  );
  return 0;
}

/** The erasures made since the backup, applied again before anything serves the restored data. */
async function reapplyErasuresAfterRestore(config: Config): Promise<number> {
  const database = openDatabase(config.databaseUrl);
  try {
    await migrateToLatest(database);
    const keys = await openKeysAtRest({
      db: database.db,
      masterKey: config.masterKey,
      previousMasterKeys: config.previousMasterKeys,
      clock: systemClock,
    });
    const customers = await customerDataFor(keys, database.db, config.erasureJournalPath);
    return (await customers.reapplyErasures()).length;
  } finally {
    await database.close();
  }
}
