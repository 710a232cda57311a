// Writing an event means, in the caller's transaction: the event row, one delivery row per
// subscribed endpoint, and one job row per delivery (the outbox). Because all of it commits with
// the state change, a crash can lose neither the event nor its deliveries.
import type { CompiledQuery } from 'kysely';
import type { Clock } from '../clock.ts';
import type { Mode, Tx } from '../db/schema.ts';
import { newId } from '../ids.ts';
import { enqueueInsert, type JobQueue } from '../jobs/queue.ts';
import { executeWrites } from '../db/transaction-writes.ts';
import type { PrivacyService } from '../privacy/privacy-service.ts';

export const DELIVER_JOB = 'deliver_event';

export interface EventInput {
  readonly mode: Mode;
  readonly type: string;
  readonly objectId: string;
  readonly data: Record<string, unknown>;
  /** The customer whose personal data the event carries: its data is sealed with their key (DAT-1). */
  readonly customerId?: string | null;
  /** The mode's enabled endpoints, when the caller has read them in this transaction already. */
  readonly endpoints?: ReadonlyArray<{ readonly id: string; readonly events_json: string }>;
}

export async function writeEvent(
  trx: Tx,
  deps: { queue: JobQueue; clock: Clock; privacy?: PrivacyService },
  input: EventInput,
): Promise<string> {
  const { eventId, writes } = await eventWrites(trx, deps, input);
  await executeWrites(trx, writes);
  return eventId;
}

/** The endpoints an event of this mode may go to (eventWrites keeps those subscribed to its type). */
export function enabledEndpoints(trx: Tx, mode: Mode) {
  return trx
    .selectFrom('webhook_endpoints')
    .select(['id', 'events_json'])
    .where('mode', '=', mode)
    .where('status', '=', 'enabled')
    .where('deleted_at', 'is', null);
}

/**
 * What writeEvent writes, compiled but not run: the event row, then a delivery and a job per
 * subscribed endpoint. For callers that send them with their own writes (the transition adds its
 * audit row) in one round trip (src/db/transaction-writes.ts). The endpoints are read here unless
 * the caller read them already, in the same transaction (`input.endpoints`, from enabledEndpoints).
 */
export async function eventWrites(
  trx: Tx,
  deps: { clock: Clock; privacy?: PrivacyService },
  input: EventInput,
): Promise<{ eventId: string; writes: CompiledQuery[] }> {
  const now = deps.clock.nowMs();
  const eventId = newId('evt');
  const customerId = input.customerId ?? null;
  if (customerId !== null && deps.privacy === undefined)
    throw new Error('an event with personal data needs the privacy service to seal it');
  const sealed =
    deps.privacy === undefined
      ? { data_json: JSON.stringify(input.data), customer_id: null }
      : await deps.privacy.sealEventData(trx, eventId, customerId, input.data);
  const writes = [
    trx
      .insertInto('events')
      .values({
        id: eventId,
        mode: input.mode,
        type: input.type,
        object_id: input.objectId,
        ...sealed,
        created_at: now,
      })
      .compile(),
  ];
  const endpoints = input.endpoints ?? (await enabledEndpoints(trx, input.mode).execute());
  for (const endpoint of endpoints) {
    if (!subscribes(endpoint.events_json, input.type)) continue;
    const deliveryId = newId('del');
    writes.push(
      trx
        .insertInto('deliveries')
        .values(pendingDelivery({ id: deliveryId, mode: input.mode, eventId, endpointId: endpoint.id, nowMs: now }))
        .compile(),
      // Merchant endpoints may be down for a day; the delivery job keeps its own schedule and
      // attempt count in `deliveries`, so the job itself is allowed many tries.
      enqueueInsert(
        trx,
        { kind: DELIVER_JOB, payload: { deliveryId }, dedupeKey: `deliver:${deliveryId}`, maxAttempts: 50 },
        now,
      ).compile(),
    );
  }
  return { eventId, writes };
}

/** A new delivery of an event to an endpoint, due now (the outbox, and a redelivery to an endpoint
 * that had none: event-service.ts). */
export function pendingDelivery(input: { id: string; mode: Mode; eventId: string; endpointId: string; nowMs: number }) {
  return {
    id: input.id,
    mode: input.mode,
    event_id: input.eventId,
    endpoint_id: input.endpointId,
    status: 'pending' as const,
    attempts: 0,
    next_attempt_at: input.nowMs,
    last_attempt_at: null,
    last_status_code: null,
    created_at: input.nowMs,
    updated_at: input.nowMs,
  };
}

export function subscribes(eventsJson: string, type: string): boolean {
  const events = JSON.parse(eventsJson) as string[];
  return events.some(
    (pattern) =>
      pattern === '*' || pattern === type || (pattern.endsWith('.*') && type.startsWith(pattern.slice(0, -1))),
  );
}
