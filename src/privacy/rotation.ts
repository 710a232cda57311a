// Key rotation at rest without downtime (issue 12 §3), for `paywarden keys-at-rest`:
// - master: every wrapped key (customers' data keys, payload keys, purpose keys) re-wrapped under
//   the current master key version; what they protect does not change, so nothing is re-sealed.
// - payloads: a new payload key seals from now on, and every value sealed under an older one (or
//   stored in the clear before sealing) is re-sealed under it.
// Both work in batches, each row replaced only if it still holds what was read (compare and set),
// so they run while the gateway writes, and are idempotent: a run cut short (a crash) is resumed by
// running it again, which finds its unfinished `key_rotations` row and the rows still to do.
// Retiring a version refuses while anything still uses it, and says what.
import type { AuditActor } from '../audit/audit.ts';
import { writeAudit } from '../audit/audit.ts';
import type { Clock } from '../clock.ts';
import type { Db } from '../db/schema.ts';
import { newId } from '../ids.ts';
import { customerKeyContext } from './customer-keys.ts';
import { type KeyWrapper, LEGACY_WRAPPER_NAME } from './key-wrapper.ts';
import {
  columnLabel,
  countNotSealedWith,
  countSealedWith,
  nextNotSealedWith,
  PAYLOAD_SEALED_COLUMNS,
  replaceSealed,
  sealedWith,
} from './sealed-columns.ts';
import { dataKeyContext, PAYLOAD_KEY_PURPOSE, payloadKeysNewestFirst, type SystemKeys } from './system-keys.ts';

export interface RotationDeps {
  readonly db: Db;
  readonly clock: Clock;
  readonly wrapper: KeyWrapper;
  readonly systemKeys: SystemKeys;
  readonly actor: AuditActor;
  readonly batchSize?: number;
  readonly progress?: (line: string) => void;
  /** Called after each batch is written (tests inject a crash here). */
  readonly afterBatch?: (batches: number) => Promise<void> | void;
}

/** Processes still sealing with a superseded payload key pick up the new one within this (services.ts refreshes every 30 s). */
export const PAYLOAD_KEY_SWITCH_MS = 120_000;

export type RotationKind = 'master' | 'payloads';

export interface RotationOutcome {
  readonly kind: RotationKind;
  readonly target: string;
  readonly dryRun: boolean;
  /** Rows changed (dry run: rows that would change). */
  readonly rows: number;
  readonly resumed: boolean;
  /** False while the rotation must be run again to finish (payloads: gateways still switching keys). */
  readonly finished: boolean;
}

const WRAPPED_TABLES = [
  { table: 'customer_keys', context: customerKeyContext },
  { table: 'data_keys', context: dataKeyContext },
] as const;

export function createKeyRotation(deps: RotationDeps) {
  const batchSize = deps.batchSize ?? 500;
  const say = deps.progress ?? (() => {});
  let batches = 0;

  async function batchDone(rotationId: string, rows: number): Promise<void> {
    batches += 1;
    await deps.db
      .updateTable('key_rotations')
      .set((eb) => ({ rows_done: eb('rows_done', '+', rows) }))
      .where('id', '=', rotationId)
      .execute();
    await deps.afterBatch?.(batches);
  }

  async function openRotation(kind: RotationKind, target: () => Promise<string>) {
    const unfinished = await deps.db
      .selectFrom('key_rotations')
      .selectAll()
      .where('kind', '=', kind)
      .where('finished_at', 'is', null)
      .orderBy('started_at', 'desc')
      .executeTakeFirst();
    if (unfinished !== undefined) return { id: unfinished.id, target: unfinished.target, resumed: true };
    const row = { id: newId('rot'), kind, target: await target(), started_at: deps.clock.nowMs(), finished_at: null };
    await deps.db.transaction().execute(async (trx) => {
      await trx.insertInto('key_rotations').values(row).execute();
      await writeAudit(trx, deps.clock, {
        mode: null,
        ...deps.actor,
        action: 'keys_at_rest.rotate',
        objectType: 'key_rotation',
        objectId: row.id,
        details: { kind, target: row.target },
      });
    });
    return { id: row.id, target: row.target, resumed: false };
  }

  async function finishRotation(id: string, kind: RotationKind, target: string, rows: number) {
    await deps.db.transaction().execute(async (trx) => {
      await trx.updateTable('key_rotations').set({ finished_at: deps.clock.nowMs() }).where('id', '=', id).execute();
      await writeAudit(trx, deps.clock, {
        mode: null,
        ...deps.actor,
        action: 'keys_at_rest.rotated',
        objectType: 'key_rotation',
        objectId: id,
        details: { kind, target, rows },
      });
    });
  }

  /** Live wrapped keys in the table wrapped (`=`) or not wrapped (`<>`) by the version. */
  async function countWrapped(table: 'customer_keys' | 'data_keys', op: '=' | '<>', name: string) {
    const result = await deps.db
      .selectFrom(table)
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .where('wrapped_key', 'is not', null)
      .where('wrapped_by', op, name)
      .executeTakeFirst();
    return Number(result?.n ?? 0);
  }
  const wrappedNotUnder = (table: 'customer_keys' | 'data_keys', name: string) => countWrapped(table, '<>', name);

  /** Re-wraps every wrapped key not yet under the current master key version. */
  async function rotateMaster(options: { dryRun?: boolean } = {}): Promise<RotationOutcome> {
    const target = deps.wrapper.keyName;
    if (options.dryRun === true) {
      let rows = 0;
      for (const { table } of WRAPPED_TABLES) {
        const n = await wrappedNotUnder(table, target);
        say(`${table}: ${n} key(s) to re-wrap under ${target}`);
        rows += n;
      }
      return { kind: 'master', target, dryRun: true, rows, resumed: false, finished: false };
    }
    let rotation = await openRotation('master', async () => target);
    if (rotation.target !== target) {
      // A rotation to another version was cut short; this one supersedes it.
      await finishRotation(rotation.id, 'master', rotation.target, 0);
      rotation = await openRotation('master', async () => target);
    }
    if (rotation.resumed) say(`resuming rotation ${rotation.id} to ${target}`);
    let total = 0;
    for (const { table, context } of WRAPPED_TABLES) {
      const remaining = await wrappedNotUnder(table, target);
      let done = 0;
      let after = '';
      for (;;) {
        const rows = await deps.db
          .selectFrom(table)
          .select(['id', 'wrapped_key', 'wrapped_by'])
          .where('wrapped_key', 'is not', null)
          .where('wrapped_by', '<>', target)
          .where('id', '>', after)
          .orderBy('id')
          .limit(batchSize)
          .execute();
        if (rows.length === 0) break;
        let changed = 0;
        for (const row of rows) {
          const wrapped = row.wrapped_key!;
          const rewrapped = deps.wrapper.wrap(
            deps.wrapper.unwrap(wrapped, context(row.id), row.wrapped_by),
            context(row.id),
          );
          const result = await deps.db
            .updateTable(table)
            .set({ wrapped_key: rewrapped, wrapped_by: target })
            .where('id', '=', row.id)
            .where('wrapped_key', '=', wrapped)
            .executeTakeFirst();
          changed += Number(result.numUpdatedRows);
        }
        after = rows.at(-1)!.id;
        done += changed;
        total += changed;
        await batchDone(rotation.id, changed);
        say(`${table}: ${done}/${remaining} re-wrapped`);
      }
    }
    await finishRotation(rotation.id, 'master', target, total);
    return { kind: 'master', target, dryRun: false, rows: total, resumed: rotation.resumed, finished: true };
  }

  /** Seals from now on under a new payload key, and re-seals everything under the older ones. */
  async function rotatePayloads(options: { dryRun?: boolean } = {}): Promise<RotationOutcome> {
    if (options.dryRun === true) {
      const current = deps.systemKeys.currentKeyId() ?? '';
      let rows = 0;
      for (const c of PAYLOAD_SEALED_COLUMNS) {
        const n = await countNotSealedWith(deps.db, c, sealedWith(current));
        say(`${columnLabel(c)}: ${n} value(s) to re-seal (under a new key)`);
        rows += n;
      }
      return { kind: 'payloads', target: '(new key)', dryRun: true, rows, resumed: false, finished: false };
    }
    const rotation = await openRotation('payloads', () => deps.systemKeys.rotate());
    await deps.systemKeys.refresh();
    if (rotation.resumed) say(`resuming rotation ${rotation.id} to payload key ${rotation.target}`);
    const target = rotation.target;
    if (deps.systemKeys.currentKeyId() !== target)
      throw new Error(`payload key ${target} of the unfinished rotation is no longer the current key`);
    let total = 0;
    for (const c of PAYLOAD_SEALED_COLUMNS) {
      const remaining = await countNotSealedWith(deps.db, c, sealedWith(target));
      let done = 0;
      let after: readonly string[] | undefined;
      for (;;) {
        const rows = await nextNotSealedWith(deps.db, c, sealedWith(target), after, batchSize);
        if (rows.length === 0) break;
        let changed = 0;
        for (const row of rows) {
          const context = c.context(row.key);
          const resealed = deps.systemKeys.seal(await deps.systemKeys.open(row.value, context), context);
          if (await replaceSealed(deps.db, c, row, resealed)) changed += 1;
        }
        after = rows.at(-1)!.key;
        done += changed;
        total += changed;
        await batchDone(rotation.id, changed);
        say(`${columnLabel(c)}: ${done}/${remaining} re-sealed`);
      }
    }
    const made = await deps.db.selectFrom('data_keys').select('created_at').where('id', '=', target).executeTakeFirst();
    const switchedAt = (made?.created_at ?? 0) + PAYLOAD_KEY_SWITCH_MS;
    if (deps.clock.nowMs() < switchedAt) {
      // Gateways started before the new key may seal a few more values under the old one until
      // they refresh; the rotation stays open, and running it again re-seals those and finishes.
      say(
        `re-sealed ${total}; running gateways switch to ${target} by ${new Date(switchedAt).toISOString()}: run rotate payloads again after that to finish`,
      );
      return { kind: 'payloads', target, dryRun: false, rows: total, resumed: rotation.resumed, finished: false };
    }
    await finishRotation(rotation.id, 'payloads', target, total);
    return { kind: 'payloads', target, dryRun: false, rows: total, resumed: rotation.resumed, finished: true };
  }

  async function masterKeyUses(name: string): Promise<string[]> {
    const uses: string[] = [];
    for (const { table } of WRAPPED_TABLES) {
      for (const wrappedBy of [name, LEGACY_WRAPPER_NAME]) {
        const n = await countWrapped(table, '=', wrappedBy);
        if (n > 0) uses.push(`${n} key(s) in ${table} wrapped by ${wrappedBy}`);
      }
    }
    return uses;
  }

  async function payloadKeyUses(id: string): Promise<string[]> {
    const uses: string[] = [];
    for (const c of PAYLOAD_SEALED_COLUMNS) {
      const n = await countSealedWith(deps.db, c, sealedWith(id));
      if (n > 0) uses.push(`${n} value(s) in ${columnLabel(c)}`);
    }
    const keys = await payloadKeysNewestFirst(deps.db);
    const index = keys.findIndex((k) => k.id === id);
    if (index === 0) uses.push('it is the current payload key (rotate first)');
    const successor = index > 0 ? keys[index - 1] : undefined;
    if (successor !== undefined && deps.clock.nowMs() - successor.created_at < PAYLOAD_KEY_SWITCH_MS)
      uses.push('running gateways may still seal with it (superseded less than 2 minutes ago)');
    return uses;
  }

  /** Removes an old version when nothing uses it; otherwise refuses with what still does (audited either way). */
  async function retire(kind: RotationKind, name: string): Promise<{ ok: true } | { ok: false; uses: string[] }> {
    const known =
      kind === 'master'
        ? await deps.db.selectFrom('master_keys').select('name').where('name', '=', name).executeTakeFirst()
        : await deps.db
            .selectFrom('data_keys')
            .select('id')
            .where('id', '=', name)
            .where('purpose', '=', PAYLOAD_KEY_PURPOSE)
            .executeTakeFirst();
    const uses =
      known === undefined
        ? [`no ${kind === 'master' ? 'master key version' : 'payload key'} ${name}`]
        : kind === 'master'
          ? name === deps.wrapper.keyName
            ? ['it is the current master key (PAYWARDEN_MASTER_KEY)']
            : await masterKeyUses(name)
          : await payloadKeyUses(name);
    await deps.db.transaction().execute(async (trx) => {
      if (uses.length === 0) {
        if (kind === 'master')
          await trx
            .updateTable('master_keys')
            .set({ retired_at: deps.clock.nowMs() })
            .where('name', '=', name)
            .where('retired_at', 'is', null)
            .execute();
        else await trx.deleteFrom('data_keys').where('id', '=', name).execute();
      }
      await writeAudit(trx, deps.clock, {
        mode: null,
        ...deps.actor,
        action: 'keys_at_rest.retire',
        objectType: kind === 'master' ? 'master_key' : 'data_key',
        objectId: name,
        result: uses.length === 0 ? 'success' : 'failure',
        details: uses.length === 0 ? {} : { uses },
      });
    });
    if (uses.length === 0) await deps.systemKeys.refresh();
    return uses.length === 0 ? { ok: true } : { ok: false, uses };
  }

  return { rotateMaster, rotatePayloads, retire, masterKeyUses, payloadKeyUses };
}

export type KeyRotation = ReturnType<typeof createKeyRotation>;
