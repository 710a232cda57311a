import { sql, type Kysely } from 'kysely';

// API-1, API-3, API-5, API-6: the rest of an API key's life (src/keys/).
// - kind: 'secret' (sk_) or 'publishable' (pk_, browser-safe, one scope).
// - expires_at becomes mandatory in practice: keys made before expiry existed get the default 90
//   days from this migration, with the usual warnings 14, 7 and 1 days ahead, rather than dying at
//   once or living for ever.
// - rolled_to: the key that replaced this one (`keys roll`); this one works until its expires_at.
// - expiry_warned_days: the last warning threshold logged (14, 7, 1), so that each is logged once
//   even with several gateway processes.
// - signing_secret_sealed: the HMAC secret of a key that signs its requests, AES-256-GCM sealed
//   under the master key (the server must read it back to verify, so it cannot be a hash).
// - allowed_networks: comma-separated addresses and CIDR ranges; empty means anywhere.
// - request_signatures: each accepted signature once, until its timestamp leaves the window.
// - payments.client_secret_hash: the keyed hash of the client secret a publishable key presents.
const NINETY_DAYS_MS = 90 * 86_400_000;

export async function up(db: Kysely<unknown>): Promise<void> {
  const alter = () => db.schema.alterTable('api_keys');
  await alter()
    .addColumn('kind', 'text', (c) => c.notNull().defaultTo('secret'))
    .execute();
  await alter().addColumn('rolled_to', 'text').execute();
  await alter().addColumn('expiry_warned_days', 'integer').execute();
  await alter().addColumn('signing_secret_sealed', 'text').execute();
  await alter()
    .addColumn('allowed_networks', 'text', (c) => c.notNull().defaultTo(''))
    .execute();
  await sql`update api_keys set expires_at = ${Date.now() + NINETY_DAYS_MS} where expires_at is null`.execute(db);

  await db.schema
    .createTable('request_signatures')
    .addColumn('api_key_id', 'text', (c) => c.notNull())
    .addColumn('signature', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('request_signatures_pk', ['api_key_id', 'signature'])
    .execute();
  await db.schema.createIndex('request_signatures_expires').on('request_signatures').column('expires_at').execute();

  await db.schema.alterTable('payments').addColumn('client_secret_hash', 'text').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('payments').dropColumn('client_secret_hash').execute();
  await db.schema.dropTable('request_signatures').execute();
  for (const column of ['allowed_networks', 'signing_secret_sealed', 'expiry_warned_days', 'rolled_to', 'kind'])
    await db.schema.alterTable('api_keys').dropColumn(column).execute();
}
