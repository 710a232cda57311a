// `paywarden keys create|list|roll|revoke`: the same service, checks and audit rows as the
// dashboard's API keys page. Each function returns the text to print and whether it worked.
import type { ApiKeyService, ApiKeySummary, CreatedKey } from '../keys/api-keys.ts';
import { checkKeyRequest, DEFAULT_ROLL_OVERLAP_SECONDS, MAX_EXPIRY_DAYS, type KeyRequest } from '../keys/key-policy.ts';
import { daysLeft, expiryWarning } from '../keys/lifecycle.ts';
import { DEFAULT_SCOPES, SCOPES } from '../keys/scopes.ts';
import type { Mode } from '../db/schema.ts';

export interface CliResult {
  readonly ok: boolean;
  readonly text: string;
}

/** `--scope` and `--allow` may repeat and each may hold a comma-separated list. */
export function collectList(value: string, previous: string[] = []): string[] {
  return [...previous, ...value.split(',').map((s) => s.trim())];
}

export const SCOPE_HELP = `scopes (repeat or comma-separate): ${SCOPES.join(', ')}; default ${DEFAULT_SCOPES.join(',')}`;
export const EXPIRY_HELP = `days until the key expires, 1 to ${MAX_EXPIRY_DAYS}`;

const iso = (ms: number | null) => (ms === null ? '-' : new Date(ms).toISOString());

function shownOnce(created: CreatedKey): string[] {
  return [
    'This is the only time the key is shown; store it now:',
    '',
    `  ${created.key}`,
    '',
    ...(created.signingSecret === undefined
      ? []
      : [
          'It signs its requests (X-API-KEY, X-TIMESTAMP, X-SIGNATURE; docs/api-keys.md). Its signing secret, also shown only now:',
          '',
          `  ${created.signingSecret}`,
          '',
        ]),
    `It expires at ${iso(created.expiresAt)}.`,
  ];
}

export async function createKeyFromCli(
  keys: ApiKeyService,
  options: {
    mode: Mode;
    name: string;
    scope?: string[];
    expiresInDays?: string;
    signed?: boolean;
    allow?: string[];
    publishable?: boolean;
    liveEnabled: boolean;
  },
): Promise<CliResult> {
  if (options.mode === 'live' && !options.liveEnabled)
    return {
      ok: false,
      text: 'Live mode is not enabled (set PAYWARDEN_LIVE_ENABLED=true with live provider credentials).',
    };
  const days = options.expiresInDays === undefined ? undefined : Number(options.expiresInDays);
  const request: KeyRequest = {
    kind: options.publishable === true ? 'publishable' : 'secret',
    mode: options.mode,
    name: options.name,
    ...(options.scope === undefined ? {} : { scopes: options.scope }),
    ...(days === undefined ? {} : { expiresInDays: days }),
    ...(options.signed === true ? { signed: true } : {}),
    ...(options.allow === undefined ? {} : { allowedNetworks: options.allow }),
  };
  const checked = checkKeyRequest(request);
  if (!checked.ok) return { ok: false, text: checked.message };
  const created = await keys.create(request);
  const what =
    checked.request.kind === 'publishable'
      ? 'a publishable key (browser-safe: it reads one payment status by its client secret)'
      : `scopes ${checked.request.scopes.join(' ')}`;
  const allow = checked.request.allowedNetworks.length === 0 ? '' : `, from ${(options.allow ?? []).join(', ')} only`;
  return {
    ok: true,
    text: [`Created ${created.id} (${options.mode}) with ${what}${allow}.`, ...shownOnce(created)].join('\n'),
  };
}

export async function rollKeyFromCli(
  keys: ApiKeyService,
  id: string,
  options: { overlapHours?: string; expiresInDays?: string },
): Promise<CliResult> {
  const overlapSeconds =
    options.overlapHours === undefined ? DEFAULT_ROLL_OVERLAP_SECONDS : Math.round(Number(options.overlapHours) * 3600);
  if (!Number.isFinite(overlapSeconds) || overlapSeconds < 0 || overlapSeconds > 7 * 86_400)
    return { ok: false, text: '--overlap-hours must be 0 to 168 (7 days).' };
  const days = options.expiresInDays === undefined ? undefined : Number(options.expiresInDays);
  if (days !== undefined && !(Number.isInteger(days) && days >= 1 && days <= MAX_EXPIRY_DAYS))
    return { ok: false, text: `--expires-in-days must be 1 to ${MAX_EXPIRY_DAYS}.` };
  const rolled = await keys.roll(id, { overlapSeconds, ...(days === undefined ? {} : { expiresInDays: days }) });
  if (!rolled.ok)
    return {
      ok: false,
      text: {
        not_found: `No key ${id}.`,
        not_active: `${id} is revoked or expired; create a new key instead.`,
        already_rolled: `${id} was already rolled; roll its replacement, or revoke it.`,
      }[rolled.reason],
    };
  return {
    ok: true,
    text: [
      `Rolled ${id} to ${rolled.id}. The old key keeps working until ${iso(rolled.previousExpiresAt)}, then answers api_key_expired.`,
      ...shownOnce(rolled),
    ].join('\n'),
  };
}

/** What a key's state is, in words, with its expiry warning (14, 7, 1 days). */
export function keyStatus(k: ApiKeySummary, nowMs: number): string {
  if (k.revokedAt !== null) return `revoked ${iso(k.revokedAt)}`;
  if (k.expiresAt <= nowMs) return `expired ${iso(k.expiresAt)}`;
  if (k.rolledTo !== null) return `rolled to ${k.rolledTo}, works until ${iso(k.expiresAt)}`;
  const warning = expiryWarning(k.expiresAt, nowMs);
  if (warning === undefined) return 'active';
  const left = daysLeft(k.expiresAt, nowMs);
  return `WARNING: expires within ${warning} day${warning === 1 ? '' : 's'} (${left} left); roll it`;
}

export async function listKeysText(keys: ApiKeyService, nowMs: number): Promise<string> {
  const rows = await keys.list();
  return [
    [
      'id',
      'prefix',
      'name',
      'mode',
      'scopes',
      'signed',
      'allowed from',
      'created',
      'last used',
      'expires',
      'status',
    ].join('\t'),
    ...rows.map((r) =>
      [
        r.id,
        `${r.prefix}…`,
        r.name,
        r.mode,
        r.scopes.join(','),
        r.signed ? 'yes' : 'no',
        r.allowedNetworks.length === 0 ? 'anywhere' : r.allowedNetworks.join(','),
        iso(r.createdAt),
        iso(r.lastUsedAt),
        iso(r.expiresAt),
        keyStatus(r, nowMs),
      ].join('\t'),
    ),
  ].join('\n');
}
