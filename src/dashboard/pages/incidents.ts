// MON-3, the incident page: the list and an "open" form; one incident's timeline with its forms
// (rotate every credential, export a window, record a finding, a measure or a note, close); the
// rotation's new secrets, shown once. Owners and admins, each change behind a fresh password.
import type { Selectable } from 'kysely';
import type { IncidentsTable, IncidentTimelineTable } from '../../db/schema.ts';
import type { Rotated } from '../../incidents/incident-service.ts';
import { html, type SafeHtml } from '../html.ts';
import { csrfField, isoTime } from '../layout.ts';

type Incident = Selectable<IncidentsTable>;

export function incidentsPage(rows: readonly Incident[], csrfToken: string): SafeHtml {
  return html`<p>An incident records what happened and each step taken about it, in the audit log too. Your webhook endpoints subscribed to <code>incident.*</code> (or <code>*</code>) are told when one is opened, when credentials are rotated and when it is closed. The same steps exist on the command line (<code>paywarden incident</code>).</p>
<table id="incidents"><thead><tr><th>Incident</th><th>Title</th><th>Status</th><th>Opened</th><th>Closed</th></tr></thead><tbody>${
    rows.length === 0
      ? html`<tr><td colspan="5">No incident yet.</td></tr>`
      : rows.map(
          (r) =>
            html`<tr><td><a href="/dashboard/incidents/${r.id}">${r.id}</a></td><td>${r.title}</td><td>${r.status}</td><td>${isoTime(r.opened_at)}</td><td>${isoTime(r.closed_at)}</td></tr>`,
        )
  }</tbody></table>
<h2>Open an incident</h2>
<form method="post" action="/dashboard/incidents" class="stack" id="open-incident">${csrfField(csrfToken)}
  <label>What happened, in a line <input type="text" name="title" required minlength="3" maxlength="200"></label>
  <button type="submit">Open the incident</button>
</form>`;
}

const utcMinute = (ms: number) => new Date(ms).toISOString().slice(0, 16);

export function incidentPage(
  incident: Incident,
  timeline: readonly Selectable<IncidentTimelineTable>[],
  csrfToken: string,
  nowMs: number,
): SafeHtml {
  const open = incident.status === 'open';
  const action = (what: string) => `/dashboard/incidents/${incident.id}/${what}`;
  return html`<p>Status: <strong id="incident-status">${incident.status}</strong> · opened ${isoTime(incident.opened_at)}${incident.closed_at === null ? '' : html` · closed ${isoTime(incident.closed_at)}`}</p>
<h2>Timeline</h2>
<table id="timeline"><thead><tr><th>When</th><th>Step</th><th>What</th></tr></thead><tbody>${timeline.map(
    (row) =>
      html`<tr class="step-${row.kind}"><td>${isoTime(row.at)}</td><td>${row.kind}</td><td>${row.text}</td></tr>`,
  )}</tbody></table>
${
  open
    ? html`<h2>Record</h2>
<form method="post" action="${action('notes')}" class="stack" id="incident-note">${csrfField(csrfToken)}
  <label>Kind <select name="kind"><option value="finding">finding (what happened, how)</option><option value="measure">preventive measure</option><option value="note">note (for the timeline)</option></select></label>
  <label>Text <input type="text" name="text" required minlength="3" maxlength="2000"></label>
  <button type="submit">Record</button>
</form>
<h2>Rotate every credential</h2>
<p>New API keys for every working key (the old ones keep working for the overlap, so your servers can switch), a new signing secret for every webhook endpoint (the old one signs beside it for 24 hours), a new receipt signing key for each mode that has one (receipts signed before still verify), and every operator session ended, yours included: you sign in again after reading the new secrets, which are shown once.</p>
<form method="post" action="${action('rotate')}" class="stack" id="incident-rotate">${csrfField(csrfToken)}
  <label>Old API keys keep working for (hours, 0 to 168) <input type="number" name="key_overlap_hours" value="24" min="0" max="168" required></label>
  <button type="submit" class="danger">Rotate now</button>
</form>
<h2>Export</h2>
<p>The audit log, provider webhooks and webhook deliveries of a time window (UTC), as one JSON file; its SHA-256 is recorded in the timeline.</p>
<form method="post" action="${action('export')}" class="stack" id="incident-export">${csrfField(csrfToken)}
  <label>From (UTC) <input type="datetime-local" name="from" value="${utcMinute(incident.opened_at - 7 * 86_400_000)}" required></label>
  <label>To (UTC) <input type="datetime-local" name="to" value="${utcMinute(nowMs + 60_000)}" required></label>
  <button type="submit">Download the export</button>
</form>
<h2>Close</h2>
<p>Closing needs at least one finding and one preventive measure on record.</p>
<form method="post" action="${action('close')}" id="incident-close">${csrfField(csrfToken)}<button type="submit">Close the incident</button></form>`
    : html`<p>This incident is closed; its timeline is kept.</p>`
}`;
}

export function rotatedPage(incidentId: string, rotated: Rotated): SafeHtml {
  return html`<p class="warning">These secrets are shown once: deploy them now. Every operator session has ended, yours too: the next page asks you to sign in again.</p>
<h2>API keys</h2>
<table id="rotated-keys"><thead><tr><th>New key</th><th>Mode</th><th>Replaces</th><th>Old one stops</th></tr></thead><tbody>${rotated.apiKeys.map(
    (k) => html`<tr><td><code>${k.key}</code></td><td>${k.mode}</td><td>${k.oldId}</td><td>${k.oldStopsAt}</td></tr>`,
  )}</tbody></table>
<h2>Webhook endpoint secrets</h2>
<table id="rotated-secrets"><thead><tr><th>Endpoint</th><th>Mode</th><th>New secret</th><th>Old one stops</th></tr></thead><tbody>${rotated.endpointSecrets.map(
    (e) =>
      html`<tr><td>${e.endpointId}</td><td>${e.mode}</td><td><code>${e.secret}</code></td><td>${e.oldStopsAt}</td></tr>`,
  )}</tbody></table>
<h2>Receipt keys</h2>
${
  rotated.receiptKeys.length === 0
    ? html`<p id="rotated-receipt-keys">None to rotate: no receipt has been issued yet.</p>`
    : html`<ul id="rotated-receipt-keys">${rotated.receiptKeys.map((k) => html`<li>${k.newId} (${k.mode}) signs from now on; ${k.oldId} and older still verify earlier receipts. Whoever verifies receipts gets the new key with <code>paywarden receipts key ${k.newId}</code>.</li>`)}</ul>`
}
<p>Operator sessions ended: <span id="sessions-ended">${rotated.sessionsEnded}</span>.</p>
<p><a href="/dashboard/incidents/${incidentId}">Back to the incident</a> (you will be asked to sign in).</p>`;
}
