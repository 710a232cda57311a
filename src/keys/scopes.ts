// API key scopes (API-4): least privilege per key. Each /v1 route names the one scope it needs in
// its route config (`config: { scope: 'payments:write' }`); the /v1 plugin refuses a key without it
// (403 `scope_missing`, the scope named in the message), and refuses any route that declares none
// (test/api/route-scopes.test.ts walks every registered route and fails on one without a scope).
//
// `read` scopes only read; `write` scopes change state or reach a provider on the key's behalf.
// Payout scopes are apart from everything else: a key that can move money out is the one an
// attacker wants, so no default and no migration ever grants them.

export const SCOPES = [
  'payments:read',
  'payments:write',
  'webhook_endpoints:read',
  'webhook_endpoints:write',
  'events:read',
  'events:write',
  'banks:read',
  'accounts:resolve',
  'beneficiaries:read',
  'beneficiaries:write',
  'payouts:read',
  'payouts:write',
  'balances:read',
  // Customer data rights (DAT-3): exporting and erasing one customer's personal data.
  'customers:read',
  'customers:erase',
] as const;

export type Scope = (typeof SCOPES)[number];

/**
 * The only scope a publishable key (pk_test_/pk_live_) ever has: reading one payment's status with
 * its client secret. It is not in SCOPES, so no secret key can be given it and no publishable key
 * can be given anything else.
 */
export const PUBLISHABLE_SCOPE = 'payments:client_status';
export type RouteScope = Scope | typeof PUBLISHABLE_SCOPE;

/**
 * What a new secret key gets when its creator names no scopes: the common case, taking payments
 * and hearing about their outcome (create and read payments, register a webhook endpoint, read
 * events). Redelivery, look-ups, beneficiaries, balances and payouts must be asked for.
 */
export const DEFAULT_SCOPES: readonly Scope[] = [
  'payments:read',
  'payments:write',
  'webhook_endpoints:read',
  'webhook_endpoints:write',
  'events:read',
];

/**
 * What every key could do before scopes existed (the migration gives these to existing keys, so
 * none loses a power it had, and none gains payouts, beneficiaries or balances, which did not exist).
 */
export const LEGACY_SCOPES: readonly Scope[] = [
  'payments:read',
  'payments:write',
  'webhook_endpoints:read',
  'webhook_endpoints:write',
  'events:read',
  'events:write',
  'banks:read',
  'accounts:resolve',
];

export function isScope(value: string): value is Scope {
  return (SCOPES as readonly string[]).includes(value);
}

/** Scopes as stored (space-separated, sorted in catalogue order, no duplicates). */
export function formatScopes(scopes: Iterable<Scope>): string {
  const set = new Set(scopes);
  return SCOPES.filter((s) => set.has(s)).join(' ');
}

/** Parses the stored form; an unknown word (a scope since removed) is dropped, never widened. */
export function parseScopes(stored: string): Scope[] {
  return stored.split(' ').filter(isScope);
}

/** Checks a creator's list: every entry a known scope, at least one. */
export function validateScopes(
  requested: readonly string[],
): { ok: true; scopes: Scope[] } | { ok: false; message: string } {
  if (requested.length === 0) return { ok: false, message: 'Give at least one scope.' };
  const unknown = requested.filter((s) => !isScope(s));
  if (unknown.length > 0)
    return {
      ok: false,
      message: `Unknown scope ${unknown.map((s) => JSON.stringify(s.slice(0, 40))).join(', ')}; scopes are ${SCOPES.join(', ')}.`,
    };
  return { ok: true, scopes: parseScopes(formatScopes(requested as Scope[])) };
}
