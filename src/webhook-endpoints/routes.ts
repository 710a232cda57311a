import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import {
  DeletedObjectSchema,
  ListOf,
  WebhookEndpointObjectSchema,
  WebhookEndpointWithSecretSchema,
} from '../api/objects.ts';
import { contextOf } from '../api/auth.ts';
import { refuseBody } from '../api/refuse-body.ts';
import { IdParams, WebhookEndpointCreateBody } from '../api/schemas.ts';
import type { EndpointService } from './endpoint-service.ts';

export function endpointRoutes(app: FastifyInstance, endpoints: EndpointService): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  api.post(
    '/webhook_endpoints',
    {
      config: { scope: 'webhook_endpoints:write' },
      schema: {
        summary: 'Register an endpoint for events; the answer holds its signing secret, once.',
        body: WebhookEndpointCreateBody,
        response: { 201: WebhookEndpointWithSecretSchema },
      },
    },
    async (request, reply) => reply.code(201).send(await endpoints.create(contextOf(request), request.body)),
  );
  api.get(
    '/webhook_endpoints',
    {
      config: { scope: 'webhook_endpoints:read' },
      schema: {
        summary: 'List your webhook endpoints.',
        response: { 200: ListOf(WebhookEndpointObjectSchema, 'Every endpoint of this mode.') },
      },
    },
    async (request) => ({
      object: 'list' as const,
      data: await endpoints.list(contextOf(request).mode),
      has_more: false,
    }),
  );
  api.delete(
    '/webhook_endpoints/:id',
    {
      config: { scope: 'webhook_endpoints:write' },
      schema: { summary: 'Delete an endpoint.', params: IdParams('we'), response: { 200: DeletedObjectSchema } },
    },
    async (request) => endpoints.remove(contextOf(request), request.params.id),
  );
  api.post(
    '/webhook_endpoints/:id/rotate_secret',
    {
      config: { scope: 'webhook_endpoints:write' },
      schema: {
        summary: 'Make a new signing secret; the old one keeps signing beside it for 24 h.',
        params: IdParams('we'),
        response: { 200: WebhookEndpointWithSecretSchema },
      },
      preValidation: refuseBody,
    },
    async (request) => endpoints.rotateSecret(contextOf(request), request.params.id),
  );
}
