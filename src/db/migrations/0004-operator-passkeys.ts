import type { Kysely } from 'kysely';

// Passkeys (WebAuthn) as a second factor (OPS-3). Only public keys are stored; the signature
// counter is kept to notice a cloned authenticator. Each WebAuthn challenge is single use and
// bound to what it was issued for: a sign-in challenge (login) or a session (registration).
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('operator_passkeys')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('operator_id', 'text', (c) => c.notNull())
    .addColumn('credential_id', 'text', (c) => c.notNull().unique())
    .addColumn('public_key', 'text', (c) => c.notNull())
    .addColumn('counter', 'bigint', (c) => c.notNull())
    .addColumn('transports_json', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('last_used_at', 'bigint')
    .execute();
  await db.schema.createIndex('operator_passkeys_operator').on('operator_passkeys').column('operator_id').execute();

  await db.schema
    .createTable('operator_webauthn_challenges')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('operator_id', 'text', (c) => c.notNull())
    .addColumn('purpose', 'text', (c) => c.notNull())
    .addColumn('bound_to', 'text', (c) => c.notNull())
    .addColumn('challenge', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addColumn('used_at', 'bigint')
    .execute();
  await db.schema
    .createIndex('operator_webauthn_challenges_bound')
    .on('operator_webauthn_challenges')
    .column('bound_to')
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('operator_webauthn_challenges').execute();
  await db.schema.dropTable('operator_passkeys').execute();
}
