// Test support for this folder: bare operator rows for storage tests (the operator tables come
// with the regular migrations, so `openTestDatabase` gives a ready database).
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import { operatorObjectId } from './ids.ts';
import { operatorDb, type OperatorsTable } from './schema.ts';

/** A bare operator row for storage tests that need one to exist (no usable password). */
export async function insertTestOperator(
  db: Kysely<Database>,
  overrides: Partial<OperatorsTable> = {},
): Promise<string> {
  const id = overrides.id ?? operatorObjectId('op');
  await operatorDb(db)
    .insertInto('operators')
    .values({
      id,
      email: `${id.toLowerCase()}@example.test`,
      name: 'Test Operator',
      role: 'viewer',
      password_hash: 'not-a-hash',
      password_history_json: '[]',
      totp_sealed: null,
      totp_enabled_at: null,
      totp_last_step: null,
      failed_attempts: 0,
      locked_until: null,
      disabled_at: null,
      created_at: 0,
      updated_at: 0,
      ...overrides,
    })
    .execute();
  return id;
}
