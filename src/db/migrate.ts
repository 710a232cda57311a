import { Migrator, sql, type Kysely, type Migration, type MigrationProvider, type MigrationResultSet } from 'kysely';
import type { DialectName } from './dialect.ts';
import * as initial from './migrations/0001-initial.ts';
import * as operators from './migrations/0002-operators.ts';
import * as auditRequestMeta from './migrations/0003-audit-request-meta.ts';
import * as operatorPasskeys from './migrations/0004-operator-passkeys.ts';
import * as payouts from './migrations/0006-payouts.ts';
import * as apiKeyScopes from './migrations/0007-api-key-scopes.ts';
import * as apiKeyLifecycle from './migrations/0007b-api-key-lifecycle.ts';
import * as auditChain from './migrations/0008-audit-chain.ts';
import * as receiptKeys from './migrations/0008b-receipt-keys.ts';
import * as backupRuns from './migrations/0010-backup-runs.ts';
import * as incidents from './migrations/0010b-incidents.ts';
import * as scheduledRuns from './migrations/0011-scheduled-runs.ts';
import * as personalData from './migrations/0012-personal-data.ts';
import * as paymentFees from './migrations/0013-payment-fees.ts';
import * as payoutControls from './migrations/0014-payout-controls.ts';
import * as payoutBatches from './migrations/0015-payout-batches.ts';
import * as keysAtRest from './migrations/0016-keys-at-rest.ts';
import * as auditLanes from './migrations/0017-audit-lanes.ts';
import * as customerKeyVersions from './migrations/0018-customer-key-versions.ts';
import * as auditSealer from './migrations/0019-audit-sealer.ts';
import * as auditPositionIndex from './migrations/0020-audit-position-index.ts';
import * as checkoutClaims from './migrations/0021-checkout-claims.ts';

// Migrations are listed in code rather than read from a folder, so they work the same from a
// source checkout, an npm install and a bundled build.
const MIGRATIONS: Record<string, Migration> = {
  '0001-initial': initial,
  '0002-operators': operators,
  '0003-audit-request-meta': auditRequestMeta,
  '0004-operator-passkeys': operatorPasskeys,
  '0006-payouts': payouts,
  '0007-api-key-scopes': apiKeyScopes,
  '0007b-api-key-lifecycle': apiKeyLifecycle,
  '0008-audit-chain': auditChain,
  '0008b-receipt-keys': receiptKeys,
  '0010-backup-runs': backupRuns,
  '0010b-incidents': incidents,
  '0011-scheduled-runs': scheduledRuns,
  '0012-personal-data': personalData,
  '0013-payment-fees': paymentFees,
  '0014-payout-controls': payoutControls,
  '0015-payout-batches': payoutBatches,
  '0016-keys-at-rest': keysAtRest,
  '0017-audit-lanes': auditLanes,
  '0018-customer-key-versions': customerKeyVersions,
  '0019-audit-sealer': auditSealer,
  '0020-audit-position-index': auditPositionIndex,
  '0021-checkout-claims': checkoutClaims,
};

/** Every migration, in the order they run. */
export const MIGRATION_NAMES: readonly string[] = Object.keys(MIGRATIONS).sort();

const provider: MigrationProvider = { getMigrations: async () => MIGRATIONS };

// biome-ignore lint/suspicious/noExplicitAny: Kysely's own driver and migrator interfaces are typed Kysely<any>
export async function migrateToLatest(handle: { db: Kysely<any>; dialect: { name: DialectName } }): Promise<string[]> {
  return migrate(handle, (migrator) => migrator.migrateToLatest());
}

// biome-ignore lint/suspicious/noExplicitAny: Kysely's own driver and migrator interfaces are typed Kysely<any>
type MigratableHandle = { db: Kysely<any>; dialect: { name: DialectName } };

/** Runs the migrations up to and including `name` (tests build databases as an older release left them). */
export async function migrateUpTo(handle: MigratableHandle, name: string): Promise<string[]> {
  return migrate(handle, (migrator) => migrator.migrateTo(name));
}

async function migrate(
  handle: MigratableHandle,
  run: (migrator: Migrator) => Promise<MigrationResultSet>,
): Promise<string[]> {
  const { db } = handle;
  // Kysely looks for its bookkeeping tables in every schema it can see; on PostgreSQL, pin them to
  // the schema we actually write to, or a database shared by several deployments (or test schemas)
  // would find another one's tables.
  const schema =
    handle.dialect.name === 'postgres'
      ? (await sql<{ schema: string }>`select current_schema() as schema`.execute(db)).rows[0]?.schema
      : undefined;
  const migrator = new Migrator({
    db,
    provider,
    migrationTableName: 'paywarden_migrations',
    migrationLockTableName: 'paywarden_migrations_lock',
    // Numbers are handed out to work landing in parallel, so a database may have run 0010 before
    // 0008 exists; each migration touches its own tables, so a later-landing lower number still runs.
    allowUnorderedMigrations: true,
    ...(schema === undefined ? {} : { migrationTableSchema: schema }),
  });
  // Kysely's table look-ups before migrating read only our own schema (own-schema-introspector.ts),
  // so schemas dropped around us by other deployments or test files cannot fail this.
  const { error, results } = await run(migrator);
  if (error !== undefined) throw error instanceof Error ? error : new Error(String(error));
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
