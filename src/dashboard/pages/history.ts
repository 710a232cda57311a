// The tail of every object's detail page: what was announced about it (events, each with its
// deliveries) and what was done to it (audit rows, with the operator's reason where one was given).
import { html, type SafeHtml } from '../html.ts';
import { isoTime } from '../layout.ts';
import type { DashboardQueries } from '../queries.ts';

type History = Awaited<ReturnType<DashboardQueries['objectHistory']>>;

/** The reason an operator gave for an action, as the services record it in the audit details. */
function noteOf(detailsJson: string): string {
  try {
    const details = JSON.parse(detailsJson) as { note?: unknown };
    return typeof details.note === 'string' ? details.note : '';
  } catch {
    return '';
  }
}

export function historyTables(t: History): SafeHtml {
  return html`<h2>Events and deliveries</h2>
<table id="object-events"><thead><tr><th>When</th><th>Event</th><th>Deliveries</th></tr></thead><tbody>${t.events.map(
    (e) =>
      html`<tr><td>${isoTime(e.created_at)}</td><td>${e.type} <code>${e.id}</code></td><td>${t.deliveries
        .filter((d) => d.event_id === e.id)
        .map(
          (d) =>
            html`<div>${d.endpoint_id}: ${d.status} after ${d.attempts} attempt(s), last ${d.last_status_code ?? '—'}</div>`,
        )}</td></tr>`,
  )}</tbody></table>
<h2>Audit</h2>
<table id="object-audit"><thead><tr><th>When</th><th>Action</th><th>By</th><th>Result</th><th>Reason</th></tr></thead><tbody>${t.audit.map(
    (a) =>
      html`<tr><td>${isoTime(a.created_at)}</td><td>${a.action}</td><td>${a.actor_type} ${a.actor_id ?? ''}</td><td>${a.result}</td><td>${noteOf(a.details_json)}</td></tr>`,
  )}</tbody></table>`;
}
