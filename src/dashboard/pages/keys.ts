// API keys: list (prefix only, scopes), create (scopes ticked, the key shown once), revoke.
import type { ApiKeySummary } from '../../keys/api-keys.ts';
import { DEFAULT_SCOPES, SCOPES } from '../../keys/scopes.ts';
import { html, type SafeHtml } from '../html.ts';
import { csrfField, isoTime } from '../layout.ts';

export function keysPage(
  rows: readonly ApiKeySummary[],
  csrfToken: string,
  options: { canManage: boolean; liveEnabled: boolean },
): SafeHtml {
  return html`<table id="keys"><thead><tr><th>Name</th><th>Key</th><th>Mode</th><th>Scopes</th><th>Created</th><th>Last used</th><th>Status</th><th></th></tr></thead><tbody>${rows.map(
    (k) =>
      html`<tr><td>${k.name}</td><td><code>${k.prefix}…</code></td><td>${k.mode}</td><td class="scopes">${k.scopes.join(' ')}</td><td>${isoTime(k.createdAt)}</td><td>${isoTime(k.lastUsedAt)}</td><td>${k.revokedAt === null ? 'active' : html`revoked ${isoTime(k.revokedAt)}`}</td><td>${
        options.canManage && k.revokedAt === null
          ? html`<form method="post" action="/dashboard/keys/${k.id}/revoke" class="inline">${csrfField(csrfToken)}<button type="submit" class="danger">Revoke</button></form>`
          : ''
      }</td></tr>`,
  )}</tbody></table>
${
  options.canManage
    ? html`<h2>Create a key</h2>
<form method="post" action="/dashboard/keys" class="stack" id="create-key">${csrfField(csrfToken)}
  <label>Name <input name="name" required maxlength="64" pattern="[A-Za-z0-9 ._\\-]+"></label>
  <label>Mode <select name="mode"><option value="test">test</option>${options.liveEnabled ? html`<option value="live">live</option>` : ''}</select></label>
  <fieldset id="scopes"><legend>Scopes (the defaults suit taking payments; payouts must be asked for)</legend>${SCOPES.map(
    (scope) =>
      html`<label><input type="checkbox" name="scopes" value="${scope}"${DEFAULT_SCOPES.includes(scope) ? html` checked` : ''}> <code>${scope}</code></label>`,
  )}</fieldset>
  <button type="submit">Create key</button>
</form>`
    : ''
}`;
}

export function keyCreatedPage(key: { id: string; key: string; name: string; scopes: readonly string[] }): SafeHtml {
  return html`<p class="notice">The key <strong>${key.name}</strong> (scopes <code>${key.scopes.join(' ')}</code>) is shown once. Copy it into your backend's secret store now; Paywarden keeps only a keyed hash.</p>
<p><code id="new-key">${key.key}</code></p>
<p><a href="/dashboard/keys">Back to API keys</a></p>`;
}
