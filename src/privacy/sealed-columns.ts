// Every column sealed with the payload keys (system-keys.ts), with the associated data that binds
// each value to its row: what a payload-key rotation re-seals, and what `retire` counts before it
// lets a payload key go. A column added here is rotated and counted with no other change.
import { type RawBuilder, sql } from 'kysely';
import type { DbOrTx } from '../db/schema.ts';

export interface SealedColumn {
  readonly table: string;
  readonly column: string;
  /** The primary key's columns, in order. */
  readonly key: readonly string[];
  /** The associated data of the row with these key values. */
  context(key: readonly string[]): string;
}

/** The beneficiary's personal fields (the account number is sealed apart, by the field cipher). */
export const BENEFICIARY_SEALED_FIELDS = ['account_name', 'given_name', 'email', 'metadata_json'] as const;
export const beneficiaryContext = (column: string, id: string) => `beneficiaries.${column}:${id}`;

export const BENEFICIARY_COLUMNS: readonly SealedColumn[] = BENEFICIARY_SEALED_FIELDS.map((column) => ({
  table: 'beneficiaries',
  column,
  key: ['id'],
  context: ([id]: readonly string[]) => beneficiaryContext(column, id ?? ''),
}));

export const PAYLOAD_SEALED_COLUMNS: readonly SealedColumn[] = [
  { table: 'provider_webhooks', column: 'body', key: ['id'], context: ([id]) => `provider_webhooks.body:${id}` },
  {
    table: 'idempotency_keys',
    column: 'response_body',
    key: ['api_key_id', 'idem_key'],
    context: ([apiKeyId, idemKey]) => `idempotency_keys.response_body:${apiKeyId}:${idemKey}`,
  },
  ...BENEFICIARY_COLUMNS,
];

export const columnLabel = (c: SealedColumn) => `${c.table}.${c.column}`;

/** What every value sealed with this payload key starts with; `SEALED` what every sealed value starts with. */
export const sealedWith = (keyId: string) => `s1.${keyId}.`;
export const SEALED = 's1.';

function startsWith(column: string, prefix: string): RawBuilder<boolean> {
  return sql<boolean>`substr(${sql.ref(column)}, 1, ${prefix.length}) = ${prefix}`;
}

/** How many values start with the prefix (`sealedWith(keyId)`: sealed by that key). */
export async function countSealedWith(db: DbOrTx, c: SealedColumn, prefix: string): Promise<number> {
  const { rows } = await sql<{ n: number | string }>`select count(*) as n from ${sql.table(c.table)}
    where ${startsWith(c.column, prefix)}`.execute(db);
  return Number(rows[0]?.n ?? 0);
}

/** How many values do not start with the prefix (other keys, or stored in the clear). */
export async function countNotSealedWith(db: DbOrTx, c: SealedColumn, prefix: string): Promise<number> {
  const { rows } = await sql<{ n: number | string }>`select count(*) as n from ${sql.table(c.table)}
    where ${sql.ref(c.column)} is not null and not ${startsWith(c.column, prefix)}`.execute(db);
  return Number(rows[0]?.n ?? 0);
}

export interface SealedValue {
  readonly key: readonly string[];
  readonly value: string;
}

/** The next rows after `after` (key order) whose value does not start with the prefix. */
export async function nextNotSealedWith(
  db: DbOrTx,
  c: SealedColumn,
  prefix: string,
  after: readonly string[] | undefined,
  limit: number,
): Promise<SealedValue[]> {
  const keys = sql.join(c.key.map((k) => sql.ref(k)));
  const past = after === undefined ? sql`1 = 1` : sql`(${keys}) > (${sql.join(after.map((v) => sql`${v}`))})`;
  const { rows } = await sql<Record<string, string>>`select ${keys}, ${sql.ref(c.column)} as sealed_value
    from ${sql.table(c.table)}
    where ${sql.ref(c.column)} is not null and not ${startsWith(c.column, prefix)} and ${past}
    order by ${keys} limit ${limit}`.execute(db);
  return rows.map((r) => ({ key: c.key.map((k) => String(r[k])), value: String(r.sealed_value) }));
}

/** Replaces the value only if it is still the one read: a concurrent change (an erasure) wins. */
export async function replaceSealed(db: DbOrTx, c: SealedColumn, row: SealedValue, next: string): Promise<boolean> {
  const match = sql.join(
    c.key.map((k, i) => sql`${sql.ref(k)} = ${row.key[i]}`),
    sql` and `,
  );
  const result = await sql`update ${sql.table(c.table)} set ${sql.ref(c.column)} = ${next}
    where ${match} and ${sql.ref(c.column)} = ${row.value}`.execute(db);
  return Number(result.numAffectedRows ?? 0n) === 1;
}

/**
 * Seals, in batches, every value of these columns still stored in the clear (written before the
 * column was sealed): what a start runs for beneficiaries, so existing rows are sealed without a
 * step by the operator. Compare-and-set, so it is safe with several processes starting at once.
 */
export async function sealInTheClear(
  db: DbOrTx,
  keys: { seal(plaintext: string, associatedData: string): string },
  columns: readonly SealedColumn[],
  batchSize = 500,
): Promise<number> {
  let sealed = 0;
  for (const c of columns) {
    let after: readonly string[] | undefined;
    for (;;) {
      const rows = await nextNotSealedWith(db, c, SEALED, after, batchSize);
      if (rows.length === 0) break;
      for (const row of rows)
        if (await replaceSealed(db, c, row, keys.seal(row.value, c.context(row.key)))) sealed += 1;
      after = rows.at(-1)!.key;
    }
  }
  return sealed;
}
