// Request schemas for the merchant API (API-10): types, lengths, character allowlists, enums, and
// `additionalProperties: false` everywhere so an unknown or misspelt field is refused, not ignored.
import { Type } from 'typebox';
import { idPattern } from '../ids.ts';
import { FreeText, PersonName } from '../text/free-text.ts';

/** Metadata: up to 20 keys from an allowlist, values free text (src/text/free-text.ts). */
export const Metadata = Type.Record(Type.String({ pattern: '^[A-Za-z0-9_.-]{1,40}$' }), FreeText({ maxLength: 500 }), {
  maxProperties: 20,
  additionalProperties: false,
});

export const PaymentCreateBody = Type.Object(
  {
    amount: Type.Integer({
      minimum: 1,
      maximum: 999_999_999_999,
      description: 'Minor units of the currency (kobo, cents...)',
    }),
    currency: Type.String({ pattern: '^[A-Z]{3}$' }),
    reference: Type.String({ minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9][A-Za-z0-9._:/-]*$' }),
    customer: Type.Object(
      {
        email: Type.String({ format: 'email', maxLength: 254 }),
        name: Type.Optional(PersonName(100)),
        phone: Type.Optional(Type.String({ pattern: '^\\+?[0-9][0-9 ()-]{4,19}$' })),
      },
      { additionalProperties: false },
    ),
    redirect_url: FreeText({ format: 'uri', maxLength: 2048, pattern: '^https?://' }),
    description: Type.Optional(FreeText({ minLength: 1, maxLength: 255 })),
    metadata: Type.Optional(Metadata),
    provider: Type.Optional(
      Type.Union([
        Type.Literal('flutterwave'),
        Type.Literal('paystack'),
        Type.Literal('stripe'),
        Type.Literal('kwikpaisa'),
      ]),
    ),
  },
  { additionalProperties: false },
);

export const IdParams = (prefix: string) =>
  Type.Object({ id: Type.String({ pattern: idPattern(prefix) }) }, { additionalProperties: false });

export const ListQuery = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20 })),
    starting_after: Type.Optional(Type.String({ maxLength: 40, pattern: '^[a-z]+_[0-9A-Za-z]{22}$' })),
  },
  { additionalProperties: false },
);

export const PaymentListQuery = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20 })),
    starting_after: Type.Optional(Type.String({ pattern: '^pay_[0-9A-Za-z]{22}$' })),
    reference: Type.Optional(Type.String({ minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9][A-Za-z0-9._:/-]*$' })),
  },
  { additionalProperties: false },
);

export const EventListQuery = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20 })),
    starting_after: Type.Optional(Type.String({ pattern: '^evt_[0-9A-Za-z]{22}$' })),
    type: Type.Optional(Type.String({ maxLength: 64, pattern: '^[a-z_]+\\.[a-z_]+$' })),
    object_id: Type.Optional(Type.String({ maxLength: 40, pattern: '^[a-z]+_[0-9A-Za-z]{22}$' })),
  },
  { additionalProperties: false },
);

export const EVENT_TYPES = [
  'payment.succeeded',
  'payment.failed',
  'payment.requires_review',
  'payment.expired',
  'payout.processing',
  'payout.requires_action',
  'payout.succeeded',
  'payout.failed',
  'payout.reversed',
  'payout.cancelled',
  'payout.requires_review',
  // Security incidents (MON-3, src/incidents/): sent in both modes, carrying the incident's facts.
  'incident.opened',
  'incident.credentials_rotated',
  'incident.closed',
] as const;

export const WebhookEndpointCreateBody = Type.Object(
  {
    url: FreeText({ format: 'uri', maxLength: 2048, pattern: '^https?://' }),
    events: Type.Array(
      Type.Union([
        Type.Literal('*'),
        Type.Literal('payment.*'),
        Type.Literal('payout.*'),
        Type.Literal('incident.*'),
        ...EVENT_TYPES.map((t) => Type.Literal(t)),
      ]),
      { minItems: 1, maxItems: 20, uniqueItems: true },
    ),
  },
  { additionalProperties: false },
);

const COUNTRY = Type.String({ pattern: '^[A-Z]{2}$' });
const PROVIDER_NAME = Type.Union([
  Type.Literal('flutterwave'),
  Type.Literal('paystack'),
  Type.Literal('stripe'),
  Type.Literal('kwikpaisa'),
]);

export const BanksQuery = Type.Object(
  { country: COUNTRY, provider: Type.Optional(PROVIDER_NAME) },
  { additionalProperties: false },
);

export const AccountResolveBody = Type.Object(
  {
    account_number: Type.String({ pattern: '^\\+?[0-9]{6,15}$' }),
    bank_code: Type.String({ pattern: '^[A-Za-z0-9]{2,11}$' }),
    country: COUNTRY,
    // `MOBILEMONEY` is Flutterwave's own spelling; both mean the same.
    type: Type.Optional(
      Type.Union([Type.Literal('bank_account'), Type.Literal('mobile_money'), Type.Literal('MOBILEMONEY')]),
    ),
    provider: Type.Optional(PROVIDER_NAME),
  },
  { additionalProperties: false },
);
