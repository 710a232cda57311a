import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { contextOf } from '../api/auth.ts';
import { refuseBody } from '../api/refuse-body.ts';
import { IdParams, WebhookEndpointCreateBody } from '../api/schemas.ts';
import type { EndpointService } from './endpoint-service.ts';

export function endpointRoutes(app: FastifyInstance, endpoints: EndpointService): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  api.post('/webhook_endpoints', { schema: { body: WebhookEndpointCreateBody } }, async (request, reply) =>
    reply.code(201).send(await endpoints.create(contextOf(request), request.body)),
  );
  api.get('/webhook_endpoints', async (request) => ({
    object: 'list',
    data: await endpoints.list(contextOf(request).mode),
    has_more: false,
  }));
  api.delete('/webhook_endpoints/:id', { schema: { params: IdParams('we') } }, async (request) =>
    endpoints.remove(contextOf(request), request.params.id),
  );
  api.post(
    '/webhook_endpoints/:id/rotate_secret',
    { schema: { params: IdParams('we') }, preValidation: refuseBody },
    async (request) => endpoints.rotateSecret(contextOf(request), request.params.id),
  );
}
