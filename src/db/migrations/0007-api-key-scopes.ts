import { sql, type Kysely } from 'kysely';

// API-4: each key carries its scopes (space-separated, see src/keys/scopes.ts). Keys that existed
// before keep exactly what they could do then (LEGACY_SCOPES, written out here so that a later
// change to that constant cannot change what this migration did).
const LEGACY =
  'payments:read payments:write webhook_endpoints:read webhook_endpoints:write events:read events:write banks:read accounts:resolve';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('api_keys')
    .addColumn('scopes', 'text', (c) => c.notNull().defaultTo(''))
    .execute();
  await sql`update api_keys set scopes = ${LEGACY}`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('api_keys').dropColumn('scopes').execute();
}
