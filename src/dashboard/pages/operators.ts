// Operators and roles: list, invite (a one-time enrolment link, 24 h), change a role, disable,
// unlock (owners, OPS-3).
import type { OperatorSummary } from '../../operators/accounts.ts';
import { OPERATOR_ROLES, type OperatorRole } from '../../operators/schema.ts';
import { PERMISSIONS, OPERATOR_ACTIONS } from '../../operators/permissions.ts';
import { html, type SafeHtml } from '../html.ts';
import { csrfField, isoTime } from '../layout.ts';

export function operatorsPage(
  rows: readonly OperatorSummary[],
  csrfToken: string,
  options: { selfId: string; assignable: readonly OperatorRole[]; canUnlock: boolean; nowMs: number },
): SafeHtml {
  const roleOptions = (current: OperatorRole) =>
    options.assignable.map((r) => html`<option value="${r}"${r === current ? ' selected' : ''}>${r}</option>`);
  return html`<table id="operators"><thead><tr><th>Name</th><th>Email</th><th>Role</th><th>Second factor</th><th>Status</th><th>Since</th><th></th></tr></thead><tbody>${rows.map(
    (o) => {
      const manageable = o.id !== options.selfId && !o.disabled && options.assignable.includes(o.role);
      const locked = o.lockedUntil !== null && o.lockedUntil > options.nowMs;
      return html`<tr><td>${o.name}</td><td>${o.email}</td><td>${o.role}</td><td>${o.totpEnabled ? 'TOTP' : 'not set up'}</td><td>${o.disabled ? 'disabled' : locked ? html`locked until ${isoTime(o.lockedUntil!)}` : 'active'}</td><td>${isoTime(o.createdAt)}</td><td>${
        manageable
          ? html`<form method="post" action="/dashboard/operators/${o.id}/role" class="inline">${csrfField(csrfToken)}<select name="role" aria-label="Role">${roleOptions(o.role)}</select> <button type="submit">Change role</button></form>
<form method="post" action="/dashboard/operators/${o.id}/disable" class="inline">${csrfField(csrfToken)}<button type="submit" class="danger">Disable</button></form>`
          : ''
      }${
        options.canUnlock && locked && !o.disabled
          ? html`<form method="post" action="/dashboard/operators/${o.id}/unlock" class="inline">${csrfField(csrfToken)}<button type="submit">Unlock</button></form>`
          : ''
      }</td></tr>`;
    },
  )}</tbody></table>
<h2>Invite an operator</h2>
<form method="post" action="/dashboard/operators/invite" class="stack" id="invite">${csrfField(csrfToken)}
  <label>Email <input type="email" name="email" required maxlength="254"></label>
  <label>Role <select name="role">${options.assignable.map((r) => html`<option value="${r}"${r === 'viewer' ? ' selected' : ''}>${r}</option>`)}</select></label>
  <button type="submit">Create invitation link</button>
</form>
<h2>Roles</h2>
${permissionMatrix()}`;
}

export function permissionMatrix(): SafeHtml {
  return html`<table id="permissions"><thead><tr><th>Role</th>${OPERATOR_ACTIONS.map((a) => html`<th>${a.replaceAll('_', ' ')}</th>`)}</tr></thead><tbody>${OPERATOR_ROLES.map(
    (r) =>
      html`<tr><td>${r}</td>${OPERATOR_ACTIONS.map((a) => html`<td>${PERMISSIONS[r][a] ? 'yes' : '—'}</td>`)}</tr>`,
  )}</tbody></table>`;
}

export function inviteCreatedPage(invite: {
  email: string;
  role: OperatorRole;
  link: string;
  expiresAt: number;
}): SafeHtml {
  return html`<p class="notice">Send this link to <strong>${invite.email}</strong> (${invite.role}) over a channel you trust. It works once and expires at ${isoTime(invite.expiresAt)}; it is not shown again.</p>
<p><code id="invite-link">${invite.link}</code></p>
<p><a href="/dashboard/operators">Back to operators</a></p>`;
}
