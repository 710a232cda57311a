// Response schemas of the merchant API: the objects the routes answer with. Routes declare them in
// `schema.response`, so Fastify serialises each answer through them (a field not declared here
// never leaves the gateway by accident) and the OpenAPI description (src/openapi/) documents them.
import { type TSchema, Type } from 'typebox';
import type { PaymentStatus, PayoutStatus } from '../db/schema.ts';
import { PAYOUT_STATUSES } from '../payouts/state-machine.ts';
import { HOLD_RULES } from '../payouts/controls/hold-record.ts';
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
    provider_fee: Nullable(
      Type.Integer({
        description:
          "The provider's fee for this payment in minor units of its currency, as the provider's verification reported it (Paystack, Flutterwave), whoever bore it; null when the provider reports none (Stripe Checkout, KwikPaisa) or the payment is not verified yet.",
      }),
    ),
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

export const PaymentCreatedSchema = Type.Object(
  {
    ...PaymentObjectSchema.properties,
    client_secret: Type.String({
      description:
        'Shown only here: give it to your return page, which reads the status with a publishable key (GET /v1/payment_status/{id}).',
    }),
  },
  { description: 'The payment just created, with its client secret (shown once).' },
);

export const PaymentStatusSchema = Type.Object(
  {
    object: Type.Literal('payment_status'),
    id: Type.String(),
    status: Type.Unsafe<PaymentStatus>({ type: 'string', enum: [...PAYMENT_STATUSES] }),
    amount: Type.Integer({ description: 'Minor units of the currency.' }),
    currency: Type.String(),
    livemode: Type.Boolean(),
  },
  {
    description:
      'What a browser may know about one payment: its status, for the return page. Give value on the webhook.',
  },
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

const PayoutHoldSchema = Type.Object(
  {
    rules: Type.Array(
      Type.Object({
        rule: Type.Unsafe<string>({ type: 'string', enum: [...HOLD_RULES] }),
        approvals: Type.Integer({ description: 'Approvals this rule asks for (0: it only delays).' }),
        detail: Type.Record(Type.String(), Type.Union([Type.String(), Type.Number(), Type.Boolean(), Type.Null()])),
      }),
    ),
    approvals_required: Type.Integer({ description: 'Distinct approvers needed (the largest any rule asks).' }),
    approvals: Type.Integer({ description: 'Approvals given so far.' }),
    held_at: Timestamp,
    release_at: Nullable(Type.String({ format: 'date-time', description: 'Not released before (cool-down).' })),
    expires_at: Nullable(
      Type.String({ format: 'date-time', description: 'Ends expired, unsent, if not approved by then.' }),
    ),
    resolution: Nullable(
      Type.Unsafe<string>({ type: 'string', enum: ['released', 'rejected', 'expired', 'cancelled'] }),
    ),
  },
  { description: 'Why the payout was held (docs/payout-controls.md) and how the hold ended.' },
);

export const PayoutObjectSchema = Type.Object(
  {
    id: Type.String({ description: 'po_...' }),
    object: Type.Literal('payout'),
    status: Type.Unsafe<PayoutStatus>({ type: 'string', enum: [...PAYOUT_STATUSES] }),
    status_reason: Nullable(Type.String()),
    failure_code: Nullable(
      Type.String({ description: 'Set when failed or reversed: insufficient_funds, invalid_account...' }),
    ),
    failure_message: Nullable(Type.String()),
    amount: Type.Integer({ description: 'Minor units of the currency.' }),
    currency: Type.String(),
    reference: Type.String(),
    beneficiary: Type.String({ description: 'ben_...' }),
    provider: Type.String(),
    provider_transfer_id: Nullable(Type.String()),
    fee: Nullable(Type.Integer({ description: "The provider's fee, minor units, when it says." })),
    narration: Nullable(Type.String()),
    metadata: Type.Record(Type.String(), Type.String()),
    hold: Nullable(PayoutHoldSchema),
    livemode: Type.Boolean(),
    created_at: Timestamp,
    updated_at: Timestamp,
  },
  {
    description:
      'A payout. `on_hold`: a rule held it before anything was sent (see `hold`); it is released to `pending` once approved (and its cool-down is over), or ends `rejected`, `expired` or `cancelled` without being sent. `unknown` means the provider gave no definite answer yet: it is being asked, never assumed failed. Money left only at `succeeded` (and may come back: `reversed`).',
  },
);

export const BeneficiaryObjectSchema = Type.Object(
  {
    id: Type.String({ description: 'ben_...' }),
    object: Type.Literal('beneficiary'),
    type: Type.String(),
    currency: Type.String(),
    country: Nullable(Type.String()),
    bank_code: Nullable(Type.String()),
    bank_name: Nullable(Type.String()),
    account_last4: Type.String({ description: 'The account number is stored sealed; only its end is shown.' }),
    account_name: Type.String({
      description: 'As resolved by the provider when saved (as the merchant gave it when name_check is unverified).',
    }),
    name_check: Type.Unsafe<string>({
      type: 'string',
      enum: ['match', 'mismatch', 'not_given', 'unverified'],
      description:
        "The name the merchant gave against the provider's: a mismatch holds payouts for approval, and so does unverified (a provider with no account look-up, as KwikPaisa).",
    }),
    email: Nullable(Type.String()),
    provider: Type.String(),
    metadata: Type.Record(Type.String(), Type.String()),
    livemode: Type.Boolean(),
    created_at: Timestamp,
  },
  { description: 'Where payouts go: a bank account, mobile money wallet or Stripe connected account.' },
);

export const BalanceListSchema = Type.Object({
  object: Type.Literal('list'),
  data: Type.Array(
    Type.Object({
      object: Type.Literal('balance'),
      provider: Type.String(),
      currency: Type.String(),
      available: Type.Integer({ description: 'Minor units.' }),
      ledger: Nullable(Type.Integer()),
    }),
  ),
  errors: Type.Array(Type.Object({ provider: Type.String(), code: Type.String() })),
  has_more: Type.Boolean(),
});

/**
 * The `data` of the incident events (src/incidents/incident-service.ts): the incident's facts, no
 * object. Sent to the endpoints of both modes.
 */
const incidentEvent = (summary: string, data: Record<string, TSchema>) => ({
  summary,
  payload: Type.Object(
    {
      ...EventObjectSchema.properties,
      data: Type.Object({ incident: Type.String({ description: 'inc_...' }), ...data }),
    },
    { description: summary },
  ),
});
export const IncidentEventData: Readonly<Record<string, { summary: string; payload: TSchema }>> = {
  'incident.opened': incidentEvent('The operator opened a security incident.', {
    title: Type.String(),
    opened_at: Timestamp,
  }),
  'incident.credentials_rotated': incidentEvent(
    'API keys, webhook endpoint secrets and receipt keys were replaced; deploy the new ones before the old stop.',
    {
      api_keys_rotated: Type.Integer(),
      endpoint_secrets_rotated: Type.Integer(),
      receipt_keys_rotated: Type.Array(Type.String({ description: 'rk_...: the new signing keys' })),
      old_api_keys_stop_at: Timestamp,
      old_endpoint_secrets_stop_at: Timestamp,
    },
  ),
  'incident.closed': incidentEvent('The incident was closed, with its findings and measures recorded.', {
    title: Type.String(),
    closed_at: Timestamp,
  }),
};
