// Response schemas of the merchant API: the objects the routes answer with. Routes declare them in
// `schema.response`, so Fastify serialises each answer through them (a field not declared here
// never leaves the gateway by accident) and the OpenAPI description (src/openapi/) documents them.
import { type TSchema, Type } from 'typebox';
import type { PaymentStatus } from '../db/schema.ts';
import { PAYMENT_STATUSES } from '../payments/state-machine.ts';

const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);
const Timestamp = Type.String({ format: 'date-time' });

export const PaymentObjectSchema = Type.Object(
  {
    id: Type.String({ description: 'pay_...' }),
    object: Type.Literal('payment'),
    status: Type.Unsafe<PaymentStatus>({ type: 'string', enum: [...PAYMENT_STATUSES] }),
    status_reason: Nullable(Type.String()),
    amount: Type.Integer({ description: 'Minor units of the currency.' }),
    currency: Type.String(),
    reference: Type.String(),
    provider: Type.String(),
    provider_transaction_id: Nullable(Type.String()),
    checkout_url: Nullable(Type.String({ description: 'Where to send the customer, while pending.' })),
    customer: Type.Object({
      email: Type.String(),
      name: Nullable(Type.String()),
      phone: Nullable(Type.String()),
    }),
    redirect_url: Type.String(),
    description: Nullable(Type.String()),
    metadata: Type.Record(Type.String(), Type.String()),
    livemode: Type.Boolean(),
    created_at: Timestamp,
    updated_at: Timestamp,
    expires_at: Timestamp,
  },
  { description: 'A payment. Give value only once its status is `succeeded`.' },
);

export const ListOf = <T extends TSchema>(item: T, description: string) =>
  Type.Object({ object: Type.Literal('list'), data: Type.Array(item), has_more: Type.Boolean() }, { description });

export const WebhookEndpointObjectSchema = Type.Object({
  id: Type.String({ description: 'we_...' }),
  object: Type.Literal('webhook_endpoint'),
  url: Type.String(),
  events: Type.Array(Type.String()),
  status: Type.String(),
  disabled_reason: Nullable(Type.String()),
  livemode: Type.Boolean(),
  created_at: Timestamp,
});

export const WebhookEndpointWithSecretSchema = Type.Object(
  {
    ...WebhookEndpointObjectSchema.properties,
    secret: Type.String({ description: 'The `whsec_` signing secret, shown only in this answer.' }),
    previous_secret_expires_at: Type.Optional(Timestamp),
  },
  { description: 'The endpoint with its new signing secret (shown once).' },
);

export const DeletedObjectSchema = Type.Object({
  id: Type.String(),
  object: Type.String(),
  deleted: Type.Boolean(),
});

export const EventObjectSchema = Type.Object({
  id: Type.String({ description: 'evt_...; also the `webhook-id` of its deliveries.' }),
  object: Type.Literal('event'),
  type: Type.String(),
  timestamp: Timestamp,
  livemode: Type.Boolean(),
  data: Type.Record(Type.String(), Type.Unknown(), {
    description: 'Holds `object`: the object as it was at the change.',
  }),
});

export const DeliverySchema = Type.Object({
  id: Type.String(),
  endpoint_id: Type.String(),
  status: Type.String(),
  attempts: Type.Integer(),
  last_status_code: Nullable(Type.Integer()),
  last_attempt_at: Nullable(Timestamp),
  next_attempt_at: Nullable(Timestamp),
});

export const EventWithDeliveriesSchema = Type.Object(
  { ...EventObjectSchema.properties, deliveries: Type.Array(DeliverySchema) },
  { description: 'The event and each delivery of it to your endpoints.' },
);

export const BankListSchema = Type.Object({
  object: Type.Literal('list'),
  provider: Type.String(),
  country: Type.String(),
  data: Type.Array(Type.Object({ object: Type.Literal('bank'), code: Type.String(), name: Type.String() })),
  has_more: Type.Boolean(),
});

export const ResolvedAccountSchema = Type.Object({
  object: Type.Literal('account'),
  account_number: Type.String(),
  account_name: Type.String(),
  bank_code: Type.String(),
  bank_name: Type.String(),
  country: Type.String(),
  type: Type.String(),
  provider: Type.String(),
});

/** The event envelope as delivered, with the object it carries. */
export const EventPayloadOf = (object: TSchema, description: string) =>
  Type.Object({ ...EventObjectSchema.properties, data: Type.Object({ object }) }, { description });
