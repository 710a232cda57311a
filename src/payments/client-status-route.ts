// GET /v1/payment_status/:id — the one thing a publishable key can do (API-1): read one payment's
// status, given its client secret. Both may come in the query so that a browser's request is a
// simple one (no CORS preflight; OPTIONS stays refused). An unknown payment and a wrong secret
// get the same 404, so the route says nothing about payments the caller cannot name.
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { PaymentStatusSchema } from '../api/objects.ts';
import { contextOf } from '../api/auth.ts';
import { IdParams } from '../api/schemas.ts';
import { ApiError } from '../errors.ts';
import { PUBLISHABLE_SCOPE } from '../keys/scopes.ts';
import { CLIENT_SECRET_PATTERN, type ClientSecrets } from './client-secret.ts';
import type { PaymentService } from './payment-service.ts';

const ClientStatusQuery = Type.Object(
  {
    client_secret: Type.String({ pattern: CLIENT_SECRET_PATTERN, description: 'From the payment’s creation.' }),
    key: Type.Optional(
      Type.String({ pattern: '^pk_(test|live)_[0-9A-Za-z]{48}$', description: 'The publishable key, for browsers.' }),
    ),
  },
  { additionalProperties: false },
);

export function clientStatusRoute(
  app: FastifyInstance,
  deps: { payments: PaymentService; clientSecrets: ClientSecrets },
): void {
  app.withTypeProvider<TypeBoxTypeProvider>().get(
    '/payment_status/:id',
    {
      config: { scope: PUBLISHABLE_SCOPE },
      schema: {
        summary: "A payment's status for the customer's browser, with a publishable key and the client secret.",
        params: IdParams('pay'),
        querystring: ClientStatusQuery,
        response: { 200: PaymentStatusSchema },
      },
    },
    async (request) => {
      const payment = await deps.payments.get(contextOf(request).mode, request.params.id);
      const matches = deps.clientSecrets.matches(
        request.params.id,
        payment?.client_secret_hash ?? null,
        request.query.client_secret,
      );
      if (payment === undefined || !matches) throw new ApiError('not_found', { message: 'No such payment.' });
      return {
        object: 'payment_status' as const,
        id: payment.id,
        status: payment.status,
        amount: payment.amount_minor,
        currency: payment.currency,
        livemode: payment.mode === 'live',
      };
    },
  );
}
