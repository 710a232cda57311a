import { sql, type Kysely } from 'kysely';
import { lanesClosedRow } from '../../audit/chain.ts';
import { auditSchemaStrategy } from '../dialect.ts';
import type { Database } from '../schema.ts';

// One chain per mode again, sealed after commit (issue 12 §5, src/audit/sealer.ts). Audit rows are
// now written unsealed (seq 0, empty hashes: the columns' defaults since 0008) with an insertion
// position from the database; the sealer numbers and hashes them into their mode's chain later.
// The mode's chain keeps its name (`test`, `live`, `global`: lane 0 of 0017, the chain of 0008), so
// its history continues; lanes 1-15 are frozen. Where any of them holds rows, one sealed row
// (action `audit.lanes_closed`) is appended to the mode's chain naming every lane's head, so no
// lane can be cut or extended afterwards without `verify` noticing. The lane names are written out
// here, not read from the code, so this migration never changes.
const MODES = [
  { chain: 'test', mode: 'test' },
  { chain: 'live', mode: 'live' },
  { chain: 'global', mode: null },
] as const;
const LANES = 16;

export async function up(db: Kysely<unknown>): Promise<void> {
  await auditSchemaStrategy(db).up(db);
  // Unsealed rows all have seq 0: the chain's numbering is unique among sealed rows only.
  await db.schema.dropIndex('audit_log_chain_seq').execute();
  await db.schema
    .createIndex('audit_log_chain_seq')
    .on('audit_log')
    .columns(['chain', 'seq'])
    .unique()
    .where(sql.ref('seq'), '>', 0)
    .execute();
  // What the sealer reads: few rows at any time, so a small index.
  await db.schema
    .createIndex('audit_log_unsealed')
    .on('audit_log')
    .columns(['chain', 'position'])
    .where(sql.ref('seq'), '=', 0)
    .execute();

  const typed = db as unknown as Kysely<Database>;
  for (const { chain, mode } of MODES) {
    const lanes = Array.from({ length: LANES - 1 }, (_, i) => `${chain}.${i + 1}`);
    const heads = await typed
      .selectFrom('audit_chain_heads')
      .select(['chain', 'seq', 'hash'])
      .where('chain', 'in', [chain, ...lanes])
      .execute();
    const headOf = (name: string) =>
      heads.find((h) => h.chain === name) ?? { chain: name, seq: 0, hash: '0'.repeat(64) };
    if (lanes.every((lane) => Number(headOf(lane).seq) === 0)) continue;
    const head = headOf(chain);
    const row = lanesClosedRow({
      mode,
      chain,
      seq: Number(head.seq) + 1,
      prevHash: head.hash,
      lanes: lanes.map((lane) => [lane, Number(headOf(lane).seq), headOf(lane).hash] as const),
      nowMs: Date.now(),
    });
    await typed.insertInto('audit_log').values(row).execute();
    await typed
      .updateTable('audit_chain_heads')
      .set({ seq: row.seq, hash: row.hash })
      .where('chain', '=', chain)
      .execute();
  }
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('audit_log_unsealed').execute();
  await db.schema.dropIndex('audit_log_chain_seq').execute();
  await db.schema.createIndex('audit_log_chain_seq').on('audit_log').columns(['chain', 'seq']).unique().execute();
  await auditSchemaStrategy(db).down(db);
}
