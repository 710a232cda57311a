import { sql, type Kysely } from 'kysely';
import { MODE_CHAINS, auditRowHash, chainOf, GENESIS_HASH } from '../../audit/chain.ts';
import type { AuditLogTable, Database } from '../schema.ts';

// LOG-4: the audit log becomes a hash chain per mode (src/audit/chain.ts), with signed
// checkpoints and a record of archived ranges. Rows written before this migration join their
// chain here, in the order they were written (time, then id).
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('audit_log')
    .addColumn('chain', 'text', (c) => c.notNull().defaultTo('global'))
    .execute();
  await db.schema
    .alterTable('audit_log')
    .addColumn('seq', 'bigint', (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema
    .alterTable('audit_log')
    .addColumn('prev_hash', 'text', (c) => c.notNull().defaultTo(''))
    .execute();
  await db.schema
    .alterTable('audit_log')
    .addColumn('hash', 'text', (c) => c.notNull().defaultTo(''))
    .execute();

  const typed = db as unknown as Kysely<Database>;
  const heads = new Map<string, { seq: number; hash: string }>(
    MODE_CHAINS.map((c) => [c, { seq: 0, hash: GENESIS_HASH }]),
  );
  // Keyset pages, so a large existing log is chained without holding it all in memory.
  let after: { created_at: number; id: string } | undefined;
  for (;;) {
    let query = typed.selectFrom('audit_log').selectAll().orderBy('created_at').orderBy('id').limit(500);
    if (after !== undefined) {
      const { created_at, id } = after;
      query = query.where((eb) =>
        eb.or([eb('created_at', '>', created_at), eb.and([eb('created_at', '=', created_at), eb('id', '>', id)])]),
      );
    }
    const rows = await query.execute();
    if (rows.length === 0) break;
    for (const row of rows) {
      const chain = chainOf(row.mode);
      const head = heads.get(chain) ?? { seq: 0, hash: GENESIS_HASH };
      const unhashed: AuditLogTable = { ...row, chain, seq: head.seq + 1, prev_hash: head.hash, hash: '' };
      const hash = auditRowHash(unhashed);
      await typed
        .updateTable('audit_log')
        .set({ chain, seq: unhashed.seq, prev_hash: head.hash, hash })
        .where('id', '=', row.id)
        .execute();
      heads.set(chain, { seq: unhashed.seq, hash });
    }
    const last = rows[rows.length - 1]!;
    after = { created_at: last.created_at, id: last.id };
  }

  await db.schema.createIndex('audit_log_chain_seq').on('audit_log').columns(['chain', 'seq']).unique().execute();
  await db.schema
    .createTable('audit_chain_heads')
    .addColumn('chain', 'text', (c) => c.primaryKey())
    .addColumn('seq', 'bigint', (c) => c.notNull())
    .addColumn('hash', 'text', (c) => c.notNull())
    .execute();
  for (const [chain, head] of heads)
    await sql`insert into audit_chain_heads (chain, seq, hash) values (${chain}, ${head.seq}, ${head.hash})`.execute(
      db,
    );

  await db.schema
    .createTable('audit_checkpoints')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('chain', 'text', (c) => c.notNull())
    .addColumn('seq', 'bigint', (c) => c.notNull())
    .addColumn('hash', 'text', (c) => c.notNull())
    .addColumn('signed_at', 'bigint', (c) => c.notNull())
    .addColumn('key_id', 'text', (c) => c.notNull())
    .addColumn('signature', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('audit_checkpoints_chain_seq')
    .on('audit_checkpoints')
    .columns(['chain', 'seq'])
    .execute();

  await db.schema
    .createTable('audit_archives')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('chain', 'text', (c) => c.notNull())
    .addColumn('from_seq', 'bigint', (c) => c.notNull())
    .addColumn('to_seq', 'bigint', (c) => c.notNull())
    .addColumn('first_prev_hash', 'text', (c) => c.notNull())
    .addColumn('last_hash', 'text', (c) => c.notNull())
    .addColumn('file_name', 'text', (c) => c.notNull())
    .addColumn('file_sha256', 'text', (c) => c.notNull())
    .addColumn('row_count', 'bigint', (c) => c.notNull())
    .addColumn('newest_created_at', 'bigint', (c) => c.notNull())
    .addColumn('archived_at', 'bigint', (c) => c.notNull())
    .addColumn('expired_at', 'bigint')
    .execute();
  await db.schema
    .createIndex('audit_archives_chain_seq')
    .on('audit_archives')
    .columns(['chain', 'to_seq'])
    .unique()
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('audit_archives').execute();
  await db.schema.dropTable('audit_checkpoints').execute();
  await db.schema.dropTable('audit_chain_heads').execute();
  await db.schema.dropIndex('audit_log_chain_seq').execute();
  for (const column of ['hash', 'prev_hash', 'seq', 'chain'])
    await db.schema.alterTable('audit_log').dropColumn(column).execute();
}
