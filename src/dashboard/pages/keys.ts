// API keys: list (prefix only, scopes, expiry with its 14/7/1-day warning, status), create
// (kind, scopes, expiry, signing, allowlist; the key and any signing secret shown once), roll
// (with an overlap of at most 7 days) and revoke.
import type { ApiKeySummary, CreatedKey } from '../../keys/api-keys.ts';
import { keyStatus } from '../../cli/keys.ts';
import { DEFAULT_EXPIRY_DAYS, MAX_EXPIRY_DAYS } from '../../keys/key-policy.ts';
import { expiryWarning } from '../../keys/lifecycle.ts';
import { DEFAULT_SCOPES, SCOPES } from '../../keys/scopes.ts';
import { html, type SafeHtml } from '../html.ts';
import { csrfField, isoTime } from '../layout.ts';

/** Overlaps offered by the Roll button, in seconds (API-3: at most 7 days). */
export const ROLL_OVERLAPS: ReadonlyArray<readonly [number, string]> = [
  [0, 'at once'],
  [3600, '1 hour'],
  [86_400, '24 hours'],
  [3 * 86_400, '3 days'],
  [7 * 86_400, '7 days'],
];

const isActive = (k: ApiKeySummary, nowMs: number) => k.revokedAt === null && k.expiresAt > nowMs;

export function keysPage(
  rows: readonly ApiKeySummary[],
  csrfToken: string,
  options: { canManage: boolean; liveEnabled: boolean; nowMs: number },
): SafeHtml {
  const { nowMs } = options;
  const expiring = rows.filter(
    (k) => isActive(k, nowMs) && k.rolledTo === null && expiryWarning(k.expiresAt, nowMs) !== undefined,
  );
  return html`${
    expiring.length === 0
      ? ''
      : html`<p class="notice warning" id="expiring-keys">${expiring.length} key${expiring.length === 1 ? '' : 's'} expire${expiring.length === 1 ? 's' : ''} within 14 days: ${expiring.map((k) => k.name).join(', ')}. Roll ${expiring.length === 1 ? 'it' : 'them'} before then.</p>`
  }<table id="keys"><thead><tr><th>Name</th><th>Key</th><th>Mode</th><th>Scopes</th><th>Signed</th><th>Allowed from</th><th>Created</th><th>Last used</th><th>Expires</th><th>Status</th><th></th></tr></thead><tbody>${rows.map(
    (k) =>
      html`<tr id="key-${k.id}"><td>${k.name}</td><td><code>${k.prefix}…</code></td><td>${k.mode}</td><td class="scopes">${k.scopes.join(' ')}</td><td>${k.signed ? 'yes' : 'no'}</td><td>${k.allowedNetworks.length === 0 ? 'anywhere' : k.allowedNetworks.join(', ')}</td><td>${isoTime(k.createdAt)}</td><td>${isoTime(k.lastUsedAt)}</td><td>${isoTime(k.expiresAt)}</td><td class="status${expiryWarning(k.expiresAt, nowMs) !== undefined && k.rolledTo === null && k.revokedAt === null ? ' warning' : ''}">${keyStatus(k, nowMs)}</td><td>${
        options.canManage && isActive(k, nowMs)
          ? html`${
              k.rolledTo === null
                ? html`<form method="post" action="/dashboard/keys/${k.id}/roll" class="inline">${csrfField(csrfToken)}<select name="overlap_seconds" aria-label="Old key keeps working">${ROLL_OVERLAPS.map(
                    ([seconds, label]) =>
                      html`<option value="${String(seconds)}"${seconds === 86_400 ? html` selected` : ''}>old key works ${label}</option>`,
                  )}</select><button type="submit">Roll</button></form>`
                : ''
            }<form method="post" action="/dashboard/keys/${k.id}/revoke" class="inline">${csrfField(csrfToken)}<button type="submit" class="danger">Revoke</button></form>`
          : ''
      }</td></tr>`,
  )}</tbody></table>
${
  options.canManage
    ? html`<h2>Create a key</h2>
<form method="post" action="/dashboard/keys" class="stack" id="create-key">${csrfField(csrfToken)}
  <label>Name <input name="name" required maxlength="64" pattern="[A-Za-z0-9 ._\\-]+"></label>
  <label>Mode <select name="mode"><option value="test">test</option>${options.liveEnabled ? html`<option value="live">live</option>` : ''}</select></label>
  <label>Kind <select name="kind"><option value="secret">secret key (sk_, for your servers)</option><option value="publishable">publishable key (pk_, for browsers: reads one payment status)</option></select></label>
  <fieldset id="scopes"><legend>Scopes of a secret key (the defaults suit taking payments; payouts must be asked for)</legend>${SCOPES.map(
    (scope) =>
      html`<label><input type="checkbox" name="scopes" value="${scope}"${DEFAULT_SCOPES.includes(scope) ? html` checked` : ''}> <code>${scope}</code></label>`,
  )}</fieldset>
  <label>Expires after (days) <input name="expires_in_days" type="number" min="1" max="${String(MAX_EXPIRY_DAYS)}" value="${String(DEFAULT_EXPIRY_DAYS)}" required></label>
  <label><input type="checkbox" name="signed" value="on"> Sign requests (X-API-KEY, X-TIMESTAMP, X-SIGNATURE; always on for live keys with payouts:write)</label>
  <label>Allowed from (addresses or CIDR ranges, comma-separated; empty for anywhere; required for live keys with payouts:write) <input name="allowed_networks" maxlength="2000"></label>
  <button type="submit">Create key</button>
</form>`
    : ''
}`;
}

export function keyCreatedPage(
  created: CreatedKey & { name: string; scopes: readonly string[]; rolledFrom?: { id: string; worksUntil: number } },
): SafeHtml {
  return html`<p class="notice">${
    created.rolledFrom === undefined
      ? ''
      : html`Rolled ${created.rolledFrom.id}: the old key keeps working until ${isoTime(created.rolledFrom.worksUntil)}, then answers <code>api_key_expired</code>. `
  }The key <strong>${created.name}</strong> (scopes <code>${created.scopes.join(' ')}</code>, expires ${isoTime(created.expiresAt)}) is shown once. Copy it into your backend's secret store now; Paywarden keeps only a keyed hash.</p>
<p><code id="new-key">${created.key}</code></p>${
    created.signingSecret === undefined
      ? ''
      : html`<p class="notice">This key signs its requests. Its signing secret, also shown only now:</p><p><code id="new-signing-secret">${created.signingSecret}</code></p>`
  }
<p><a href="/dashboard/keys">Back to API keys</a></p>`;
}
