import { sql, type Kysely } from 'kysely';

// Audit lanes (issue 14, src/audit/chain.ts): each mode's chain becomes lane 0 of 16 lanes, each
// a chain with its own head row, so transactions on different objects no longer queue behind one
// head row lock. Existing rows, heads, checkpoints and archives stay valid as lane 0 (its name is
// the old chain's). Checkpoints signed together for all lanes of a mode share a set_id. The lane
// names are written out here, not read from the code, so this migration never changes.
const MODES = ['test', 'live', 'global'];
const LANES = 16;
const GENESIS_HASH = '0'.repeat(64);

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const mode of MODES)
    for (let lane = 1; lane < LANES; lane += 1)
      await sql`insert into audit_chain_heads (chain, seq, hash) values (${`${mode}.${lane}`}, 0, ${GENESIS_HASH})`.execute(
        db,
      );
  await db.schema.alterTable('audit_checkpoints').addColumn('set_id', 'text').execute();
  await db.schema.createIndex('audit_checkpoints_set').on('audit_checkpoints').column('set_id').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('audit_checkpoints_set').execute();
  await db.schema.alterTable('audit_checkpoints').dropColumn('set_id').execute();
  await sql`delete from audit_chain_heads where chain like '%.%'`.execute(db);
}
