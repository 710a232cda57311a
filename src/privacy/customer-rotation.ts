// What a rotation of customers' data keys works on (issue 12 §3): the customers in its scope (a
// mode, or one customer), and every value sealed with their keys that is not under their current
// version: payments' four personal fields and the events about them. The version is read from the
// ciphertext itself (`p2.<version>.`; `p1.` is version 1), compared in SQL with the customer's
// `key_version`, so nothing beside the sealed value can disagree with it.
import { type RawBuilder, sql } from 'kysely';
import type { DbOrTx, Mode } from '../db/schema.ts';
import type { CustomerKeys } from './customer-keys.ts';
import { eventDataContext, PAYMENT_SEALED_FIELDS, paymentFieldContext } from './privacy-service.ts';
import { openVersioned, sealVersioned } from './seal.ts';

export type CustomerScope = { readonly mode: Mode } | { readonly customerId: string };

/** `test`, `live` or a customer id (`cus_...`), as the command line and `key_rotations.scope` spell it. */
export function parseCustomerScope(text: string): CustomerScope | undefined {
  if (text === 'test' || text === 'live') return { mode: text };
  return /^cus_[0-9A-Za-z]{22}$/.test(text) ? { customerId: text } : undefined;
}
export const customerScopeName = (scope: CustomerScope) => ('mode' in scope ? scope.mode : scope.customerId);

function inScope(scope: CustomerScope): RawBuilder<boolean> {
  return 'mode' in scope ? sql<boolean>`c.mode = ${scope.mode}` : sql<boolean>`c.id = ${scope.customerId}`;
}

// Constant SQL: the customer's current header, `p2.<key_version>.`.
const CURRENT_HEADER = sql`('p2.' || cast(c.key_version as text) || '.')`;
const notUnderCurrent = (column: string) =>
  sql<boolean>`substr(${sql.ref(column)}, 1, length(${CURRENT_HEADER})) <> ${CURRENT_HEADER}`;
const sealedWithCustomerKey = (column: string) =>
  sql<boolean>`(substr(${sql.ref(column)}, 1, 3) = 'p1.' or substr(${sql.ref(column)}, 1, 3) = 'p2.')`;

/** The tables whose values a customer rotation re-seals; `column` is one every sealed row has. */
const TABLES = [
  { table: 'payments', alias: 'p', column: 'p.customer_email' },
  { table: 'events', alias: 'e', column: 'e.data_json' },
] as const;
export type CustomerSealedTable = (typeof TABLES)[number]['table'];
export const CUSTOMER_SEALED_TABLES: readonly CustomerSealedTable[] = TABLES.map((t) => t.table);

function stale(t: (typeof TABLES)[number], scope: CustomerScope): RawBuilder<boolean> {
  // One customer: through the table's own customer_id index, not a walk of every row.
  const own = 'mode' in scope ? sql`` : sql`and ${sql.ref(`${t.alias}.customer_id`)} = ${scope.customerId}`;
  return sql<boolean>`c.erased_at is null and ${inScope(scope)} ${own} and ${sealedWithCustomerKey(t.column)}
    and ${notUnderCurrent(t.column)}`;
}

const from = (t: (typeof TABLES)[number]) =>
  sql`${sql.table(t.table)} ${sql.raw(t.alias)} join customer_keys c on c.id = ${sql.ref(`${t.alias}.customer_id`)}`;

/** Values of live customers in the scope not sealed under their customer's current key version. */
export async function countNotUnderCurrent(
  db: DbOrTx,
  scope: CustomerScope,
): Promise<Map<CustomerSealedTable, number>> {
  const counts = new Map<CustomerSealedTable, number>();
  for (const t of TABLES) {
    const { rows } = await sql<{ n: number | string }>`select count(*) as n from ${from(t)}
      where ${stale(t, scope)}`.execute(db);
    counts.set(t.table, Number(rows[0]?.n ?? 0));
  }
  return counts;
}

/** How many values of live customers of the mode each key version seals (for `keys-at-rest status`). */
export async function countByVersion(db: DbOrTx, mode: Mode): Promise<Map<number, number>> {
  const top = await db
    .selectFrom('customer_keys')
    .select((eb) => eb.fn.max('key_version').as('v'))
    .where('mode', '=', mode)
    .executeTakeFirst();
  const counts = new Map<number, number>();
  for (let version = 1; version <= Number(top?.v ?? 0); version += 1) {
    let n = 0;
    for (const t of TABLES) {
      const header = `p2.${version}.`;
      const legacy = version === 1 ? sql`or substr(${sql.ref(t.column)}, 1, 3) = 'p1.'` : sql``;
      const { rows } = await sql<{ n: number | string }>`select count(*) as n from ${from(t)}
        where c.erased_at is null and c.mode = ${mode}
        and (substr(${sql.ref(t.column)}, 1, ${header.length}) = ${header} ${legacy})`.execute(db);
      n += Number(rows[0]?.n ?? 0);
    }
    if (n > 0) counts.set(version, n);
  }
  return counts;
}

/** A new key version for the next customers in the scope after `after` (id order). */
export async function rotateCustomerBatch(
  trx: DbOrTx,
  customerKeys: CustomerKeys,
  scope: CustomerScope,
  after: string,
  limit: number,
): Promise<{ changed: number; last: string | undefined }> {
  let query = trx
    .selectFrom('customer_keys')
    .select('id')
    .where('erased_at', 'is', null)
    .where('id', '>', after)
    .orderBy('id')
    .limit(limit);
  query = 'mode' in scope ? query.where('mode', '=', scope.mode) : query.where('id', '=', scope.customerId);
  const rows = await query.execute();
  let changed = 0;
  for (const { id } of rows) if ((await customerKeys.rotate(trx, id)) !== undefined) changed += 1;
  return { changed, last: rows.at(-1)?.id };
}

/**
 * Re-seals the next values of the table (id order, after `after`) under their customer's current
 * version. Each row is replaced only if it still holds what was read (a concurrent erasure wins).
 */
export async function resealCustomerBatch(
  trx: DbOrTx,
  customerKeys: CustomerKeys,
  table: CustomerSealedTable,
  scope: CustomerScope,
  after: string,
  limit: number,
): Promise<{ changed: number; last: string | undefined }> {
  const t = TABLES.find((x) => x.table === table)!;
  const columns = table === 'payments' ? PAYMENT_SEALED_FIELDS.map((f) => `p.${f}`) : ['e.data_json'];
  const { rows } = await sql<Record<string, string | null>>`select ${sql.ref(`${t.alias}.id`)} as id,
      c.id as customer_id, ${sql.join(columns.map((col) => sql.ref(col)))}
    from ${from(t)} where ${stale(t, scope)} and ${sql.ref(`${t.alias}.id`)} > ${after}
    order by ${sql.ref(`${t.alias}.id`)} limit ${limit}`.execute(trx);
  const keys = await customerKeys.load(
    trx,
    rows.map((r) => String(r.customer_id)),
  );
  let changed = 0;
  for (const row of rows) {
    const id = String(row.id);
    const keyring = keys.get(String(row.customer_id)) ?? null;
    if (keyring === null) continue;
    if (table === 'events') {
      const old = String(row.data_json);
      const context = eventDataContext(id);
      const next = sealVersioned(keyring, openVersioned(keyring, old, context), context);
      const result = await trx
        .updateTable('events')
        .set({ data_json: next })
        .where('id', '=', id)
        .where('data_json', '=', old)
        .executeTakeFirst();
      changed += Number(result.numUpdatedRows);
      continue;
    }
    const set: Record<string, string> = {};
    for (const field of PAYMENT_SEALED_FIELDS) {
      const old = row[field];
      if (old === null || old === undefined) continue;
      const context = paymentFieldContext(field, id);
      set[field] = sealVersioned(keyring, openVersioned(keyring, old, context), context);
    }
    // Every write seals all four with fresh nonces, so comparing two of them says "unchanged".
    const result = await trx
      .updateTable('payments')
      .set(set)
      .where('id', '=', id)
      .where('customer_email', '=', String(row.customer_email))
      .where('metadata_json', '=', String(row.metadata_json))
      .executeTakeFirst();
    changed += Number(result.numUpdatedRows);
  }
  return { changed, last: rows.length === 0 ? undefined : String(rows.at(-1)!.id) };
}

/** Superseded versions kept for the scope's customers, and how many were superseded since `sinceMs`. */
export async function keptVersions(db: DbOrTx, scope: CustomerScope, sinceMs: number) {
  let query = db
    .selectFrom('customer_key_versions as v')
    .innerJoin('customer_keys as c', 'c.id', 'v.customer_id')
    .select([
      (eb) => eb.fn.countAll<number | string>().as('n'),
      (eb) =>
        eb.fn
          .sum<number | string | null>(eb.case().when('v.superseded_at', '>', sinceMs).then(1).else(0).end())
          .as('recent'),
    ]);
  query = 'mode' in scope ? query.where('c.mode', '=', scope.mode) : query.where('c.id', '=', scope.customerId);
  const row = await query.executeTakeFirst();
  return { kept: Number(row?.n ?? 0), recent: Number(row?.recent ?? 0) };
}

/** When the scope's most recently superseded kept version was superseded; undefined when none is kept. */
export async function lastSupersededAt(db: DbOrTx, scope: CustomerScope): Promise<number | undefined> {
  let query = db
    .selectFrom('customer_key_versions as v')
    .innerJoin('customer_keys as c', 'c.id', 'v.customer_id')
    .select((eb) => eb.fn.max('v.superseded_at').as('last'));
  query = 'mode' in scope ? query.where('c.mode', '=', scope.mode) : query.where('c.id', '=', scope.customerId);
  const row = await query.executeTakeFirst();
  return row?.last === null || row?.last === undefined ? undefined : Number(row.last);
}

/** Deletes the scope's superseded versions (retire checked that nothing uses them). */
export async function deleteKeptVersions(db: DbOrTx, scope: CustomerScope): Promise<number> {
  const ids = db.selectFrom('customer_keys').select('id');
  const result = await db
    .deleteFrom('customer_key_versions')
    .where(
      'customer_id',
      'in',
      'mode' in scope ? ids.where('mode', '=', scope.mode) : ids.where('id', '=', scope.customerId),
    )
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}

/** Live customers in the scope, and the values sealed with their keys (what a rotation would touch). */
export async function countInScope(db: DbOrTx, scope: CustomerScope): Promise<{ customers: number; values: number }> {
  let query = db
    .selectFrom('customer_keys as c')
    .select((eb) => eb.fn.countAll<number | string>().as('n'))
    .where('c.erased_at', 'is', null);
  query = 'mode' in scope ? query.where('c.mode', '=', scope.mode) : query.where('c.id', '=', scope.customerId);
  const customers = Number((await query.executeTakeFirst())?.n ?? 0);
  let values = 0;
  for (const t of TABLES) {
    const { rows } = await sql<{ n: number | string }>`select count(*) as n from ${from(t)}
      where c.erased_at is null and ${inScope(scope)} and ${sealedWithCustomerKey(t.column)}`.execute(db);
    values += Number(rows[0]?.n ?? 0);
  }
  return { customers, values };
}
