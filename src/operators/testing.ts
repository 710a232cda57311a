// Test support for this folder: a migrated test database with the operator tables added. Once the
// lead registers 0002-operators in src/db/migrate.ts, `openTestDatabase` alone will do, and the
// extra `up` here becomes a no-op guarded by the table check.
import { sql } from 'kysely';
import { openTestDatabase, type TestDialect } from '../../test/helpers/databases.ts';
import { up } from '../db/migrations/0002-operators.ts';
import type { Database } from '../db/schema.ts';
import type { Kysely } from 'kysely';
import { operatorObjectId } from './ids.ts';
import { operatorDb, type OperatorsTable } from './schema.ts';

export async function openOperatorTestDatabase(dialect: TestDialect): ReturnType<typeof openTestDatabase> {
  const database = await openTestDatabase(dialect);
  const present = await sql<{ n: number }>`select count(*) as n from operators`.execute(database.db).then(
    () => true,
    () => false,
  );
  if (!present) await up(database.db as unknown as Kysely<unknown>);
  return database;
}

/** A bare operator row for storage tests that need one to exist (no usable password). */
export async function insertTestOperator(db: Kysely<Database>, overrides: Partial<OperatorsTable> = {}): Promise<string> {
  const id = overrides.id ?? operatorObjectId('op');
  await operatorDb(db)
    .insertInto('operators')
    .values({ id, email: `${id.toLowerCase()}@example.test`, name: 'Test Operator', role: 'viewer', password_hash: 'not-a-hash', password_history_json: '[]', totp_sealed: null, totp_enabled_at: null, totp_last_step: null, failed_attempts: 0, locked_until: null, disabled_at: null, created_at: 0, updated_at: 0, ...overrides })
    .execute();
  return id;
}
