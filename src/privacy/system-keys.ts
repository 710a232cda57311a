// Data keys for personal data that belongs to no single customer row when it is written: raw
// provider payloads (they carry the customer's email and name) and stored API answers kept for
// idempotent replays. Sealed as `s1.<keyId>.<nonce>.<ciphertext>.<tag>`, so a rotated key still
// opens what it sealed until the old key is retired.
//
//   data_keys: id (dk_...), purpose, wrapped_key, wrapped_by, created_at, retired_at
import { randomBytes } from 'node:crypto';
import type { Clock } from '../clock.ts';
import type { DbOrTx } from '../db/schema.ts';
import { newId } from '../ids.ts';
import type { KeyWrapper } from './key-wrapper.ts';
import { open, seal } from './seal.ts';

const VERSION = 's1';
export const PAYLOAD_KEY_PURPOSE = 'payloads';
/** What binds a wrapped data key (any purpose) to its row. */
export const dataKeyContext = (id: string) => `data_keys:${id}`;

/** The key id a payload-sealed value names, or undefined for a value stored in the clear. */
export function payloadKeyOf(value: string): string | undefined {
  return value.startsWith(`${VERSION}.`) ? value.split('.')[1] : undefined;
}

/** The payload keys, the current one first (the newest; ties broken by id, as every process does). */
export function payloadKeysNewestFirst(db: DbOrTx) {
  return db
    .selectFrom('data_keys')
    .select(['id', 'created_at'])
    .where('purpose', '=', PAYLOAD_KEY_PURPOSE)
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .execute();
}

export function createSystemKeys(deps: { db: DbOrTx; wrapper: KeyWrapper; clock: Clock }) {
  const keys = new Map<string, Buffer>();
  let current: { id: string; key: Buffer } | undefined;
  const context = dataKeyContext;

  async function reload(): Promise<void> {
    const rows = await deps.db
      .selectFrom('data_keys')
      .selectAll()
      .where('purpose', '=', PAYLOAD_KEY_PURPOSE)
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .execute();
    // Rebuilt each time, so a key retired (deleted) elsewhere stops opening here too.
    keys.clear();
    for (const row of rows) keys.set(row.id, deps.wrapper.unwrap(row.wrapped_key, context(row.id), row.wrapped_by));
    const newest = rows.find((r) => r.retired_at === null);
    current = newest === undefined ? undefined : { id: newest.id, key: keys.get(newest.id)! };
  }

  async function create(): Promise<string> {
    const id = newId('dk');
    await deps.db
      .insertInto('data_keys')
      .values({
        id,
        purpose: PAYLOAD_KEY_PURPOSE,
        wrapped_key: deps.wrapper.wrap(randomBytes(32), context(id)),
        wrapped_by: deps.wrapper.keyName,
        created_at: deps.clock.nowMs(),
        retired_at: null,
      })
      .execute();
    await reload();
    return id;
  }

  return {
    /** Loads the keys, making the first one on a new database. Call once at start. */
    async init(): Promise<void> {
      await reload();
      if (current === undefined) await create();
    },
    /** Synchronous, for hot paths (webhook ingest): the key was loaded at start. */
    seal(plaintext: string, associatedData: string): string {
      if (current === undefined) throw new Error('system keys not initialised');
      return `${VERSION}.${current.id}.${seal(current.key, plaintext, associatedData).slice(3)}`;
    },
    /** Opens a sealed value, or returns a plaintext one (written before encryption at rest) as it is. */
    async open(value: string, associatedData: string): Promise<string> {
      if (!value.startsWith(`${VERSION}.`)) return value;
      const [, keyId, ...rest] = value.split('.');
      if (keyId === undefined) throw new Error('malformed sealed value');
      if (!keys.has(keyId)) await reload();
      const key = keys.get(keyId);
      if (key === undefined) throw new Error(`data key ${keyId} is not available (retired?)`);
      return open(key, `p1.${rest.join('.')}`, associatedData);
    },
    /** A new key seals from now on; older ones still open what they sealed. */
    rotate: create,
    /** Picks up a key made (or retired) by another process: the gateway calls it periodically. */
    refresh: reload,
    currentKeyId: () => current?.id,
  };
}

export type SystemKeys = ReturnType<typeof createSystemKeys>;
