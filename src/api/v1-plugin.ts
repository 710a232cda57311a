// The merchant API, /v1. Encapsulated: its key auth, idempotency and JSON error format apply only
// here, never to the provider webhook receiver or the dashboard.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { RateLimiterAbstract } from 'rate-limiter-flexible';
import { ApiError } from '../errors.ts';
import type { EventService } from '../events/event-service.ts';
import type { IdempotencyStore } from '../idempotency/idempotency.ts';
import { requestHash } from '../idempotency/idempotency.ts';
import type { ApiKeyService } from '../keys/api-keys.ts';
import type { Metrics } from '../metrics.ts';
import { isCurrency } from '../money/currencies.ts';
import type { PaymentService } from '../payments/payment-service.ts';
import { toPaymentObject } from '../payments/payment-object.ts';
import type { EndpointService } from '../webhook-endpoints/endpoint-service.ts';
import { contextOf, requireApiKey } from './auth.ts';
import { EventListQuery, IdParams, PaymentCreateBody, PaymentListQuery, WebhookEndpointCreateBody } from './schemas.ts';

export interface V1Deps {
  readonly keys: ApiKeyService;
  readonly metrics: Metrics;
  readonly apiLimiter: RateLimiterAbstract;
  readonly idempotency: IdempotencyStore;
  readonly payments: PaymentService;
  readonly endpoints: EndpointService;
  readonly events: EventService;
  readonly liveEnabled: boolean;
}

declare module 'fastify' {
  interface FastifyRequest {
    idempotencyKey?: string;
  }
}

/** For actions that take no parameters: no body, or an empty JSON object; anything else is refused. */
async function refuseBody(request: FastifyRequest): Promise<void> {
  const body = request.body;
  if (body === undefined || body === null) return;
  if (typeof body === 'object' && !Array.isArray(body) && Object.keys(body).length === 0) return;
  const first = typeof body === 'object' && body !== null ? Object.keys(body)[0] : undefined;
  throw new ApiError('parameter_unknown', { param: first ?? 'body', message: 'This action takes no parameters.' });
}

export async function v1Plugin(app: FastifyInstance, deps: V1Deps): Promise<void> {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();

  app.addHook('onRequest', async (_request, reply) => {
    // NET-2: API answers carry payment data; no cache may keep them.
    void reply.header('cache-control', 'no-store');
  });
  app.addHook('onRequest', requireApiKey({ keys: deps.keys, metrics: deps.metrics, limiter: deps.apiLimiter }));
  app.addHook('onRequest', async (request) => {
    if (request.apiKey?.mode === 'live' && !deps.liveEnabled) throw new ApiError('mode_not_enabled');
  });

  // API-7: runs after schema validation, so only well-formed requests claim a key.
  app.addHook('preHandler', async (request: FastifyRequest, reply: FastifyReply) => {
    if (request.method !== 'POST') return;
    const principal = contextOf(request);
    const rawKey = request.headers['idempotency-key'];
    const key = Array.isArray(rawKey) ? rawKey[0] : rawKey;
    const claim = await deps.idempotency.claim(principal.apiKeyId, key, requestHash(request.method, request.routeOptions.url ?? request.url, request.body));
    if (claim.kind === 'replay') {
      return reply.code(claim.status).header('idempotent-replayed', 'true').type('application/json; charset=utf-8').send(claim.body);
    }
    request.idempotencyKey = key;
  });
  app.addHook('onSend', async (request, reply, payload) => {
    if (request.idempotencyKey !== undefined && request.apiKey !== undefined) {
      await deps.idempotency.complete(request.apiKey.id, request.idempotencyKey, reply.statusCode, typeof payload === 'string' ? payload : JSON.stringify(payload ?? null));
    }
    return payload;
  });

  api.post('/payments', { schema: { body: PaymentCreateBody } }, async (request, reply) => {
    const ctx = contextOf(request);
    const body = request.body;
    if (!isCurrency(body.currency)) throw new ApiError('parameter_invalid', { param: 'currency', message: `${body.currency} is not an ISO 4217 currency code.` });
    if (ctx.mode === 'live' && !body.redirect_url.startsWith('https://')) throw new ApiError('parameter_invalid', { param: 'redirect_url', message: 'Live-mode redirect URLs must use https.' });
    const payment = await deps.payments.create(ctx, body);
    return reply.code(201).send(toPaymentObject(payment));
  });

  api.get('/payments/:id', { schema: { params: IdParams('pay') } }, async (request) => {
    const payment = await deps.payments.get(contextOf(request).mode, request.params.id);
    if (payment === undefined) throw new ApiError('not_found', { message: 'No such payment.' });
    return toPaymentObject(payment);
  });

  api.get('/payments', { schema: { querystring: PaymentListQuery } }, async (request) => {
    const { limit = 20, starting_after, reference } = request.query;
    const page = await deps.payments.list(contextOf(request).mode, { limit, ...(starting_after === undefined ? {} : { startingAfter: starting_after }), ...(reference === undefined ? {} : { reference }) });
    return { object: 'list', data: page.data.map(toPaymentObject), has_more: page.hasMore };
  });

  api.post('/webhook_endpoints', { schema: { body: WebhookEndpointCreateBody } }, async (request, reply) => {
    return reply.code(201).send(await deps.endpoints.create(contextOf(request), request.body));
  });
  api.get('/webhook_endpoints', async (request) => ({ object: 'list', data: await deps.endpoints.list(contextOf(request).mode), has_more: false }));
  api.delete('/webhook_endpoints/:id', { schema: { params: IdParams('we') } }, async (request) => deps.endpoints.remove(contextOf(request), request.params.id));
  api.post('/webhook_endpoints/:id/rotate_secret', { schema: { params: IdParams('we') }, preValidation: refuseBody }, async (request) => deps.endpoints.rotateSecret(contextOf(request), request.params.id));

  api.get('/events', { schema: { querystring: EventListQuery } }, async (request) => {
    const { limit = 20, starting_after, type, object_id } = request.query;
    const page = await deps.events.list(contextOf(request).mode, { limit, ...(starting_after === undefined ? {} : { startingAfter: starting_after }), ...(type === undefined ? {} : { type }), ...(object_id === undefined ? {} : { objectId: object_id }) });
    return { object: 'list', data: page.data, has_more: page.hasMore };
  });
  api.get('/events/:id', { schema: { params: IdParams('evt') } }, async (request) => deps.events.get(contextOf(request).mode, request.params.id));
  api.post('/events/:id/redeliver', { schema: { params: IdParams('evt') }, preValidation: refuseBody }, async (request, reply) => reply.code(202).send(await deps.events.redeliver(contextOf(request), request.params.id)));
}
