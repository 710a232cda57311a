import type { FastifyInstance, FastifyRequest } from 'fastify';
import { apiRead, type AuditReads } from '../audit/audit.ts';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { EventObjectSchema, EventWithDeliveriesSchema, ListOf } from '../api/objects.ts';
import { contextOf } from '../api/auth.ts';
import { refuseBody } from '../api/refuse-body.ts';
import { EventListQuery, IdParams } from '../api/schemas.ts';
import type { EventService } from './event-service.ts';

/** LOG-3: an event carries its object (a payment with its customer), so every read is audited. */
const readOf = (request: FastifyRequest, ids: readonly string[]) =>
  apiRead(contextOf(request), 'event', ids, request.routeOptions.url);

export function eventRoutes(app: FastifyInstance, events: EventService, auditReads: AuditReads): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  api.get(
    '/events',
    {
      config: { scope: 'events:read' },
      schema: {
        summary: 'List events, newest first; filter by type or object.',
        querystring: EventListQuery,
        response: { 200: ListOf(EventObjectSchema, 'A page of events.') },
      },
    },
    async (request) => {
      const { limit = 20, starting_after, type, object_id } = request.query;
      const page = await events.list(contextOf(request).mode, {
        limit,
        ...(starting_after === undefined ? {} : { startingAfter: starting_after }),
        ...(type === undefined ? {} : { type }),
        ...(object_id === undefined ? {} : { objectId: object_id }),
      });
      await auditReads(
        readOf(
          request,
          page.data.map((e) => e.id),
        ),
      );
      return { object: 'list' as const, data: page.data, has_more: page.hasMore };
    },
  );
  api.get(
    '/events/:id',
    {
      config: { scope: 'events:read' },
      schema: {
        summary: 'Read an event and its deliveries.',
        params: IdParams('evt'),
        response: { 200: EventWithDeliveriesSchema },
      },
    },
    async (request) => {
      const event = await events.get(contextOf(request).mode, request.params.id);
      await auditReads(readOf(request, [event.id]));
      return event;
    },
  );
  api.post(
    '/events/:id/redeliver',
    {
      config: { scope: 'events:write' },
      schema: {
        summary: 'Send an event again to each endpoint subscribed to it.',
        params: IdParams('evt'),
        response: { 202: EventWithDeliveriesSchema },
      },
      preValidation: refuseBody,
    },
    async (request, reply) => reply.code(202).send(await events.redeliver(contextOf(request), request.params.id)),
  );
}
