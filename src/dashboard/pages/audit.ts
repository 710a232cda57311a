import type { Selectable } from 'kysely';
import type { AuditLogTable } from '../../db/schema.ts';
import { html, type SafeHtml } from '../html.ts';
import { isoTime } from '../layout.ts';

// Who did what, when, from where, with which result (LOG-1, LOG-2), newest first.
export function auditPage(
  rows: ReadonlyArray<Selectable<AuditLogTable>>,
  filters: {
    actor?: string | undefined;
    action?: string | undefined;
    object?: string | undefined;
    result?: string | undefined;
  },
): SafeHtml {
  const results = ['', 'success', 'failure', 'denied'];
  return html`<form method="get" action="/dashboard/audit" class="filters">
  <label>Actor <input name="actor" value="${filters.actor ?? ''}" maxlength="40"></label>
  <label>Action starts with <input name="action" value="${filters.action ?? ''}" maxlength="64"></label>
  <label>Object <input name="object" value="${filters.object ?? ''}" maxlength="40"></label>
  <label>Result <select name="result">${results.map((r) => html`<option value="${r}"${r === (filters.result ?? '') ? ' selected' : ''}>${r === '' ? 'any' : r}</option>`)}</select></label>
  <button type="submit">Filter</button>
</form>
<table id="audit"><thead><tr><th>When</th><th>Who</th><th>What</th><th>Result</th><th>Object</th><th>From</th><th>Request</th><th>Details</th></tr></thead><tbody>${rows.map(
    (r) =>
      html`<tr><td>${isoTime(r.created_at)}</td><td>${r.actor_type} ${r.actor_id ?? ''}</td><td>${r.action}</td><td class="result-${r.result ?? ''}">${r.result ?? ''}</td><td>${r.object_type} ${r.object_id}</td><td>${r.ip ?? ''}<div class="agent">${r.user_agent ?? ''}</div></td><td>${r.request_id ?? ''}</td><td><pre>${r.details_json}</pre></td></tr>`,
  )}</tbody></table>`;
}
