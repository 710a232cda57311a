// Form and query schemas for the dashboard (API-10 applied to forms): every field has a length
// limit and, where it can, an allowlist; unknown fields are refused. Browsers send forms as text,
// and a single checked checkbox arrives as a string rather than a list.
import { Type } from 'typebox';
import { PAYMENT_STATUSES } from '../payments/state-machine.ts';
import { EVENT_TYPES } from '../api/schemas.ts';
import { OPERATOR_ROLES } from '../operators/schema.ts';
import { SCOPES } from '../keys/scopes.ts';
import { FreeText } from '../text/free-text.ts';

export const CSRF = Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9_-]+$' });
const PASSWORD = Type.String({ minLength: 1, maxLength: 128 });
const EMAIL = Type.String({ minLength: 3, maxLength: 254 });
const CUSTOMER_ID = Type.String({ pattern: '^cus_[0-9A-Za-z]{22}$' });
const ROLE = Type.Union(OPERATOR_ROLES.map((r) => Type.Literal(r)));
const SCOPE = Type.Union(SCOPES.map((s) => Type.Literal(s)));
const EVENT = Type.Union([Type.Literal('*'), ...EVENT_TYPES.map((t) => Type.Literal(t))]);

export const SignInBody = Type.Object({ email: EMAIL, password: PASSWORD }, { additionalProperties: false });
export const CodeBody = Type.Object(
  { code: Type.String({ minLength: 1, maxLength: 32, pattern: '^[A-Za-z0-9 -]+$' }) },
  { additionalProperties: false },
);
export const SESSION_END_REASONS = [
  'logout',
  'replaced',
  'idle_timeout',
  'absolute_timeout',
  'password_changed',
  'role_changed',
  'disabled',
  'locked',
  'incident',
  'invalid',
] as const;
export const SignInQuery = Type.Object(
  {
    ended: Type.Optional(Type.Union(SESSION_END_REASONS.map((r) => Type.Literal(r)))),
    notice: Type.Optional(Type.Union([Type.Literal('enrolled'), Type.Literal('password_changed')])),
  },
  { additionalProperties: false },
);
export const InviteParams = Type.Object(
  { token: Type.String({ pattern: '^inv_[0-9A-Za-z]{22}\\.[0-9A-Za-z_-]{43}$' }) },
  { additionalProperties: false },
);
export const AcceptInviteBody = Type.Object(
  { name: FreeText({ minLength: 1, maxLength: 100 }), password: PASSWORD },
  { additionalProperties: false },
);

export const CsrfOnlyBody = Type.Object({ csrf_token: CSRF }, { additionalProperties: false });
export const ReauthBody = Type.Object(
  { csrf_token: CSRF, password: PASSWORD, return_to: Type.String({ maxLength: 200 }) },
  { additionalProperties: false },
);
export const ModeBody = Type.Object(
  {
    csrf_token: CSRF,
    mode: Type.Union([Type.Literal('test'), Type.Literal('live')]),
    return_to: Type.Optional(Type.String({ maxLength: 200 })),
  },
  { additionalProperties: false },
);
export const CreateKeyBody = Type.Object(
  {
    csrf_token: CSRF,
    name: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9 ._-]+$' }),
    mode: Type.Union([Type.Literal('test'), Type.Literal('live')]),
    // Optional in the schema so that no box ticked gets a clear page instead of a schema error.
    kind: Type.Optional(Type.Union([Type.Literal('secret'), Type.Literal('publishable')])),
    expires_in_days: Type.Optional(Type.String({ minLength: 1, maxLength: 3, pattern: '^[0-9]+$' })),
    signed: Type.Optional(Type.Literal('on')),
    allowed_networks: Type.Optional(Type.String({ maxLength: 2000, pattern: '^[0-9A-Fa-f.:/, ]*$' })),
    scopes: Type.Optional(
      Type.Union([SCOPE, Type.Array(SCOPE, { minItems: 1, maxItems: SCOPES.length, uniqueItems: true })]),
    ),
  },
  { additionalProperties: false },
);
export const RollKeyBody = Type.Object(
  { csrf_token: CSRF, overlap_seconds: Type.String({ minLength: 1, maxLength: 6, pattern: '^[0-9]+$' }) },
  { additionalProperties: false },
);
export const CreateEndpointBody = Type.Object(
  {
    csrf_token: CSRF,
    url: FreeText({ minLength: 8, maxLength: 2048, pattern: '^https?://' }),
    events: Type.Union([EVENT, Type.Array(EVENT, { minItems: 1, maxItems: 10, uniqueItems: true })]),
  },
  { additionalProperties: false },
);
export const InviteBody = Type.Object({ csrf_token: CSRF, email: EMAIL, role: ROLE }, { additionalProperties: false });
export const RoleBody = Type.Object({ csrf_token: CSRF, role: ROLE }, { additionalProperties: false });
export const ChangePasswordBody = Type.Object(
  { csrf_token: CSRF, current_password: PASSWORD, new_password: PASSWORD },
  { additionalProperties: false },
);

export const PaymentsQuery = Type.Object(
  {
    q: Type.Optional(FreeText({ maxLength: 254 })),
    status: Type.Optional(Type.Union(PAYMENT_STATUSES.map((s) => Type.Literal(s)))),
  },
  { additionalProperties: false },
);
export const AuditQuery = Type.Object(
  {
    actor: Type.Optional(Type.String({ maxLength: 40, pattern: '^[A-Za-z0-9_]*$' })),
    action: Type.Optional(Type.String({ maxLength: 64, pattern: '^[a-z0-9_.]*$' })),
    object: Type.Optional(Type.String({ maxLength: 40, pattern: '^[A-Za-z0-9_]*$' })),
    result: Type.Optional(
      Type.Union([Type.Literal(''), Type.Literal('success'), Type.Literal('failure'), Type.Literal('denied')]),
    ),
  },
  { additionalProperties: false },
);

// The browser's PublicKeyCredential.toJSON(): checked for shape and size here, cryptographically
// by @simplewebauthn/server.
const BASE64URL = Type.String({ minLength: 1, maxLength: 1024, pattern: '^[A-Za-z0-9_-]+$' });
export const WebAuthnResponse = Type.Object(
  {
    id: BASE64URL,
    rawId: BASE64URL,
    type: Type.Literal('public-key'),
    response: Type.Object({}, { additionalProperties: true, maxProperties: 12 }),
    clientExtensionResults: Type.Object({}, { additionalProperties: true, maxProperties: 12 }),
    authenticatorAttachment: Type.Optional(
      Type.Union([Type.Literal('platform'), Type.Literal('cross-platform'), Type.Null()]),
    ),
  },
  { additionalProperties: false },
);
export const EmptyBody = Type.Object({}, { additionalProperties: false });
export const PasskeySignInBody = Type.Object({ response: WebAuthnResponse }, { additionalProperties: false });
export const PasskeyAddBody = Type.Object(
  {
    csrf_token: CSRF,
    name: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9 ._-]+$' }),
    response: WebAuthnResponse,
  },
  { additionalProperties: false },
);

/** Finding a customer (DAT-3): by email (a blind-index look-up; sent in the body, never the URL) or id. */
export const CustomerFindBody = Type.Object(
  {
    csrf_token: CSRF,
    email: Type.Optional(Type.Union([Type.Literal(''), EMAIL])),
    customer_id: Type.Optional(Type.Union([Type.Literal(''), CUSTOMER_ID])),
  },
  { additionalProperties: false },
);
/** Export or erase one customer: the reason is audited; an erasure repeats the id to confirm. */
export const CustomerActionBody = Type.Object(
  {
    csrf_token: CSRF,
    customer_id: CUSTOMER_ID,
    reason: FreeText({ minLength: 3, maxLength: 500 }),
    confirm: Type.Optional(Type.String({ maxLength: 64 })),
  },
  { additionalProperties: false },
);

/** Approve or reject a held payout (PAY-5): the reason is audited. */
export const DecisionBody = Type.Object(
  {
    csrf_token: CSRF,
    reason: FreeText({ minLength: 3, maxLength: 500 }),
    return_to: Type.Optional(Type.String({ maxLength: 200 })),
  },
  { additionalProperties: false },
);
export const ApprovalsQuery = Type.Object(
  {
    done: Type.Optional(
      Type.Union([
        Type.Literal('approved'),
        Type.Literal('released'),
        Type.Literal('rejected'),
        Type.Literal('already_decided'),
      ]),
    ),
  },
  { additionalProperties: false },
);
/** The payout rules form: its field names by pattern (one row per currency), short plain values. */
export const PayoutRulesBody = Type.Record(
  Type.String({
    pattern:
      '^(csrf_token|version|unlisted_currency|beneficiary_daily_count|api_key_hourly_count|cooldown_minutes|new_beneficiary_days|expiry_hours|beneficiary_countries|name_check|new_currency|new_[A-Za-z]{1,40}|cur_[A-Z]{3}_[A-Za-z]{1,40}|remove_[A-Z]{3})$',
  }),
  Type.String({ maxLength: 128, pattern: '^[A-Za-z0-9 ._,-]*$' }),
  { maxProperties: 1_300 },
);
// MON-3, the incident page: free text under the one rule (src/text/free-text.ts), single-line.
export const OpenIncidentBody = Type.Object(
  { csrf_token: CSRF, title: FreeText({ minLength: 3, maxLength: 200 }) },
  { additionalProperties: false },
);
export const RotateIncidentBody = Type.Object(
  { csrf_token: CSRF, key_overlap_hours: Type.String({ minLength: 1, maxLength: 3, pattern: '^[0-9]+$' }) },
  { additionalProperties: false },
);
const UTC_MINUTE = Type.String({ pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(:[0-9]{2})?$' });
export const ExportIncidentBody = Type.Object(
  { csrf_token: CSRF, from: UTC_MINUTE, to: UTC_MINUTE },
  { additionalProperties: false },
);
export const IncidentNoteBody = Type.Object(
  {
    csrf_token: CSRF,
    kind: Type.Union([Type.Literal('finding'), Type.Literal('measure'), Type.Literal('note')]),
    text: FreeText({ minLength: 3, maxLength: 2000 }),
  },
  { additionalProperties: false },
);
