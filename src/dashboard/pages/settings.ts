// Settings: the operator's own account (password, recovery codes, session) and a read-only view of
// the deployment's security-relevant configuration.
import type { PasswordRuleFailure } from '../../operators/password-policy.ts';
import type { PasskeySummary } from '../../operators/passkeys.ts';
import { PASSKEY_SCRIPT, reauthForm } from './sign-in.ts';
import { html, type SafeHtml } from '../html.ts';
import { csrfField, isoTime } from '../layout.ts';

export interface SettingsView {
  readonly session: { readonly createdAt: number; readonly expiresAt: number; readonly idleTimeoutMinutes: number };
  readonly deployment: ReadonlyArray<readonly [string, string]>;
  readonly passkeys: readonly PasskeySummary[];
  /** Password entered within 5 minutes: second factors may be added. */
  readonly fresh: boolean;
  readonly error?: string;
  readonly failures?: readonly PasswordRuleFailure[];
  readonly notice?: string;
}

export function settingsPage(view: SettingsView, csrfToken: string): SafeHtml {
  return html`${view.notice === undefined ? '' : html`<p class="notice" id="notice">${view.notice}</p>`}
<h2>Your session</h2>
<p>Signed in at ${isoTime(view.session.createdAt)}; ends at ${isoTime(view.session.expiresAt)} at the latest, or after ${view.session.idleTimeoutMinutes} minutes without activity.</p>
<h2>Change password</h2>
${view.error === undefined ? '' : html`<p class="error" id="problem">${view.error}</p>`}
${view.failures === undefined || view.failures.length === 0 ? '' : html`<ul class="error" id="password-rules">${view.failures.map((f) => html`<li data-rule="${f.code}">${f.message}</li>`)}</ul>`}
<form method="post" action="/dashboard/settings/password" class="stack" id="change-password">${csrfField(csrfToken)}
  <label>Current password <input type="password" name="current_password" required maxlength="128" autocomplete="current-password"></label>
  <label>New password <input type="password" name="new_password" required minlength="12" maxlength="128" autocomplete="new-password"></label>
  <button type="submit">Change password (signs you out)</button>
</form>
<h2>Passkeys</h2>
<p>A passkey can replace the authenticator code at sign-in. The authenticator app stays set up as the fallback.</p>
<table id="passkeys">${view.passkeys.map((p) => html`<tr><td>${p.name}</td><td>added ${isoTime(p.createdAt)}</td><td>last used ${isoTime(p.lastUsedAt)}</td><td><form method="post" action="/dashboard/settings/passkeys/${p.id}/delete" class="inline">${csrfField(csrfToken)}<button type="submit" class="danger">Remove</button></form></td></tr>`)}</table>
${
  view.fresh
    ? html`<form method="post" action="/dashboard/settings/passkeys" class="stack" id="add-passkey">${csrfField(csrfToken)}
  <label>Name for this passkey <input name="name" required maxlength="64" value="My passkey"></label>
  <button type="submit">Add a passkey</button>
</form>`
    : html`<p>To add a passkey, confirm your password first.</p>${reauthForm('/dashboard/settings', csrfToken)}`
}
<p class="error" id="passkey-problem" role="alert" hidden></p>
${PASSKEY_SCRIPT}
<h2>Recovery codes</h2>
<form method="post" action="/dashboard/settings/recovery-codes" class="stack">${csrfField(csrfToken)}<button type="submit">Replace my recovery codes</button></form>
<h2>Deployment</h2>
<table id="deployment">${view.deployment.map(([k, v]) => html`<tr><th>${k}</th><td>${v}</td></tr>`)}</table>`;
}
