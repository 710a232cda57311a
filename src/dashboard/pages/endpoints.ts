// Webhook endpoints: list, add (the signing secret shown once), rotate the secret (the old one keeps
// signing for 24 h), delete.
import { html, type SafeHtml } from '../html.ts';
import { csrfField } from '../layout.ts';
import type { EndpointService } from '../../webhook-endpoints/endpoint-service.ts';

type Endpoint = Awaited<ReturnType<EndpointService['list']>>[number];

export const ENDPOINT_EVENT_CHOICES = [
  'payment.succeeded',
  'payment.failed',
  'payment.requires_review',
  'payment.expired',
  '*',
] as const;

export function endpointsPage(rows: readonly Endpoint[], csrfToken: string, canManage: boolean): SafeHtml {
  return html`<table id="endpoints"><thead><tr><th>URL</th><th>Events</th><th>Status</th><th>Created</th><th></th></tr></thead><tbody>${rows.map(
    (e) =>
      html`<tr><td><code>${e.url}</code></td><td>${e.events.join(', ')}</td><td>${e.status}${e.disabled_reason === null ? '' : html` (${e.disabled_reason})`}</td><td>${e.created_at}</td><td>${
        canManage
          ? html`<form method="post" action="/dashboard/endpoints/${e.id}/rotate" class="inline">${csrfField(csrfToken)}<button type="submit">Rotate secret</button></form>
<form method="post" action="/dashboard/endpoints/${e.id}/delete" class="inline">${csrfField(csrfToken)}<button type="submit" class="danger">Delete</button></form>`
          : ''
      }</td></tr>`,
  )}</tbody></table>
${rows.length === 0 ? html`<p>No webhook endpoints yet.</p>` : ''}
${
  canManage
    ? html`<h2>Add an endpoint</h2>
<form method="post" action="/dashboard/endpoints" class="stack" id="add-endpoint">${csrfField(csrfToken)}
  <label>URL <input type="url" name="url" required maxlength="2048" placeholder="https://merchant.example/paywarden-events"></label>
  <fieldset><legend>Events</legend>${ENDPOINT_EVENT_CHOICES.map((ev) => html`<label><input type="checkbox" name="events" value="${ev}"${ev === '*' ? '' : ' checked'}> ${ev === '*' ? 'all events' : ev}</label>`)}</fieldset>
  <button type="submit">Add endpoint</button>
</form>`
    : ''
}`;
}

export function endpointSecretPage(
  endpoint: { id: string; url: string },
  secret: string,
  previousExpiresAt?: string,
): SafeHtml {
  return html`<p class="notice">The signing secret for <code>${endpoint.url}</code> is shown once. Store it in your application now.${previousExpiresAt === undefined ? '' : html` The previous secret keeps signing alongside it until ${previousExpiresAt}.`}</p>
<p><code id="signing-secret">${secret}</code></p>
<p><a href="/dashboard/endpoints">Back to webhook endpoints</a></p>`;
}
