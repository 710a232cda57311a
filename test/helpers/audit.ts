// What the audit-chain tests share: a plain test-mode audit entry about one object, and a database
// migrated to the latest schema on which the schema's owner may tamper with sealed rows.
import { sql } from 'kysely';
import type { AuditEntry } from '../../src/audit/audit.ts';
import { type DatabaseHandle, openDatabase } from '../../src/db/database.ts';
import { migrateToLatest } from '../../src/db/migrate.ts';

export const auditEntry = (objectId: string, details: Record<string, unknown> = {}): AuditEntry => ({
  mode: 'test',
  actorType: 'system',
  actorId: null,
  action: 'x.done',
  objectType: 'x',
  objectId,
  details,
});

/**
 * The tampering in these tests is done as the schema's owner, who can switch off the guard that
 * stops the gateway's role from changing sealed rows (grants.test.ts): what verify must then find.
 */
export async function allowOwnerTampering(database: DatabaseHandle): Promise<void> {
  if (database.dialect.name === 'postgres')
    await sql`alter table audit_log disable trigger audit_log_seal_once`.execute(database.db);
}

/** A database at the latest schema, with owner tampering allowed. */
export async function tamperableAuditDatabase(url: string): Promise<DatabaseHandle> {
  const database = openDatabase(url, { poolSize: 4 });
  await migrateToLatest(database);
  await allowOwnerTampering(database);
  return database;
}
