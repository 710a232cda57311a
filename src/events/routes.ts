import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { contextOf } from '../api/auth.ts';
import { refuseBody } from '../api/refuse-body.ts';
import { EventListQuery, IdParams } from '../api/schemas.ts';
import type { EventService } from './event-service.ts';

export function eventRoutes(app: FastifyInstance, events: EventService): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  api.get('/events', { schema: { querystring: EventListQuery } }, async (request) => {
    const { limit = 20, starting_after, type, object_id } = request.query;
    const page = await events.list(contextOf(request).mode, {
      limit,
      ...(starting_after === undefined ? {} : { startingAfter: starting_after }),
      ...(type === undefined ? {} : { type }),
      ...(object_id === undefined ? {} : { objectId: object_id }),
    });
    return { object: 'list', data: page.data, has_more: page.hasMore };
  });
  api.get('/events/:id', { schema: { params: IdParams('evt') } }, async (request) =>
    events.get(contextOf(request).mode, request.params.id),
  );
  api.post(
    '/events/:id/redeliver',
    { schema: { params: IdParams('evt') }, preValidation: refuseBody },
    async (request, reply) => reply.code(202).send(await events.redeliver(contextOf(request), request.params.id)),
  );
}
