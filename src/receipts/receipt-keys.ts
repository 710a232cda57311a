// Per-mode HMAC keys for signed receipts (COL-6). Table (migration 0008b-receipt-keys):
//   receipt_keys: id (rk_...), mode, sealed_key (32 random bytes, base64, sealed by the field
//     cipher under the master key, bound to "receipt_key:<id>:<mode>"), created_at
// The newest key of a mode signs; every older one keeps verifying, so a receipt issued before a
// rotation still verifies after it (the key id is part of the receipt). A mode's first key is
// made when its first receipt is asked for; `paywarden receipts rotate` makes the next one.
import { randomBytes } from 'node:crypto';
import { writeAudit, type AuditActor } from '../audit/audit.ts';
import type { Clock } from '../clock.ts';
import type { FieldCipher } from '../crypto/encryption.ts';
import { Secret } from '../crypto/secret.ts';
import type { Db, Mode, Tx } from '../db/schema.ts';
import { newId } from '../ids.ts';

export interface ReceiptKey {
  readonly id: string;
  readonly mode: Mode;
  readonly secret: Secret;
  readonly createdAt: number;
}

export interface ReceiptKeyStore {
  /** The key that signs new receipts in `mode`, made on first use. */
  signingKey(mode: Mode): Promise<ReceiptKey>;
  byId(id: string): Promise<ReceiptKey | undefined>;
  /** A new signing key for `mode`; the old ones keep verifying. Audited. */
  rotate(mode: Mode, actor: AuditActor): Promise<ReceiptKey>;
  /** The same inside the caller's transaction (an incident's rotation step). */
  rotateIn(tx: Tx, mode: Mode, actor: AuditActor): Promise<ReceiptKey>;
  list(): Promise<{ id: string; mode: Mode; createdAt: number; signing: boolean }[]>;
}

const binding = (id: string, mode: Mode) => `receipt_key:${id}:${mode}`;

export function createReceiptKeyStore(deps: { db: Db; cipher: FieldCipher; clock: Clock }): ReceiptKeyStore {
  const { db, cipher, clock } = deps;
  const unseal = (row: { id: string; mode: Mode; sealed_key: string; created_at: number }): ReceiptKey => ({
    id: row.id,
    mode: row.mode,
    secret: new Secret(cipher.decrypt(row.sealed_key, binding(row.id, row.mode))),
    createdAt: row.created_at,
  });
  const newest = (mode: Mode) =>
    db
      .selectFrom('receipt_keys')
      .selectAll()
      .where('mode', '=', mode)
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .limit(1)
      .executeTakeFirst();

  async function createIn(tx: Tx, mode: Mode, actor: AuditActor): Promise<ReceiptKey> {
    const id = newId('rk');
    // A new key must sign from now on: never older than the newest one (the clock may stand still
    // in tests, and ids of one millisecond are not ordered).
    const latest = await tx
      .selectFrom('receipt_keys')
      .select((eb) => eb.fn.max('created_at').as('at'))
      .where('mode', '=', mode)
      .executeTakeFirst();
    const createdAt = Math.max(clock.nowMs(), Number(latest?.at ?? 0) + 1);
    const secret = randomBytes(32).toString('base64');
    await tx
      .insertInto('receipt_keys')
      .values({ id, mode, sealed_key: cipher.encrypt(secret, binding(id, mode)), created_at: createdAt })
      .execute();
    await writeAudit(tx, clock, {
      mode,
      ...actor,
      action: 'receipt_key.created',
      objectType: 'receipt_key',
      objectId: id,
    });
    return { id, mode, secret: new Secret(secret), createdAt };
  }
  const create = (mode: Mode, actor: AuditActor) => db.transaction().execute((tx) => createIn(tx, mode, actor));

  return {
    async signingKey(mode) {
      const row = await newest(mode);
      // Two first receipts at once may each make a key: harmless, both verify, the newer signs.
      return row === undefined ? create(mode, { actorType: 'system', actorId: null }) : unseal(row);
    },
    async byId(id) {
      const row = await db.selectFrom('receipt_keys').selectAll().where('id', '=', id).executeTakeFirst();
      return row === undefined ? undefined : unseal(row);
    },
    rotate: (mode, actor) => create(mode, actor),
    rotateIn: createIn,
    async list() {
      const rows = await db
        .selectFrom('receipt_keys')
        .select(['id', 'mode', 'created_at'])
        .orderBy('created_at', 'desc')
        .orderBy('id', 'desc')
        .execute();
      const signing = new Set<string>();
      const seen = new Set<Mode>();
      for (const r of rows)
        if (!seen.has(r.mode)) {
          seen.add(r.mode);
          signing.add(r.id);
        }
      return rows.map((r) => ({ id: r.id, mode: r.mode, createdAt: r.created_at, signing: signing.has(r.id) }));
    },
  };
}
