// Opening the deployment's keys at rest, for the gateway and every command: the master key
// versions configured (PAYWARDEN_MASTER_KEY, and PAYWARDEN_MASTER_KEY_PREVIOUS during a rotation)
// less the retired ones, and the stored purpose keys they unwrap. Each version in use is recorded
// in `master_keys` (by name, never the key), so `keys-at-rest status` and `retire` know them.
import type { Clock } from '../clock.ts';
import type { PurposeKeys } from '../crypto/encryption.ts';
import type { Secret } from '../crypto/secret.ts';
import type { DbOrTx } from '../db/schema.ts';
import { type KeyWrapper, masterKeyName, masterKeyWrapper } from './key-wrapper.ts';
import { openPurposeKeys } from './purpose-keys.ts';

export interface KeysAtRest {
  readonly wrapper: KeyWrapper;
  readonly purposeKeys: PurposeKeys;
}

export async function openKeysAtRest(deps: {
  db: DbOrTx;
  masterKey: Secret;
  previousMasterKeys?: readonly Secret[];
  clock: Clock;
}): Promise<KeysAtRest> {
  const retired = new Set(
    (await deps.db.selectFrom('master_keys').select('name').where('retired_at', 'is not', null).execute()).map(
      (r) => r.name,
    ),
  );
  if (retired.has(masterKeyName(deps.masterKey)))
    throw new Error(
      `PAYWARDEN_MASTER_KEY is the retired master key version ${masterKeyName(deps.masterKey)}; configure the current one`,
    );
  const previous = (deps.previousMasterKeys ?? []).filter((k) => !retired.has(masterKeyName(k)));
  const wrapper = masterKeyWrapper(deps.masterKey, previous);
  await deps.db
    .insertInto('master_keys')
    .values({ name: wrapper.keyName, first_used_at: deps.clock.nowMs(), retired_at: null })
    .onConflict((oc) => oc.column('name').doNothing())
    .execute();
  const purposeKeys = await openPurposeKeys({
    db: deps.db,
    wrapper,
    adoptFrom: previous.at(-1) ?? deps.masterKey,
    clock: deps.clock,
  });
  return { wrapper, purposeKeys };
}
