// The payout pages' query and forms (API-10 applied to forms): bounded, allowlisted, nothing
// unknown. The status list comes from the state machine, so a status added there is a filter here.
import { Type } from 'typebox';
import { idPattern } from '../ids.ts';
import { PROVIDER_SPECS } from '../providers/catalogue.ts';
import { REVIEW_OUTCOMES } from '../payouts/payout-service.ts';
import { canTransitionPayout, PAYOUT_STATUSES } from '../payouts/state-machine.ts';
import { CSRF } from './schemas.ts';

const literals = (values: readonly string[]) => values.map((v) => Type.Literal(v));
const ANY = Type.Literal('');
const DAY = Type.String({ maxLength: 10, pattern: '^([0-9]{4}-[0-9]{2}-[0-9]{2})?$' });

/** The outcomes an operator may give a payout in review: the service's, as far as the state machine allows. */
export const RESOLVABLE_OUTCOMES = REVIEW_OUTCOMES.filter((to) => canTransitionPayout('requires_review', to));

export const PayoutsQuery = Type.Object(
  {
    status: Type.Optional(Type.Union([ANY, ...literals(PAYOUT_STATUSES)])),
    provider: Type.Optional(Type.Union([ANY, ...literals(PROVIDER_SPECS.map((s) => s.name))])),
    from: Type.Optional(DAY),
    to: Type.Optional(DAY),
    // A merchant's reference (its allowed characters) or a payout id.
    q: Type.Optional(Type.String({ maxLength: 100, pattern: '^[A-Za-z0-9._:/ -]*$' })),
    starting_after: Type.Optional(Type.String({ pattern: idPattern('po') })),
  },
  { additionalProperties: false },
);

const REASON = Type.String({ minLength: 3, maxLength: 500, pattern: '^[^\\p{Cc}\\p{Cs}]*\\S[^\\p{Cc}\\p{Cs}]*$' });

export const PayoutReasonBody = Type.Object({ csrf_token: CSRF, reason: REASON }, { additionalProperties: false });
export const PayoutFinalizeForm = Type.Object(
  { csrf_token: CSRF, reason: REASON, otp: Type.String({ pattern: '^[0-9]{4,8}$' }) },
  { additionalProperties: false },
);
export const PayoutResolveForm = Type.Object(
  { csrf_token: CSRF, reason: REASON, outcome: Type.Union(literals(RESOLVABLE_OUTCOMES)) },
  { additionalProperties: false },
);

export const BeneficiariesQuery = Type.Object(
  { starting_after: Type.Optional(Type.String({ pattern: idPattern('ben') })) },
  { additionalProperties: false },
);
