// Each customer's own data key (DAT-3: erasure by crypto-shredding). A customer is one email in
// one mode, found by a keyed blind index, never by the plaintext. The key is stored only wrapped
// (KeyWrapper) and read from the database at each use, never cached across requests, so an erasure
// made by any process (or the command line) takes effect in every process at once.
//
//   customer_keys: id (cus_...), mode, email_index, wrapped_key (null once erased), wrapped_by,
//                  created_at, erased_at, erasure_reason; unique (mode, email_index) while live.
import { randomBytes } from 'node:crypto';
import type { Clock } from '../clock.ts';
import type { DbOrTx, Mode } from '../db/schema.ts';
import { newId } from '../ids.ts';
import type { KeyWrapper } from './key-wrapper.ts';
import { blindIndex } from './seal.ts';

/** What binds a wrapped customer key to its row. */
export const customerKeyContext = (id: string) => `customer_keys:${id}`;

export interface CustomerKey {
  readonly id: string;
  readonly dataKey: Buffer;
}

export interface CustomerKeysDeps {
  readonly wrapper: KeyWrapper;
  /** Keys the blind index: a stored key of its own (purpose-keys.ts), stable across master-key rotations. */
  readonly indexKey: Buffer;
  readonly clock: Clock;
}

export function createCustomerKeys(deps: CustomerKeysDeps) {
  const emailIndex = (email: string) => blindIndex(deps.indexKey, 'customer-email', email);
  const context = customerKeyContext;

  async function readLive(db: DbOrTx, mode: Mode, index: string) {
    return db
      .selectFrom('customer_keys')
      .select(['id', 'wrapped_key', 'wrapped_by'])
      .where('mode', '=', mode)
      .where('email_index', '=', index)
      .where('erased_at', 'is', null)
      .executeTakeFirst();
  }

  return {
    emailIndex,

    /** The customer's key, made on their first payment. Concurrent first payments share one. */
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
            wrapped_key: deps.wrapper.wrap(dataKey, context(id)),
            wrapped_by: deps.wrapper.keyName,
            created_at: deps.clock.nowMs(),
            erased_at: null,
            erasure_reason: null,
          })
          .onConflict((oc) => oc.columns(['mode', 'email_index']).where('erased_at', 'is', null).doNothing())
          .execute();
        row = await readLive(db, mode, index);
      }
      if (row === undefined || row.wrapped_key === null) throw new Error('customer key vanished while being made');
      return { id: row.id, dataKey: deps.wrapper.unwrap(row.wrapped_key, context(row.id), row.wrapped_by) };
    },

    /** The keys of these customers; null for an erased one. */
    async load(db: DbOrTx, ids: Iterable<string>): Promise<Map<string, Buffer | null>> {
      const wanted = [...new Set(ids)];
      const found = new Map<string, Buffer | null>(wanted.map((id) => [id, null]));
      if (wanted.length === 0) return found;
      const rows = await db
        .selectFrom('customer_keys')
        .select(['id', 'wrapped_key', 'wrapped_by'])
        .where('id', 'in', wanted)
        .execute();
      for (const row of rows)
        found.set(
          row.id,
          row.wrapped_key === null ? null : deps.wrapper.unwrap(row.wrapped_key, context(row.id), row.wrapped_by),
        );
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

    /** Destroys the key: every value sealed with it, in this database and in its backups, is unreadable. */
    async erase(db: DbOrTx, id: string, reason: string): Promise<boolean> {
      const result = await db
        .updateTable('customer_keys')
        .set({ wrapped_key: null, erased_at: deps.clock.nowMs(), erasure_reason: reason })
        .where('id', '=', id)
        .where('erased_at', 'is', null)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
  };
}

export type CustomerKeys = ReturnType<typeof createCustomerKeys>;
