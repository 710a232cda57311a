import type { Clock } from '../clock.ts';
import type { Db, Mode } from '../db/schema.ts';
import { ApiError } from '../errors.ts';
import { newId } from '../ids.ts';
import type { JobQueue } from '../jobs/queue.ts';
import { writeAudit, auditActorOf } from '../audit/audit.ts';
import type { RequestContext } from '../payments/payment-service.ts';
import { DELIVER_JOB, pendingDelivery, subscribes } from './outbox.ts';
import { toEventObject } from './event-object.ts';
import type { PrivacyService } from '../privacy/privacy-service.ts';

export function createEventService(deps: { db: Db; queue: JobQueue; clock: Clock; privacy: PrivacyService }) {
  async function deliveriesOf(eventId: string) {
    const rows = await deps.db
      .selectFrom('deliveries')
      .selectAll()
      .where('event_id', '=', eventId)
      .orderBy('created_at')
      .execute();
    return rows.map((d) => ({
      id: d.id,
      endpoint_id: d.endpoint_id,
      status: d.status,
      attempts: d.attempts,
      last_status_code: d.last_status_code,
      last_attempt_at: d.last_attempt_at === null ? null : new Date(d.last_attempt_at).toISOString(),
      next_attempt_at:
        d.next_attempt_at === null || d.status !== 'pending' ? null : new Date(d.next_attempt_at).toISOString(),
    }));
  }

  async function get(mode: Mode, id: string) {
    const row = await deps.db
      .selectFrom('events')
      .selectAll()
      .where('id', '=', id)
      .where('mode', '=', mode)
      .executeTakeFirst();
    if (row === undefined) throw new ApiError('not_found', { message: 'No such event.' });
    const [opened] = await deps.privacy.openEvents(deps.db, [row]);
    return { ...toEventObject(opened ?? row), deliveries: await deliveriesOf(row.id) };
  }

  async function list(
    mode: Mode,
    options: { limit: number; startingAfter?: string; type?: string; objectId?: string },
  ) {
    let query = deps.db.selectFrom('events').selectAll().where('mode', '=', mode);
    if (options.type !== undefined) query = query.where('type', '=', options.type);
    if (options.objectId !== undefined) query = query.where('object_id', '=', options.objectId);
    if (options.startingAfter !== undefined) {
      const cursor = await deps.db
        .selectFrom('events')
        .select(['id', 'created_at'])
        .where('id', '=', options.startingAfter)
        .where('mode', '=', mode)
        .executeTakeFirst();
      if (cursor === undefined)
        throw new ApiError('parameter_invalid', { param: 'starting_after', message: 'starting_after names no event.' });
      query = query.where((eb) =>
        eb.or([
          eb('created_at', '<', cursor.created_at),
          eb.and([eb('created_at', '=', cursor.created_at), eb('id', '<', cursor.id)]),
        ]),
      );
    }
    const rows = await query
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .limit(options.limit + 1)
      .execute();
    const opened = await deps.privacy.openEvents(deps.db, rows.slice(0, options.limit));
    return { data: opened.map(toEventObject), hasMore: rows.length > options.limit };
  }

  /** Manual replay (WHO-2): every existing delivery goes back to pending, and endpoints that
   * subscribe now but did not exist then get one. The webhook-id stays the event id. */
  async function redeliver(ctx: RequestContext, id: string) {
    const event = await deps.db
      .selectFrom('events')
      .selectAll()
      .where('id', '=', id)
      .where('mode', '=', ctx.mode)
      .executeTakeFirst();
    if (event === undefined) throw new ApiError('not_found', { message: 'No such event.' });
    const now = deps.clock.nowMs();
    const queued = await deps.db.transaction().execute(async (trx) => {
      const endpoints = await trx
        .selectFrom('webhook_endpoints')
        .select(['id', 'events_json'])
        .where('mode', '=', ctx.mode)
        .where('status', '=', 'enabled')
        .where('deleted_at', 'is', null)
        .execute();
      const existing = await trx
        .selectFrom('deliveries')
        .select(['id', 'endpoint_id'])
        .where('event_id', '=', id)
        .execute();
      const ids: string[] = [];
      for (const endpoint of endpoints) {
        const found = existing.find((d) => d.endpoint_id === endpoint.id);
        if (found === undefined && !subscribes(endpoint.events_json, event.type)) continue;
        let deliveryId = found?.id;
        if (deliveryId === undefined) {
          deliveryId = newId('del');
          await trx
            .insertInto('deliveries')
            .values(
              pendingDelivery({ id: deliveryId, mode: ctx.mode, eventId: id, endpointId: endpoint.id, nowMs: now }),
            )
            .execute();
        } else {
          await trx
            .updateTable('deliveries')
            .set({ status: 'pending', next_attempt_at: now, updated_at: now })
            .where('id', '=', deliveryId)
            .execute();
        }
        await deps.queue.enqueue(trx, {
          kind: DELIVER_JOB,
          payload: { deliveryId },
          dedupeKey: `deliver:${deliveryId}`,
          maxAttempts: 50,
        });
        ids.push(deliveryId);
      }
      if (ids.length > 0)
        await writeAudit(trx, deps.clock, {
          mode: ctx.mode,
          ...auditActorOf(ctx),
          action: 'event.redeliver',
          objectType: 'event',
          objectId: id,
          requestId: ctx.requestId,
          ip: ctx.ip,
          details: { deliveries: ids },
        });
      return ids;
    });
    if (queued.length === 0) throw new ApiError('event_not_redeliverable');
    deps.queue.notify();
    return get(ctx.mode, id);
  }

  return { get, list, redeliver };
}

export type EventService = ReturnType<typeof createEventService>;
