// Request schemas of the payout and beneficiary routes (API-10): strict, bounded, allowlisted.
import { Type } from 'typebox';
import { Metadata } from '../api/schemas.ts';
import { idPattern } from '../ids.ts';
import { FreeText, PersonName } from '../text/free-text.ts';
import { PAYOUT_STATUSES } from './state-machine.ts';

// Shared with the payout file rows (src/payout-batches/row-checks.ts), which are checked as these fields are.
export const REFERENCE_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._:/-]*$';
export const NARRATION_PATTERN = "^[\\p{L}\\p{N} .,'()/:_#-]+$";
export const TEXT_MAX_LENGTH = 100;
const REFERENCE = Type.String({ minLength: 1, maxLength: TEXT_MAX_LENGTH, pattern: REFERENCE_PATTERN });
const PROVIDER = Type.Union([
  Type.Literal('flutterwave'),
  Type.Literal('paystack'),
  Type.Literal('stripe'),
  Type.Literal('kwikpaisa'),
]);

export const PayoutCreateBody = Type.Object(
  {
    amount: Type.Integer({ minimum: 1, maximum: 999_999_999_999, description: 'Minor units of the currency.' }),
    currency: Type.String({ pattern: '^[A-Z]{3}$' }),
    beneficiary: Type.String({ pattern: idPattern('ben') }),
    reference: REFERENCE,
    // Printed on bank statements: the free-text rule, then a stricter allowlist banks accept.
    narration: Type.Optional(FreeText({ minLength: 1, maxLength: TEXT_MAX_LENGTH, pattern: NARRATION_PATTERN })),
    metadata: Type.Optional(Metadata),
    provider: Type.Optional(PROVIDER),
  },
  { additionalProperties: false },
);

export const PayoutListQuery = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20 })),
    starting_after: Type.Optional(Type.String({ pattern: idPattern('po') })),
    status: Type.Optional(Type.Union(PAYOUT_STATUSES.map((s) => Type.Literal(s)))),
    beneficiary: Type.Optional(Type.String({ pattern: idPattern('ben') })),
    reference: Type.Optional(REFERENCE),
    provider: Type.Optional(PROVIDER),
  },
  { additionalProperties: false },
);

export const PayoutFinalizeBody = Type.Object(
  { otp: Type.String({ pattern: '^[0-9]{4,8}$' }) },
  { additionalProperties: false },
);

export const BeneficiaryCreateBody = Type.Object(
  {
    type: Type.Union([Type.Literal('bank_account'), Type.Literal('mobile_money'), Type.Literal('connected_account')]),
    currency: Type.String({ pattern: '^[A-Z]{3}$' }),
    country: Type.Optional(Type.String({ pattern: '^[A-Z]{2}$' })),
    bank_code: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9]{2,11}$' })),
    account_number: Type.Optional(Type.String({ pattern: '^\\+?[0-9]{6,18}$' })),
    account_id: Type.Optional(Type.String({ pattern: '^acct_[0-9A-Za-z]{1,60}$' })),
    name: Type.Optional(PersonName(100)),
    email: Type.Optional(Type.String({ format: 'email', maxLength: 254 })),
    provider: Type.Optional(PROVIDER),
    metadata: Type.Optional(Metadata),
  },
  { additionalProperties: false },
);

export const BeneficiaryListQuery = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20 })),
    starting_after: Type.Optional(Type.String({ pattern: idPattern('ben') })),
  },
  { additionalProperties: false },
);
