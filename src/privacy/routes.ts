// The merchant API for customer data rights (DAT-3): export and erasure. POST with the email in
// the body, never the query string, so the address is not written to access logs.
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { contextOf } from '../api/auth.ts';
import { EventObjectSchema, PaymentObjectSchema } from '../api/objects.ts';
import { FreeText } from '../text/free-text.ts';
import type { CustomerDataService, CustomerSelector } from './customer-data.ts';

const Email = Type.String({ format: 'email', maxLength: 254 });
const CustomerId = Type.String({ pattern: '^cus_[0-9A-Za-z]{22}$' });

export const CustomerSelectorBody = Type.Union([
  Type.Object({ email: Email }, { additionalProperties: false }),
  Type.Object({ customer_id: CustomerId }, { additionalProperties: false }),
]);

export const CustomerEraseBody = Type.Union([
  Type.Object({ email: Email, reason: FreeText({ minLength: 3, maxLength: 200 }) }, { additionalProperties: false }),
  Type.Object(
    { customer_id: CustomerId, reason: FreeText({ minLength: 3, maxLength: 200 }) },
    { additionalProperties: false },
  ),
]);

const Timestamp = Type.String({ format: 'date-time' });

export const CustomerExportSchema = Type.Object({
  object: Type.Literal('customer_export'),
  livemode: Type.Boolean(),
  generated_at: Timestamp,
  customers: Type.Array(
    Type.Object({ id: Type.String(), created_at: Timestamp, erased_at: Type.Union([Timestamp, Type.Null()]) }),
  ),
  payments: Type.Array(PaymentObjectSchema),
  events: Type.Array(EventObjectSchema),
  provider_webhooks: Type.Array(
    Type.Object({
      id: Type.String(),
      provider: Type.String(),
      event_type: Type.String(),
      received_at: Timestamp,
      payload: Type.String({ description: 'The raw payload as the provider sent it.' }),
    }),
  ),
});

export const CustomerErasureSchema = Type.Object({
  object: Type.Literal('customer_erasure'),
  customers: Type.Array(Type.String()),
  erased: Type.Array(Type.String(), { description: 'Customers whose key was destroyed by this request.' }),
  payments: Type.Array(Type.String(), { description: 'Payments whose personal data now reads as erased.' }),
});

const selectorOf = (body: { email?: string; customer_id?: string }): CustomerSelector =>
  body.email !== undefined ? { email: body.email } : { customerId: body.customer_id ?? '' };

export function customerDataRoutes(app: FastifyInstance, customers: CustomerDataService): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  api.post(
    '/customers/export',
    {
      config: { scope: 'customers:read' },
      schema: {
        summary: 'Everything stored about one customer (by email or customer id), as one document.',
        body: CustomerSelectorBody,
        response: { 200: CustomerExportSchema },
      },
    },
    async (request) => customers.exportCustomer(contextOf(request), selectorOf(request.body)),
  );
  api.post(
    '/customers/erase',
    {
      config: { scope: 'customers:erase' },
      schema: {
        summary: "Erase a customer's personal data everywhere at once; payments keep amounts and statuses.",
        body: CustomerEraseBody,
        response: { 200: CustomerErasureSchema },
      },
    },
    async (request) => customers.eraseCustomer(contextOf(request), selectorOf(request.body), request.body.reason),
  );
}
