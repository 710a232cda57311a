// Operator roles and what each may do (OPS-12): least privilege, one frozen table, one lookup.
// Routes guard with `can(role, action)`; the account service checks the same table itself, so a
// missing route guard cannot let a developer promote themselves.
import type { OperatorRole } from './schema.ts';

export const OPERATOR_ACTIONS = [
  'manage_owners',
  'manage_operators',
  'manage_api_keys',
  'manage_webhook_endpoints',
  // What merchant endpoints answered (response excerpts): for those who run the integration, not
  // everyone who can see payments (an excerpt can carry the receiver's internals).
  'view_delivery_responses',
  // Making payouts from the dashboard (a payout file): the maker's side; approving is apart.
  'create_payouts',
  'approve_payouts',
  // Acting on one payout (cancel before sending, confirm an OTP, resolve a review, a new attempt
  // after a definite failure): money decisions, so finance and the people who run the account.
  'manage_payouts',
  'view_payments',
  'view_audit',
  'change_settings',
  'manage_jobs',
  // OPS-3: ending a lockout early; owners only, so a lockout an attacker caused is undone by
  // someone an admin's stolen session cannot impersonate.
  'unlock_operators',
  // MON-3: the incident page (open, rotate every credential, export, close).
  'respond_to_incidents',
  // DAT-3: a customer's export and erasure from the dashboard; owners only (an erasure cannot be
  // undone, and an export is everything about a person).
  'manage_customer_data',
] as const;
export type OperatorAction = (typeof OPERATOR_ACTIONS)[number];

type Matrix = Readonly<Record<OperatorRole, Readonly<Record<OperatorAction, boolean>>>>;

const row = (allowed: readonly OperatorAction[]) =>
  Object.freeze(
    Object.fromEntries(OPERATOR_ACTIONS.map((a) => [a, allowed.includes(a)])) as Record<OperatorAction, boolean>,
  );

export const PERMISSIONS: Matrix = Object.freeze({
  owner: row(OPERATOR_ACTIONS),
  // Everything but owners: an admin cannot make, demote or disable an owner, so cannot lock one out.
  admin: row([
    'manage_operators',
    'manage_api_keys',
    'manage_webhook_endpoints',
    'view_delivery_responses',
    'create_payouts',
    'approve_payouts',
    'manage_payouts',
    'view_payments',
    'view_audit',
    'change_settings',
    'manage_jobs',
    'respond_to_incidents',
  ]),
  // Integration work (including background jobs that failed); money movement and people stay with
  // others (separation of duties).
  developer: row([
    'manage_api_keys',
    'manage_webhook_endpoints',
    'view_delivery_responses',
    'view_payments',
    'manage_jobs',
  ]),
  finance: row(['create_payouts', 'approve_payouts', 'manage_payouts', 'view_payments', 'view_audit']),
  viewer: row(['view_payments']),
});

export function can(role: OperatorRole, action: OperatorAction): boolean {
  return PERMISSIONS[role]?.[action] === true;
}

/** Who may give a role to someone, or take it from them: owners only for owners. */
export function canAssignRole(actorRole: OperatorRole, role: OperatorRole): boolean {
  return can(actorRole, role === 'owner' ? 'manage_owners' : 'manage_operators');
}
