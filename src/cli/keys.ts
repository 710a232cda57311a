// `paywarden keys create|list|revoke`: the same service, checks and audit rows as the dashboard's
// API keys page. Each function returns the text to print and whether it worked.
import type { ApiKeyService } from '../keys/api-keys.ts';
import { DEFAULT_SCOPES, SCOPES, validateScopes } from '../keys/scopes.ts';
import type { Mode } from '../db/schema.ts';

export interface CliResult {
  readonly ok: boolean;
  readonly text: string;
}

const NAME = /^[\w .-]{1,64}$/;

/** `--scope` may repeat and each may hold a comma-separated list. */
export function collectScopes(value: string, previous: string[] = []): string[] {
  return [...previous, ...value.split(',').map((s) => s.trim())];
}

export async function createKeyFromCli(
  keys: ApiKeyService,
  options: { mode: Mode; name: string; scope?: string[]; liveEnabled: boolean },
): Promise<CliResult> {
  if (!NAME.test(options.name))
    return { ok: false, text: '--name must be 1 to 64 letters, digits, spaces, dots, dashes or underscores' };
  if (options.mode === 'live' && !options.liveEnabled)
    return {
      ok: false,
      text: 'Live mode is not enabled (set PAYWARDEN_LIVE_ENABLED=true with live provider credentials).',
    };
  const scopes = validateScopes(options.scope ?? DEFAULT_SCOPES);
  if (!scopes.ok) return { ok: false, text: `--scope: ${scopes.message}` };
  const created = await keys.create({ mode: options.mode, name: options.name, scopes: scopes.scopes });
  return {
    ok: true,
    text: [
      `Created ${created.id} (${options.mode}) with scopes ${scopes.scopes.join(' ')}.`,
      'This is the only time the key is shown; store it now:',
      '',
      `  ${created.key}`,
      '',
    ].join('\n'),
  };
}

export const SCOPE_HELP = `scopes (repeat or comma-separate): ${SCOPES.join(', ')}; default ${DEFAULT_SCOPES.join(',')}`;

export async function listKeysText(keys: ApiKeyService): Promise<string> {
  const rows = await keys.list();
  const iso = (ms: number | null) => (ms === null ? '-' : new Date(ms).toISOString());
  return [
    ['id', 'prefix', 'name', 'mode', 'scopes', 'created', 'last used', 'revoked'].join('\t'),
    ...rows.map((r) =>
      [
        r.id,
        `${r.prefix}…`,
        r.name,
        r.mode,
        r.scopes.join(','),
        iso(r.createdAt),
        iso(r.lastUsedAt),
        iso(r.revokedAt),
      ].join('\t'),
    ),
  ].join('\n');
}
