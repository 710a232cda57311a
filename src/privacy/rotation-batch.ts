// One batch of a key rotation at rest (issue 12 §3): the unit the rotation job runs (and the
// command line's `--wait`, the same function). A batch is one transaction that first takes the
// rotation row's lock (adding one to its `step`), then does the next rows from the stored position,
// then writes the new position, the rows done and (when the job runs it) the job for the next
// batch. So a crash loses at most the batch in flight, which runs again from the same position;
// several processes running batches of one rotation wait for each other and never do one twice;
// and every row is compare-and-set, so the gateway's own writes (or an erasure) win.
//
// When every phase has reached its end, what was written under an old version meanwhile sends the
// rotation round again (payloads: not before running gateways have switched to the new key); when
// nothing is left, the rotation finishes, with its audit row, in that same transaction.
import { sql } from 'kysely';
import { type AuditActor, writeAudit } from '../audit/audit.ts';
import type { Clock } from '../clock.ts';
import type { Db, DbOrTx, KeyRotationsTable } from '../db/schema.ts';
import type { JobQueue } from '../jobs/queue.ts';
import type { Selectable } from 'kysely';
import { type CustomerKeys, customerKeyContext } from './customer-keys.ts';
import {
  CUSTOMER_SEALED_TABLES,
  countNotUnderCurrent,
  lastSupersededAt,
  parseCustomerScope,
  resealCustomerBatch,
  rotateCustomerBatch,
} from './customer-rotation.ts';
import type { KeyWrapper } from './key-wrapper.ts';
import {
  columnLabel,
  countNotSealedWith,
  nextNotSealedWith,
  PAYLOAD_SEALED_COLUMNS,
  replaceSealed,
  sealedWith,
} from './sealed-columns.ts';
import { dataKeyContext, type SystemKeys } from './system-keys.ts';

export type RotationKind = KeyRotationsTable['kind'];
export type RotationRow = Selectable<KeyRotationsTable>;

/** The job that runs a rotation's batches, one batch per job, each enqueueing the next. */
export const KEY_ROTATION_JOB = 'rotate_keys_at_rest';
/** One job per step: the step that job is to take, so a step is never queued twice. */
export const keyRotationJobKey = (rotationId: string, step: number) => `key_rotation:${rotationId}:${step}`;

/** Processes still sealing with a superseded payload key pick up the new one within this (services.ts refreshes every 30 s). */
export const PAYLOAD_KEY_SWITCH_MS = 120_000;
/**
 * A write that read a customer's key version as current (in its own transaction) has committed
 * this long after the version was superseded: the rotation's last round, and retiring, wait for it.
 */
export const CUSTOMER_KEY_SWITCH_MS = 120_000;

export interface BatchDeps {
  readonly db: Db;
  readonly clock: Clock;
  readonly wrapper: KeyWrapper;
  readonly systemKeys: SystemKeys;
  readonly customerKeys: CustomerKeys;
  readonly queue: JobQueue;
  /** Who the completion's audit row names: `system` for the job, `cli` for `--wait`. */
  readonly actor: AuditActor;
}

export interface BatchOptions {
  readonly batchSize: number;
  /** The job enqueues the job of the next batch in the batch's transaction; `--wait` runs it itself. */
  readonly enqueueNext: boolean;
  /** Called inside the batch's transaction, before it commits (tests inject a crash here). */
  readonly beforeCommit?: (step: number) => Promise<void> | void;
}

export interface BatchOutcome {
  /** more: run the next batch now; wait: the next is due at `nextAtMs`; finished: nothing left. */
  readonly state: 'more' | 'wait' | 'finished';
  readonly rows: number;
  readonly step: number;
  /** What the batch did, for progress lines (`customer_keys: 2 re-wrapped`). */
  readonly note: string;
  readonly nextAtMs?: number;
}

interface Position {
  readonly phase: number;
  readonly after: readonly string[] | null;
}
const parsePosition = (text: string): Position =>
  text === '' ? { phase: 0, after: null } : (JSON.parse(text) as Position);

interface Phase {
  readonly label: string;
  readonly verb: string;
  batch(
    trx: DbOrTx,
    after: readonly string[] | null,
    limit: number,
  ): Promise<{ changed: number; last: readonly string[] | undefined }>;
}

const WRAPPED = ['customer_keys', 'customer_key_versions', 'data_keys'] as const;
type WrappedTable = (typeof WRAPPED)[number];

function wrapContext(table: WrappedTable, row: Record<string, unknown>): string {
  if (table === 'customer_keys') return customerKeyContext(String(row.id), Number(row.key_version));
  if (table === 'customer_key_versions') return customerKeyContext(String(row.customer_id), Number(row.version));
  return dataKeyContext(String(row.id));
}

/** Live wrapped keys in the table not wrapped by the version. */
export async function countWrappedNotBy(db: DbOrTx, table: WrappedTable, name: string): Promise<number> {
  const { rows } = await sql<{ n: number | string }>`select count(*) as n from ${sql.table(table)}
    where wrapped_key is not null and wrapped_by <> ${name}`.execute(db);
  return Number(rows[0]?.n ?? 0);
}

function phasesOf(deps: BatchDeps, rotation: RotationRow): Phase[] {
  if (rotation.kind === 'master')
    return WRAPPED.map((table) => ({
      label: table,
      verb: 're-wrapped',
      async batch(trx, after, limit) {
        const { rows } = await sql<Record<string, unknown>>`select * from ${sql.table(table)}
          where wrapped_key is not null and wrapped_by <> ${rotation.target} and id > ${after?.[0] ?? ''}
          order by id limit ${limit}`.execute(trx);
        let changed = 0;
        for (const row of rows) {
          const wrapped = String(row.wrapped_key);
          const context = wrapContext(table, row);
          const rewrapped = deps.wrapper.wrap(deps.wrapper.unwrap(wrapped, context, String(row.wrapped_by)), context);
          const result = await sql`update ${sql.table(table)} set wrapped_key = ${rewrapped},
            wrapped_by = ${rotation.target} where id = ${String(row.id)} and wrapped_key = ${wrapped}`.execute(trx);
          changed += Number(result.numAffectedRows ?? 0n);
        }
        return { changed, last: rows.length === 0 ? undefined : [String(rows.at(-1)!.id)] };
      },
    }));
  if (rotation.kind === 'payloads')
    return PAYLOAD_SEALED_COLUMNS.map((c) => ({
      label: columnLabel(c),
      verb: 're-sealed',
      async batch(trx, after, limit) {
        const rows = await nextNotSealedWith(trx, c, sealedWith(rotation.target), after ?? undefined, limit);
        let changed = 0;
        for (const row of rows) {
          const context = c.context(row.key);
          const resealed = deps.systemKeys.seal(await deps.systemKeys.open(row.value, context), context);
          if (await replaceSealed(trx, c, row, resealed)) changed += 1;
        }
        return { changed, last: rows.at(-1)?.key };
      },
    }));
  const scope = parseCustomerScope(rotation.scope ?? '');
  if (scope === undefined) throw new Error(`rotation ${rotation.id} has no valid customer scope`);
  return [
    {
      label: 'customer_keys',
      verb: 'new key version(s)',
      async batch(trx, after, limit) {
        const { changed, last } = await rotateCustomerBatch(trx, deps.customerKeys, scope, after?.[0] ?? '', limit);
        return { changed, last: last === undefined ? undefined : [last] };
      },
    },
    ...CUSTOMER_SEALED_TABLES.map((table) => ({
      label: table,
      verb: 're-sealed',
      async batch(trx: DbOrTx, after: readonly string[] | null, limit: number) {
        const { changed, last } = await resealCustomerBatch(
          trx,
          deps.customerKeys,
          table,
          scope,
          after?.[0] ?? '',
          limit,
        );
        return { changed, last: last === undefined ? undefined : [last] };
      },
    })),
  ];
}

/** What is still to do once every phase reached its end, and the phase a new round starts from. */
async function leftOver(trx: DbOrTx, rotation: RotationRow) {
  if (rotation.kind === 'master') {
    let n = 0;
    for (const table of WRAPPED) n += await countWrappedNotBy(trx, table, rotation.target);
    return { rows: n, restartAt: 0 };
  }
  if (rotation.kind === 'payloads') {
    let n = 0;
    for (const c of PAYLOAD_SEALED_COLUMNS) n += await countNotSealedWith(trx, c, sealedWith(rotation.target));
    return { rows: n, restartAt: 0 };
  }
  // Customers: the new versions are made once; only the re-sealing goes round again.
  const counts = await countNotUnderCurrent(trx, parseCustomerScope(rotation.scope ?? '')!);
  return { rows: [...counts.values()].reduce((a, b) => a + b, 0), restartAt: 1 };
}

/** When every process has stopped sealing under what the rotation replaces (0: nothing to wait for). */
async function switchedAtOf(trx: DbOrTx, rotation: RotationRow): Promise<number> {
  if (rotation.kind === 'payloads') {
    const made = await trx
      .selectFrom('data_keys')
      .select('created_at')
      .where('id', '=', rotation.target)
      .executeTakeFirst();
    return Number(made?.created_at ?? 0) + PAYLOAD_KEY_SWITCH_MS;
  }
  if (rotation.kind === 'customers') {
    const last = await lastSupersededAt(trx, parseCustomerScope(rotation.scope ?? '')!);
    return last === undefined ? 0 : last + CUSTOMER_KEY_SWITCH_MS;
  }
  return 0;
}

/** Runs the next batch of the rotation; see the header. */
export async function runRotationBatch(
  deps: BatchDeps,
  rotationId: string,
  options: BatchOptions,
): Promise<BatchOutcome> {
  const head = await deps.db.selectFrom('key_rotations').selectAll().where('id', '=', rotationId).executeTakeFirst();
  if (head === undefined || head.finished_at !== null)
    return { state: 'finished', rows: 0, step: Number(head?.step ?? 0), note: 'finished' };
  if (head.kind === 'master' && head.target !== deps.wrapper.keyName)
    throw new Error(
      `this process wraps with ${deps.wrapper.keyName}, not ${head.target}: the rotation's batches run on a process configured with it as PAYWARDEN_MASTER_KEY`,
    );
  if (head.kind === 'payloads' && deps.systemKeys.currentKeyId() !== head.target) {
    await deps.systemKeys.refresh();
    if (deps.systemKeys.currentKeyId() !== head.target)
      throw new Error(`payload key ${head.target} of rotation ${head.id} is not the current payload key`);
  }
  return deps.db.transaction().execute(async (trx) => {
    // The row's lock: batches of one rotation run one after another, whoever runs them.
    const rotation = await trx
      .updateTable('key_rotations')
      .set((eb) => ({ step: eb('step', '+', 1) }))
      .where('id', '=', rotationId)
      .where('finished_at', 'is', null)
      .returningAll()
      .executeTakeFirst();
    if (rotation === undefined) return { state: 'finished', rows: 0, step: Number(head.step), note: 'finished' };
    const step = Number(rotation.step);
    const phases = phasesOf(deps, rotation);
    const position = parsePosition(rotation.position);
    const phase = phases[position.phase];
    const now = deps.clock.nowMs();
    let outcome: BatchOutcome;
    let next: Position = position;
    if (phase !== undefined) {
      const { changed, last } = await phase.batch(trx, position.after, options.batchSize);
      next = last === undefined ? { phase: position.phase + 1, after: null } : { phase: position.phase, after: last };
      outcome = { state: 'more', rows: changed, step, note: `${phase.label}: ${changed} ${phase.verb}` };
    } else {
      const left = await leftOver(trx, rotation);
      const switchedAt = await switchedAtOf(trx, rotation);
      if (now < switchedAt) {
        // Writes that read the old version (a gateway that has not refreshed its payload key, a
        // payment whose transaction read the customer's key just before it changed) may still
        // commit under it: one more round once they all have.
        next = { phase: left.restartAt, after: null };
        outcome = {
          state: 'wait',
          rows: 0,
          step,
          note: `writes may still be sealing under the old version until ${new Date(switchedAt).toISOString()}; one more round then`,
          nextAtMs: switchedAt,
        };
      } else if (left.rows > 0) {
        next = { phase: left.restartAt, after: null };
        outcome = { state: 'more', rows: 0, step, note: `${left.rows} row(s) written meanwhile: one more round` };
      } else {
        outcome = { state: 'finished', rows: 0, step, note: 'finished' };
      }
    }
    await trx
      .updateTable('key_rotations')
      .set((eb) => ({
        position: JSON.stringify(next),
        rows_done: eb('rows_done', '+', outcome.rows),
        ...(outcome.state === 'finished' ? { finished_at: now } : {}),
      }))
      .where('id', '=', rotationId)
      .execute();
    if (outcome.state === 'finished')
      await writeAudit(trx, deps.clock, {
        mode: null,
        ...deps.actor,
        action: 'keys_at_rest.rotated',
        objectType: 'key_rotation',
        objectId: rotation.id,
        details: {
          kind: rotation.kind,
          target: rotation.target,
          ...(rotation.scope === null ? {} : { scope: rotation.scope }),
          rows: Number(rotation.rows_done),
          batches: step,
        },
      });
    else if (options.enqueueNext || outcome.state === 'wait')
      await enqueueRotationJob(deps.queue, trx, rotation.id, step, options.batchSize, outcome.nextAtMs);
    await options.beforeCommit?.(step);
    return outcome;
  });
}

/** The job for the rotation's next step; a no-op while that step's job is queued or running. */
export async function enqueueRotationJob(
  queue: JobQueue,
  db: DbOrTx,
  rotationId: string,
  step: number,
  batchSize: number,
  runAtMs?: number,
): Promise<void> {
  await queue.enqueue(db, {
    kind: KEY_ROTATION_JOB,
    payload: { rotationId, batchSize },
    dedupeKey: keyRotationJobKey(rotationId, step),
    // A batch that keeps failing (a value that does not open) ends dead, on the Jobs page, not retried for ever.
    maxAttempts: 25,
    ...(runAtMs === undefined ? {} : { runAtMs }),
  });
}

/** The job handler: one batch, which enqueues the next (services.ts registers it). */
export function createKeyRotationJob(deps: BatchDeps, options: Pick<BatchOptions, 'beforeCommit'> = {}) {
  return async (payload: Record<string, unknown>) => {
    const batchSize = Number(payload.batchSize ?? 500);
    await runRotationBatch(deps, String(payload.rotationId), {
      batchSize: Number.isInteger(batchSize) && batchSize > 0 ? batchSize : 500,
      enqueueNext: true,
      ...options,
    });
    deps.queue.notify();
  };
}
