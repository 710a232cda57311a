// Key rotation at rest without downtime (issue 12 §3), for `paywarden keys-at-rest`:
// - master: every wrapped key (customers' data keys and their kept versions, payload keys, purpose
//   keys) re-wrapped under the current master key version; nothing sealed changes.
// - payloads: a new payload key seals from now on, and every value sealed under an older one (or
//   stored in the clear before sealing) is re-sealed under it.
// - customers: each customer of a mode (or one customer) gets a new data key version, which seals
//   from now on; their payments and events are re-sealed under it; the old versions are kept
//   wrapped until `retire customers` removes them, which it does only when nothing uses them.
// Starting a rotation records it (`key_rotations`, audited) and enqueues its job; the job runs it
// in batches (rotation-batch.ts) on whichever gateway process claims it, while the gateway keeps
// writing. `--wait` runs the same batches in the command's own process. Retiring a version refuses
// while anything still uses it, and says what.
import { writeAudit } from '../audit/audit.ts';
import { newId } from '../ids.ts';
import {
  type CustomerScope,
  countInScope,
  countNotUnderCurrent,
  customerScopeName,
  deleteKeptVersions,
  keptVersions,
  parseCustomerScope,
} from './customer-rotation.ts';
import { LEGACY_WRAPPER_NAME } from './key-wrapper.ts';
import {
  type BatchDeps,
  CUSTOMER_KEY_SWITCH_MS,
  countWrappedNotBy,
  enqueueRotationJob,
  PAYLOAD_KEY_SWITCH_MS,
  type RotationKind,
  runRotationBatch,
} from './rotation-batch.ts';
import {
  columnLabel,
  countNotSealedWith,
  countSealedWith,
  PAYLOAD_SEALED_COLUMNS,
  sealedWith,
} from './sealed-columns.ts';
import { PAYLOAD_KEY_PURPOSE, payloadKeysNewestFirst } from './system-keys.ts';

export { CUSTOMER_KEY_SWITCH_MS, PAYLOAD_KEY_SWITCH_MS, type RotationKind } from './rotation-batch.ts';

/** What a batch needs (the job's own deps), and the command line's options around it. */
export interface RotationDeps extends BatchDeps {
  readonly batchSize?: number;
  readonly progress?: (line: string) => void;
  /** `--wait`: called after each batch commits. */
  readonly afterBatch?: (batches: number) => Promise<void> | void;
  /** `--wait`: called inside each batch's transaction before it commits (tests inject a crash here). */
  readonly beforeCommit?: (step: number) => Promise<void> | void;
}

export interface RotateOptions {
  readonly dryRun?: boolean;
  /** Run the batches here and now (they are also the job's, which picks up if this process dies). */
  readonly wait?: boolean;
}

export interface RotationOutcome {
  readonly kind: RotationKind;
  readonly rotationId: string | null;
  readonly target: string;
  readonly dryRun: boolean;
  /** Rows changed by this run (dry run: rows that would change; enqueued only: 0). */
  readonly rows: number;
  readonly resumed: boolean;
  /** False while the job still has work (always, unless waited for to the end). */
  readonly finished: boolean;
}

const WRAPPED_TABLES = ['customer_keys', 'customer_key_versions', 'data_keys'] as const;

export function createKeyRotation(deps: RotationDeps) {
  const batchSize = deps.batchSize ?? 500;
  const say = deps.progress ?? (() => {});
  const batchDeps: BatchDeps = deps;

  async function openRotation(
    kind: RotationKind,
    scope: string | null,
    target: () => Promise<string>,
  ): Promise<{ id: string; target: string; resumed: boolean }> {
    let query = deps.db
      .selectFrom('key_rotations')
      .selectAll()
      .where('kind', '=', kind)
      .where('finished_at', 'is', null)
      .orderBy('started_at', 'desc');
    if (scope !== null) query = query.where('scope', '=', scope);
    const unfinished = await query.executeTakeFirst();
    if (unfinished !== undefined) {
      await enqueueRotationJob(deps.queue, deps.db, unfinished.id, Number(unfinished.step), batchSize);
      return { id: unfinished.id, target: unfinished.target, resumed: true };
    }
    const row = {
      id: newId('rot'),
      kind,
      target: await target(),
      scope,
      started_at: deps.clock.nowMs(),
      finished_at: null,
    };
    await deps.db.transaction().execute(async (trx) => {
      await trx.insertInto('key_rotations').values(row).execute();
      await enqueueRotationJob(deps.queue, trx, row.id, 0, batchSize);
      await writeAudit(trx, deps.clock, {
        mode: null,
        ...deps.actor,
        action: 'keys_at_rest.rotate',
        objectType: 'key_rotation',
        objectId: row.id,
        details: { kind, target: row.target, ...(scope === null ? {} : { scope }) },
      });
    });
    return { id: row.id, target: row.target, resumed: false };
  }

  /** Ends an unfinished rotation that a new one supersedes (a master rotation to another version). */
  async function abandon(id: string, kind: RotationKind, target: string) {
    await deps.db.transaction().execute(async (trx) => {
      await trx.updateTable('key_rotations').set({ finished_at: deps.clock.nowMs() }).where('id', '=', id).execute();
      await writeAudit(trx, deps.clock, {
        mode: null,
        ...deps.actor,
        action: 'keys_at_rest.rotated',
        objectType: 'key_rotation',
        objectId: id,
        details: { kind, target, superseded: true },
      });
    });
  }

  /** Enqueued already; with `wait`, runs the batches here until done (or until it must wait). */
  async function follow(
    kind: RotationKind,
    rotation: { id: string; target: string; resumed: boolean },
    options: RotateOptions,
  ): Promise<RotationOutcome> {
    deps.queue.notify();
    const base = { kind, rotationId: rotation.id, target: rotation.target, dryRun: false, resumed: rotation.resumed };
    if (rotation.resumed) say(`resuming rotation ${rotation.id} to ${rotation.target}`);
    if (options.wait !== true) return { ...base, rows: 0, finished: false };
    let rows = 0;
    for (let batches = 1; ; batches += 1) {
      const outcome = await runRotationBatch(batchDeps, rotation.id, {
        batchSize,
        enqueueNext: false,
        ...(deps.beforeCommit === undefined ? {} : { beforeCommit: deps.beforeCommit }),
      });
      rows += outcome.rows;
      say(`${outcome.note} (${rotation.id}, batch ${outcome.step})`);
      await deps.afterBatch?.(batches);
      if (outcome.state !== 'more') return { ...base, rows, finished: outcome.state === 'finished' };
    }
  }

  async function rotateMaster(options: RotateOptions = {}): Promise<RotationOutcome> {
    const target = deps.wrapper.keyName;
    if (options.dryRun === true) {
      let rows = 0;
      for (const table of WRAPPED_TABLES) {
        const n = await countWrappedNotBy(deps.db, table, target);
        say(`${table}: ${n} key(s) to re-wrap under ${target}`);
        rows += n;
      }
      return { kind: 'master', rotationId: null, target, dryRun: true, rows, resumed: false, finished: false };
    }
    let rotation = await openRotation('master', null, async () => target);
    if (rotation.target !== target) {
      // A rotation to another version was cut short; this one supersedes it.
      await abandon(rotation.id, 'master', rotation.target);
      rotation = await openRotation('master', null, async () => target);
    }
    return follow('master', rotation, options);
  }

  async function rotatePayloads(options: RotateOptions = {}): Promise<RotationOutcome> {
    if (options.dryRun === true) {
      const current = deps.systemKeys.currentKeyId() ?? '';
      let rows = 0;
      for (const c of PAYLOAD_SEALED_COLUMNS) {
        const n = await countNotSealedWith(deps.db, c, sealedWith(current));
        say(`${columnLabel(c)}: ${n} value(s) to re-seal (under a new key)`);
        rows += n;
      }
      return {
        kind: 'payloads',
        rotationId: null,
        target: '(new key)',
        dryRun: true,
        rows,
        resumed: false,
        finished: false,
      };
    }
    const rotation = await openRotation('payloads', null, () => deps.systemKeys.rotate());
    await deps.systemKeys.refresh();
    return follow('payloads', rotation, options);
  }

  /** New data key versions for the scope's customers; their payments and events re-sealed under them. */
  async function rotateCustomers(scope: CustomerScope, options: RotateOptions = {}): Promise<RotationOutcome> {
    const name = customerScopeName(scope);
    if (options.dryRun === true) {
      const { customers, values } = await countInScope(deps.db, scope);
      say(`customers (${name}): ${customers} new key version(s), ${values} value(s) to re-seal`);
      return {
        kind: 'customers',
        rotationId: null,
        target: 'new versions',
        dryRun: true,
        rows: customers + values,
        resumed: false,
        finished: false,
      };
    }
    const rotation = await openRotation('customers', name, async () => 'new versions');
    return follow('customers', rotation, options);
  }

  async function masterKeyUses(name: string): Promise<string[]> {
    const uses: string[] = [];
    for (const table of WRAPPED_TABLES) {
      for (const wrappedBy of [name, LEGACY_WRAPPER_NAME]) {
        const n =
          (await deps.db
            .selectFrom(table)
            .select((eb) => eb.fn.countAll<number | string>().as('n'))
            .where('wrapped_by', '=', wrappedBy)
            .where('wrapped_key', 'is not', null)
            .executeTakeFirst()) ?? undefined;
        if (Number(n?.n ?? 0) > 0) uses.push(`${Number(n?.n)} key(s) in ${table} wrapped by ${wrappedBy}`);
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

  /** What still uses the superseded customer key versions of the scope. */
  async function customerVersionUses(scope: CustomerScope): Promise<string[]> {
    const uses: string[] = [];
    const name = customerScopeName(scope);
    const modeOf =
      'mode' in scope
        ? scope.mode
        : (
            await deps.db
              .selectFrom('customer_keys')
              .select('mode')
              .where('id', '=', scope.customerId)
              .executeTakeFirst()
          )?.mode;
    const running = await deps.db
      .selectFrom('key_rotations')
      .select(['id', 'scope'])
      .where('kind', '=', 'customers')
      .where('finished_at', 'is', null)
      .execute();
    for (const r of running)
      if (r.scope === name || r.scope === modeOf || ('mode' in scope && r.scope?.startsWith('cus_')))
        uses.push(`rotation ${r.id} of customers ${r.scope} is still running (keys-at-rest status)`);
    for (const [table, n] of await countNotUnderCurrent(deps.db, scope))
      if (n > 0) uses.push(`${n} value(s) in ${table} still sealed under a superseded version`);
    const { recent } = await keptVersions(deps.db, scope, deps.clock.nowMs() - CUSTOMER_KEY_SWITCH_MS);
    if (recent > 0)
      uses.push(`${recent} version(s) superseded less than 2 minutes ago (a write may still be sealing with them)`);
    return uses;
  }

  /** Removes old versions when nothing uses them; otherwise refuses with what still does (audited either way). */
  async function retire(
    kind: RotationKind,
    name: string,
  ): Promise<{ ok: true; retired?: number } | { ok: false; uses: string[] }> {
    const scope = kind === 'customers' ? parseCustomerScope(name) : undefined;
    const known =
      kind === 'master'
        ? await deps.db.selectFrom('master_keys').select('name').where('name', '=', name).executeTakeFirst()
        : kind === 'payloads'
          ? await deps.db
              .selectFrom('data_keys')
              .select('id')
              .where('id', '=', name)
              .where('purpose', '=', PAYLOAD_KEY_PURPOSE)
              .executeTakeFirst()
          : scope;
    const what = {
      master: 'master key version',
      payloads: 'payload key',
      customers: 'customers (test, live or cus_...)',
    };
    const uses =
      known === undefined
        ? [`no ${what[kind]} ${name}`]
        : kind === 'master'
          ? name === deps.wrapper.keyName
            ? ['it is the current master key (PAYWARDEN_MASTER_KEY)']
            : await masterKeyUses(name)
          : kind === 'payloads'
            ? await payloadKeyUses(name)
            : await customerVersionUses(scope!);
    let retired = 0;
    await deps.db.transaction().execute(async (trx) => {
      if (uses.length === 0) {
        if (kind === 'master')
          await trx
            .updateTable('master_keys')
            .set({ retired_at: deps.clock.nowMs() })
            .where('name', '=', name)
            .where('retired_at', 'is', null)
            .execute();
        else if (kind === 'payloads') await trx.deleteFrom('data_keys').where('id', '=', name).execute();
        else retired = await deleteKeptVersions(trx, scope!);
      }
      await writeAudit(trx, deps.clock, {
        mode: null,
        ...deps.actor,
        action: 'keys_at_rest.retire',
        objectType: kind === 'master' ? 'master_key' : kind === 'payloads' ? 'data_key' : 'customer_key_versions',
        objectId: name,
        result: uses.length === 0 ? 'success' : 'failure',
        details: uses.length === 0 ? (kind === 'customers' ? { versions: retired } : {}) : { uses },
      });
    });
    if (uses.length > 0) return { ok: false, uses };
    if (kind === 'payloads') await deps.systemKeys.refresh();
    return kind === 'customers' ? { ok: true, retired } : { ok: true };
  }

  return { rotateMaster, rotatePayloads, rotateCustomers, retire, masterKeyUses, payloadKeyUses, customerVersionUses };
}

export type KeyRotation = ReturnType<typeof createKeyRotation>;
