import type { FastifyInstance, FastifyRequest } from 'fastify';
import { apiRead, type AuditReads } from '../audit/audit.ts';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { ListOf, PaymentCreatedSchema, PaymentObjectSchema } from '../api/objects.ts';
import { contextOf } from '../api/auth.ts';
import { IdParams, PaymentCreateBody, PaymentListQuery } from '../api/schemas.ts';
import { ApiError } from '../errors.ts';
import { newId } from '../ids.ts';
import { isCurrency } from '../money/currencies.ts';
import { toPaymentObject } from './payment-object.ts';
import type { PaymentService } from './payment-service.ts';
import type { ClientSecrets } from './client-secret.ts';

/** LOG-3: a payment answer shows its customer (email, name, phone), so every read is audited. */
const readOf = (request: FastifyRequest, ids: readonly string[]) =>
  apiRead(contextOf(request), 'payment', ids, request.routeOptions.url);

export function paymentRoutes(
  app: FastifyInstance,
  payments: PaymentService,
  auditReads: AuditReads,
  clientSecrets: ClientSecrets,
): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();

  api.post(
    '/payments',
    {
      config: { scope: 'payments:write' },
      schema: {
        summary: 'Create a payment and get the checkout URL to send the customer to.',
        body: PaymentCreateBody,
        response: { 201: PaymentCreatedSchema },
      },
    },
    async (request, reply) => {
      const ctx = contextOf(request);
      const body = request.body;
      if (!isCurrency(body.currency))
        throw new ApiError('parameter_invalid', {
          param: 'currency',
          message: `${body.currency} is not an ISO 4217 currency code.`,
        });
      if (ctx.mode === 'live' && !body.redirect_url.startsWith('https://'))
        throw new ApiError('parameter_invalid', {
          param: 'redirect_url',
          message: 'Live-mode redirect URLs must use https.',
        });
      // API-1: the merchant hands this to its return page, which reads the status with a publishable key.
      // The last secret issued is bound to the payment answered (a retry may resume another).
      let clientSecret = { secret: '', hash: '' };
      const created = await payments.create(ctx, body, {
        id: newId('pay'),
        issueClientSecret: (paymentId) => {
          clientSecret = clientSecrets.issue(paymentId);
          return clientSecret.hash;
        },
      });
      return reply.code(201).send({ ...toPaymentObject(created), client_secret: clientSecret.secret });
    },
  );

  api.get(
    '/payments/:id',
    {
      config: { scope: 'payments:read' },
      schema: { summary: 'Read a payment.', params: IdParams('pay'), response: { 200: PaymentObjectSchema } },
    },
    async (request) => {
      const payment = await payments.get(contextOf(request).mode, request.params.id);
      if (payment === undefined) throw new ApiError('not_found', { message: 'No such payment.' });
      await auditReads(readOf(request, [payment.id]));
      return toPaymentObject(payment);
    },
  );

  api.get(
    '/payments',
    {
      config: { scope: 'payments:read' },
      schema: {
        summary: 'List payments, newest first, or find one by your reference.',
        querystring: PaymentListQuery,
        response: { 200: ListOf(PaymentObjectSchema, 'A page of payments.') },
      },
    },
    async (request) => {
      const { limit = 20, starting_after, reference } = request.query;
      const page = await payments.list(contextOf(request).mode, {
        limit,
        ...(starting_after === undefined ? {} : { startingAfter: starting_after }),
        ...(reference === undefined ? {} : { reference }),
      });
      await auditReads(
        readOf(
          request,
          page.data.map((p) => p.id),
        ),
      );
      return { object: 'list' as const, data: page.data.map(toPaymentObject), has_more: page.hasMore };
    },
  );
}
