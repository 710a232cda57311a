// Each customer's own data key (DAT-3: erasure by crypto-shredding), in versions. A customer is one
// email in one mode, found by a keyed blind index, never by the plaintext. Every version is stored
// only wrapped (KeyWrapper) and read from the database at each use, never cached across requests,
// so an erasure made by any process (or the command line) takes effect in every process at once.
//
//   customer_keys: id (cus_...), mode, email_index, wrapped_key (the current version; null once
//                  erased), wrapped_by, key_version, created_at, erased_at, erasure_reason;
//                  unique (mode, email_index) while live.
//   customer_key_versions: id (<cus>.v<n>), customer_id, version, wrapped_key, wrapped_by,
//                  superseded_at: the versions a rotation superseded, kept until nothing uses them.
import { randomBytes } from 'node:crypto';
import type { Clock } from '../clock.ts';
import type { DbOrTx, Mode } from '../db/schema.ts';
import { newId } from '../ids.ts';
import type { KeyWrapper } from './key-wrapper.ts';
import { blindIndex, type Keyring } from './seal.ts';

/** What binds a wrapped customer key version to its customer and version (version 1 as before versions existed). */
export const customerKeyContext = (id: string, version = 1) =>
  version === 1 ? `customer_keys:${id}` : `customer_keys:${id}:v${version}`;

/** The key that seals a customer's data now: its current version. */
export interface CustomerKey {
  readonly id: string;
  readonly version: number;
  readonly dataKey: Buffer;
}

export interface CustomerKeysDeps {
  readonly wrapper: KeyWrapper;
  /** Keys the blind index: a stored key of its own (purpose-keys.ts), stable across master-key rotations. */
  readonly indexKey: Buffer;
  readonly clock: Clock;
}

export function createCustomerKeys(deps: CustomerKeysDeps) {
  // Keys loaded in a transaction, for the rest of it (load). The transaction object is the key:
  // once it is done nothing refers to it, and its entry goes with it.
  const perTransaction = new WeakMap<DbOrTx, Map<string, Keyring | null>>();
  const keysInTransaction = (trx: DbOrTx) => {
    let memo = perTransaction.get(trx);
    if (memo === undefined) perTransaction.set(trx, (memo = new Map()));
    return memo;
  };
  const forget = (db: DbOrTx, id: string) => perTransaction.get(db)?.delete(id);
  const emailIndex = (email: string) => blindIndex(deps.indexKey, 'customer-email', email);
  const context = customerKeyContext;

  async function readLive(db: DbOrTx, mode: Mode, index: string) {
    return db
      .selectFrom('customer_keys')
      .select(['id', 'wrapped_key', 'wrapped_by', 'key_version'])
      .where('mode', '=', mode)
      .where('email_index', '=', index)
      .where('erased_at', 'is', null)
      .executeTakeFirst();
  }

  return {
    emailIndex,

    /** The customer's current key, made on their first payment. Concurrent first payments share one. */
    async forEmail(db: DbOrTx, mode: Mode, email: string): Promise<CustomerKey> {
      const index = emailIndex(email);
      let row = await readLive(db, mode, index);
      if (row === undefined) {
        const id = newId('cus');
        const dataKey = randomBytes(32);
        await db
          .insertInto('customer_keys')
          .values({
            id,
            mode,
            email_index: index,
            wrapped_key: deps.wrapper.wrap(dataKey, context(id, 1)),
            wrapped_by: deps.wrapper.keyName,
            key_version: 1,
            created_at: deps.clock.nowMs(),
            erased_at: null,
            erasure_reason: null,
          })
          .onConflict((oc) => oc.columns(['mode', 'email_index']).where('erased_at', 'is', null).doNothing())
          .execute();
        row = await readLive(db, mode, index);
      }
      if (row === undefined || row.wrapped_key === null) throw new Error('customer key vanished while being made');
      const version = Number(row.key_version);
      return {
        id: row.id,
        version,
        dataKey: deps.wrapper.unwrap(row.wrapped_key, context(row.id, version), row.wrapped_by),
      };
    },

    /**
     * Every kept version of these customers' keys; null for an erased customer. One statement (the
     * current version joined to the older ones). Inside a transaction the answer is kept for the
     * rest of that transaction: a payment's transition opens the payment and seals its event with
     * the same customer's key, and read twice it cost two more round trips on the hot path. Kept
     * for one transaction only, never across requests (see the header); rotate and erase in the
     * same transaction forget it.
     */
    async load(db: DbOrTx, ids: Iterable<string>): Promise<Map<string, Keyring | null>> {
      const wanted = [...new Set(ids)];
      const memo = db.isTransaction ? keysInTransaction(db) : undefined;
      const found = new Map<string, Keyring | null>();
      const missing: string[] = [];
      for (const id of wanted) {
        const known = memo?.get(id);
        if (known === undefined) missing.push(id);
        else found.set(id, known);
      }
      if (missing.length === 0) return found;
      for (const id of missing) found.set(id, null);
      const rows = await db
        .selectFrom('customer_keys as k')
        .leftJoin('customer_key_versions as v', 'v.customer_id', 'k.id')
        .select([
          'k.id',
          'k.wrapped_key',
          'k.wrapped_by',
          'k.key_version',
          'v.version as older_version',
          'v.wrapped_key as older_wrapped_key',
          'v.wrapped_by as older_wrapped_by',
        ])
        .where('k.id', 'in', missing)
        .where('k.wrapped_key', 'is not', null)
        .execute();
      const versions = new Map<string, { current: number; keys: Map<number, Buffer> }>();
      for (const row of rows) {
        let keyring = versions.get(row.id);
        if (keyring === undefined) {
          const current = Number(row.key_version);
          const key = deps.wrapper.unwrap(row.wrapped_key!, context(row.id, current), row.wrapped_by);
          keyring = { current, keys: new Map([[current, key]]) };
          versions.set(row.id, keyring);
          found.set(row.id, keyring);
        }
        if (row.older_version !== null && row.older_wrapped_key !== null && row.older_wrapped_by !== null) {
          const version = Number(row.older_version);
          keyring.keys.set(
            version,
            deps.wrapper.unwrap(row.older_wrapped_key, context(row.id, version), row.older_wrapped_by),
          );
        }
      }
      if (memo !== undefined) for (const id of missing) memo.set(id, found.get(id) ?? null);
      return found;
    },

    /** Finds a customer by email, erased ones included (newest first). */
    async findByEmail(db: DbOrTx, mode: Mode, email: string) {
      return db
        .selectFrom('customer_keys')
        .select(['id', 'created_at', 'erased_at'])
        .where('mode', '=', mode)
        .where('email_index', '=', emailIndex(email))
        .orderBy('created_at', 'desc')
        .execute();
    },

    /**
     * A new version seals the customer's data from now on; the one before is kept (wrapped, in
     * `customer_key_versions`) to open what it sealed. Compare-and-set on the current version and
     * its wrapped form, so a concurrent erasure, master-key re-wrap or rotation wins. Run it in a
     * transaction. Resolves to the new version, or undefined when nothing changed.
     */
    async rotate(trx: DbOrTx, id: string): Promise<number | undefined> {
      forget(trx, id);
      const row = await trx
        .selectFrom('customer_keys')
        .select(['wrapped_key', 'wrapped_by', 'key_version'])
        .where('id', '=', id)
        .where('erased_at', 'is', null)
        .executeTakeFirst();
      if (row === undefined || row.wrapped_key === null) return undefined;
      const version = Number(row.key_version);
      const next = version + 1;
      const updated = await trx
        .updateTable('customer_keys')
        .set({
          wrapped_key: deps.wrapper.wrap(randomBytes(32), context(id, next)),
          wrapped_by: deps.wrapper.keyName,
          key_version: next,
        })
        .where('id', '=', id)
        .where('key_version', '=', version)
        .where('wrapped_key', '=', row.wrapped_key)
        .where('erased_at', 'is', null)
        .executeTakeFirst();
      if (Number(updated.numUpdatedRows) !== 1) return undefined;
      await trx
        .insertInto('customer_key_versions')
        .values({
          id: `${id}.v${version}`,
          customer_id: id,
          version,
          wrapped_key: row.wrapped_key,
          wrapped_by: row.wrapped_by,
          superseded_at: deps.clock.nowMs(),
        })
        .execute();
      return next;
    },

    /**
     * Destroys every version of the key: every value sealed with any of them, in this database
     * and in its backups (erasure journal), is unreadable. Run it in a transaction.
     */
    async erase(db: DbOrTx, id: string, reason: string): Promise<boolean> {
      forget(db, id);
      // The customer's row first: on PostgreSQL its lock orders this after a rotation of the same customer.
      const result = await db
        .updateTable('customer_keys')
        .set({ wrapped_key: null, erased_at: deps.clock.nowMs(), erasure_reason: reason })
        .where('id', '=', id)
        .where('erased_at', 'is', null)
        .executeTakeFirst();
      await db.deleteFrom('customer_key_versions').where('customer_id', '=', id).execute();
      return Number(result.numUpdatedRows) === 1;
    },
  };
}

export type CustomerKeys = ReturnType<typeof createCustomerKeys>;
