// The one mechanism that changes the status of a merchant-visible object (payments and payouts).
// In the caller's transaction: the guarded update (compare-and-set on the row's version, so two
// workers racing on one object cannot both move it, and a stale read cannot move it backwards),
// the merchant event with its outbox rows (one delivery and one job per subscribed endpoint), and
// the audit row. Each object type brings its own state machine and wire object (a spec); nothing
// else in the code base writes a `status` column.
import type { CompiledQuery, Kysely } from 'kysely';
import { auditWrite } from '../audit/audit.ts';
import type { Clock } from '../clock.ts';
import type { Database, Mode, Tx } from '../db/schema.ts';
import type { JobQueue } from '../jobs/queue.ts';
import { enabledEndpoints, eventWrites } from './outbox.ts';
import { executeTogether, executeWrites } from '../db/transaction-writes.ts';
import type { PrivacyService } from '../privacy/privacy-service.ts';

/** The columns every state-machine-governed table has. */
interface StatefulRow {
  id: string;
  mode: Mode;
  status: string;
  status_reason: string | null;
  updated_at: number;
  version: number;
}

type StatefulTable = {
  [T in keyof Database]: Database[T] extends StatefulRow ? T : never;
}[keyof Database];

export interface StateMachineSpec<T extends StatefulTable> {
  readonly table: T;
  readonly objectType: string;
  canTransition(from: Database[T]['status'], to: Database[T]['status']): boolean;
  /** The merchant event for entering `to`, or null when that status is not announced. */
  eventTypeFor(to: Database[T]['status']): string | null;
  toObject(row: Database[T]): Record<string, unknown>;
  /** For objects with personal data sealed at rest: the row opened before it becomes the event's object. */
  open?(trx: Tx, privacy: PrivacyService, row: Database[T]): Promise<Database[T]>;
  /** Whose key seals the event (the object's customer). */
  customerIdOf?(row: Database[T]): string | null;
}

export interface ObjectTransitionInput<T extends StatefulTable> {
  readonly id: string;
  /**
   * The row as the caller last read it (outside this transaction). The guarded update is tried
   * against its version first, saving the read; if the row has changed since, it is read again
   * here and the transition decided on what it is now, exactly as without it.
   */
  readonly expected?: Database[T];
  readonly to: Database[T]['status'];
  readonly reason: string;
  readonly actor: { type: 'system' | 'operator' | 'api_key'; id: string | null };
  readonly details?: Record<string, unknown>;
  /** Other columns written by the same guarded update (the provider's id, the next check...). */
  readonly set?: (current: Database[T]) => Partial<Database[T]>;
  /**
   * The caller's own writes of this transaction that read nothing back (the verification row that
   * decided a payment's transition), sent with the transition's event and audit row: one round
   * trip fewer. Written only when the transition happens; the caller writes them itself otherwise.
   */
  readonly alsoWrite?: readonly CompiledQuery[];
}

export type ObjectTransitionResult<Row> =
  | { ok: true; row: Row; previous: Row; eventId: string | null }
  | { ok: false; reason: 'not_found' | 'illegal_transition'; current?: Row };

async function openForEvent<T extends StatefulTable>(
  trx: Tx,
  privacy: PrivacyService | undefined,
  spec: StateMachineSpec<T>,
  row: Database[T],
): Promise<Database[T]> {
  if (spec.open === undefined) return row;
  if (privacy === undefined) throw new Error(`${spec.objectType} events carry personal data: pass the privacy service`);
  return spec.open(trx, privacy, row);
}

export async function transitionObject<T extends StatefulTable>(
  trx: Tx,
  deps: { queue: JobQueue; clock: Clock; privacy?: PrivacyService },
  spec: StateMachineSpec<T>,
  input: ObjectTransitionInput<T>,
): Promise<ObjectTransitionResult<Database[T]>> {
  // Kysely cannot type a table chosen at run time; every table named by a spec has the columns
  // of StatefulRow (checked by StatefulTable above), which is all this function touches.
  const db = trx as unknown as Kysely<{ governed: StatefulRow }>;
  const table = spec.table as 'governed';
  const now = deps.clock.nowMs();
  // The compare-and-set on the row's version: it moves the row only from the state it was read in.
  const guardedUpdateQuery = (from: Database[T]) =>
    db
      .updateTable(table)
      .set({
        ...(input.set?.(from) ?? {}),
        status: input.to,
        status_reason: input.reason,
        updated_at: now,
        version: from.version + 1,
      })
      .where('id', '=', from.id)
      .where('version', '=', from.version)
      .returningAll();
  const guardedUpdate = async (from: Database[T]) =>
    (await guardedUpdateQuery(from).executeTakeFirst()) as Database[T] | undefined;

  const eventType = spec.eventTypeFor(input.to);
  const expected = input.expected?.id === input.id ? input.expected : undefined;
  let current = expected;
  let updated: Database[T] | undefined;
  let endpoints: ReadonlyArray<{ id: string; events_json: string }> | undefined;
  if (expected !== undefined && spec.canTransition(expected.status, input.to)) {
    // The update and the read of the endpoints its event goes to (if it has one) need nothing of
    // each other: sent together (one round trip on SQLite). A row's mode never changes.
    const [moved, enabled] = await executeTogether(trx, [
      guardedUpdateQuery(expected).compile(),
      ...(eventType === null ? [] : [enabledEndpoints(trx, expected.mode).compile()]),
    ]);
    updated = moved?.rows[0] as Database[T] | undefined;
    endpoints = enabled?.rows as Array<{ id: string; events_json: string }> | undefined;
  }
  if (updated === undefined) {
    // No row given, or it changed since it was read: decide on the row as it is now.
    current = (await db.selectFrom(table).selectAll().where('id', '=', input.id).executeTakeFirst()) as
      | Database[T]
      | undefined;
    if (current === undefined) return { ok: false, reason: 'not_found' };
    if (!spec.canTransition(current.status, input.to)) return { ok: false, reason: 'illegal_transition', current };
    updated = await guardedUpdate(current);
    // Another transaction moved the object first; the caller re-reads and decides again.
    if (updated === undefined) return { ok: false, reason: 'illegal_transition', current };
  }
  if (current === undefined) throw new Error('unreachable: a transition without the row it moved from');

  const event =
    eventType === null
      ? { eventId: null, writes: [] }
      : await eventWrites(trx, deps, {
          mode: updated.mode,
          type: eventType,
          objectId: updated.id,
          data: { object: spec.toObject(await openForEvent(trx, deps.privacy, spec, updated)) },
          customerId: spec.customerIdOf?.(updated) ?? null,
          ...(endpoints === undefined ? {} : { endpoints }),
        });
  const { eventId } = event;
  // The event, its deliveries and jobs, and the audit row read nothing back: one round trip.
  await executeWrites(trx, [
    ...(input.alsoWrite ?? []),
    ...event.writes,
    auditWrite(trx, deps.clock, {
      mode: updated.mode,
      actorType: input.actor.type,
      actorId: input.actor.id,
      action: `${spec.objectType}.transition.${current.status}.${input.to}`,
      objectType: spec.objectType,
      objectId: updated.id,
      details: { from: current.status, to: input.to, reason: input.reason, eventId, ...input.details },
    }),
  ]);
  return { ok: true, row: updated, previous: current, eventId };
}
