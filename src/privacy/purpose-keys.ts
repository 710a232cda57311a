// Keys of their own for every purpose that used to be derived from the master key: the API-key
// pepper, the blind-index key, the field cipher's key, the recovery-code and client-secret
// peppers. Each is a row of `data_keys` (purpose `key:<name>`), wrapped by the master key like a
// customer's data key, so rotating the master key re-wraps them and changes nothing they protect.
//
// A deployment that ran before these rows existed derived each value from its master key; the
// first start with this code adopts exactly those values (from the oldest configured master key),
// so API keys, blind indexes and sealed fields keep working. The row id is fixed per purpose and
// version, so two processes adopting at once write one row.
import type { Clock } from '../clock.ts';
import { deriveKey, type PurposeKeys } from '../crypto/encryption.ts';
import type { Secret } from '../crypto/secret.ts';
import type { DbOrTx } from '../db/schema.ts';
import type { KeyWrapper } from './key-wrapper.ts';
import { dataKeyContext } from './system-keys.ts';

/** Every purpose a stored key exists for; a purpose missing here has no key (keyFor throws). */
export const STORED_PURPOSES = [
  'api-key-pepper',
  'blind-index-v1',
  'field-encryption-v1',
  'recovery-codes',
  'payment-client-secret',
] as const;

export const purposeColumn = (name: string) => `key:${name}`;
const rowId = (name: string) => `key_${name}_1`;

export async function openPurposeKeys(deps: {
  db: DbOrTx;
  wrapper: KeyWrapper;
  /** The master key the values were derived from before they were stored (the oldest configured). */
  adoptFrom: Secret;
  clock: Clock;
}): Promise<PurposeKeys> {
  const rows = async () =>
    deps.db
      .selectFrom('data_keys')
      .selectAll()
      .where(
        'purpose',
        'in',
        STORED_PURPOSES.map((p) => purposeColumn(p)),
      )
      .orderBy('created_at', 'desc')
      .execute();
  let found = await rows();
  const missing = STORED_PURPOSES.filter((p) => !found.some((r) => r.purpose === purposeColumn(p)));
  if (missing.length > 0) {
    await deps.db
      .insertInto('data_keys')
      .values(
        missing.map((name) => ({
          id: rowId(name),
          purpose: purposeColumn(name),
          wrapped_key: deps.wrapper.wrap(deriveKey(deps.adoptFrom, name), dataKeyContext(rowId(name))),
          wrapped_by: deps.wrapper.keyName,
          created_at: deps.clock.nowMs(),
          retired_at: null,
        })),
      )
      .onConflict((oc) => oc.column('id').doNothing())
      .execute();
    found = await rows();
  }
  const keys = new Map<string, Buffer>();
  // Newest first: the current version of each purpose.
  for (const row of found) {
    const name = row.purpose.slice('key:'.length);
    if (!keys.has(name)) keys.set(name, deps.wrapper.unwrap(row.wrapped_key, dataKeyContext(row.id), row.wrapped_by));
  }
  return {
    keyFor(purpose) {
      const key = keys.get(purpose);
      if (key === undefined) throw new Error(`no stored key for purpose ${purpose}`);
      return key;
    },
  };
}
