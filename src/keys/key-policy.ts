// What a key may be asked to be, checked in one place for the CLI, the dashboard and the service
// (API-3, API-5, API-6): expiry within bounds, a roll overlap of at most 7 days, and the rules for
// keys that can move money out in live mode (an address allowlist, and signed requests).
import type { Mode } from '../db/schema.ts';
import { parseCidr, type Cidr } from '../net/addresses.ts';
import { DEFAULT_SCOPES, validateScopes, type Scope } from './scopes.ts';

export const DAY_MS = 86_400_000;
/** API-3 adopts 90 days. */
export const DEFAULT_EXPIRY_DAYS = 90;
/** No key lives longer than a year: a forgotten key in an old repository expires on its own. */
export const MAX_EXPIRY_DAYS = 365;
export const DEFAULT_ROLL_OVERLAP_SECONDS = 24 * 3600;
export const MAX_ROLL_OVERLAP_SECONDS = 7 * 24 * 3600;
/** At most this many allowlist entries per key (each checked on every request). */
export const MAX_ALLOWED_NETWORKS = 32;

export interface KeyRequest {
  readonly kind?: 'secret' | 'publishable';
  readonly mode: Mode;
  readonly name: string;
  readonly scopes?: readonly string[];
  readonly expiresInDays?: number;
  /** Sign every request (X-API-KEY, X-TIMESTAMP, X-SIGNATURE). Forced on for live payout writers. */
  readonly signed?: boolean;
  /** Addresses or CIDR ranges, IPv4 or IPv6. */
  readonly allowedNetworks?: readonly string[];
  /** Only for a roll. */
  readonly overlapSeconds?: number;
}

export interface CheckedKeyRequest {
  readonly kind: 'secret' | 'publishable';
  readonly mode: Mode;
  readonly name: string;
  readonly scopes: readonly Scope[];
  readonly expiresInDays: number;
  readonly signed: boolean;
  readonly allowedNetworks: readonly Cidr[];
}

const NAME = /^[\w .-]{1,64}$/;

export function checkKeyRequest(
  request: KeyRequest,
): { ok: true; request: CheckedKeyRequest } | { ok: false; message: string } {
  const kind = request.kind ?? 'secret';
  if (!NAME.test(request.name))
    return { ok: false, message: 'The name must be 1 to 64 letters, digits, spaces, dots, dashes or underscores.' };
  const expiresInDays = request.expiresInDays ?? DEFAULT_EXPIRY_DAYS;
  if (!Number.isInteger(expiresInDays) || expiresInDays < 1 || expiresInDays > MAX_EXPIRY_DAYS)
    return { ok: false, message: `A key expires after 1 to ${MAX_EXPIRY_DAYS} days (default ${DEFAULT_EXPIRY_DAYS}).` };
  const overlap = request.overlapSeconds ?? 0;
  if (!Number.isInteger(overlap) || overlap < 0 || overlap > MAX_ROLL_OVERLAP_SECONDS)
    return { ok: false, message: 'The overlap of a roll is 0 to 7 days.' };
  const entries = request.allowedNetworks ?? [];
  if (entries.length > MAX_ALLOWED_NETWORKS)
    return { ok: false, message: `At most ${MAX_ALLOWED_NETWORKS} allowed addresses or ranges per key.` };
  const allowedNetworks: Cidr[] = [];
  for (const entry of entries) {
    const cidr = parseCidr(entry.trim());
    if (cidr === undefined)
      return {
        ok: false,
        message: `${JSON.stringify(entry.slice(0, 60))} is not an IPv4 or IPv6 address or CIDR range.`,
      };
    allowedNetworks.push(cidr);
  }
  if (kind === 'publishable') {
    // Browsers come from anywhere and cannot keep a signing secret.
    if (request.signed === true || allowedNetworks.length > 0 || request.scopes !== undefined)
      return {
        ok: false,
        message: 'A publishable key has one fixed scope, no address allowlist and no signing secret.',
      };
    return {
      ok: true,
      request: {
        kind,
        mode: request.mode,
        name: request.name,
        scopes: [],
        expiresInDays,
        signed: false,
        allowedNetworks,
      },
    };
  }
  const scopes = validateScopes(request.scopes ?? DEFAULT_SCOPES);
  if (!scopes.ok) return scopes;
  const movesMoney = scopes.scopes.includes('payouts:write');
  if (movesMoney && request.mode === 'live' && allowedNetworks.length === 0)
    return {
      ok: false,
      message: 'A live key with payouts:write must name the addresses it is used from (an allowlist).',
    };
  return {
    ok: true,
    request: {
      kind,
      mode: request.mode,
      name: request.name,
      scopes: scopes.scopes,
      expiresInDays,
      // API-5: required, not offered, for a live key that can move money out.
      signed: request.signed === true || (movesMoney && request.mode === 'live'),
      allowedNetworks,
    },
  };
}
