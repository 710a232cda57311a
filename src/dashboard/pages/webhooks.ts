// Webhooks in (what providers sent us: raw payload, signature scheme, processing result) and out
// (what we delivered to the merchant: attempts, responses, redelivery).
import type { Selectable } from 'kysely';
import type { DeliveryAttemptsTable, ProviderWebhooksTable } from '../../db/schema.ts';
import { html, type SafeHtml } from '../html.ts';
import { csrfField, isoTime } from '../layout.ts';
import type { DashboardQueries } from '../queries.ts';

type Delivery = Awaited<ReturnType<DashboardQueries['deliveriesOut']>>[number];

export function webhooksInPage(rows: ReadonlyArray<Selectable<ProviderWebhooksTable>>): SafeHtml {
  return html`<table id="webhooks-in"><thead><tr><th>Received</th><th>Provider</th><th>Event</th><th>Reference</th><th>Signature</th><th>Processing</th></tr></thead><tbody>${rows.map(
    (w) =>
      html`<tr><td><a href="/dashboard/webhooks-in/${w.id}">${isoTime(w.received_at)}</a></td><td>${w.provider}</td><td>${w.event_type}</td><td>${w.provider_reference ?? ''}</td><td>valid (${w.signature_scheme})</td><td class="status-${w.status}">${w.status}${w.result === null ? '' : html`: ${w.result}`}</td></tr>`,
  )}</tbody></table>
${rows.length === 0 ? html`<p>No provider webhooks received yet.</p>` : ''}
<p>Only webhooks with a valid signature are stored; rejected ones are counted in <code>paywarden_provider_webhooks_total</code> (by <code>result</code>) and logged.</p>`;
}

export function webhookInDetailPage(w: Selectable<ProviderWebhooksTable>): SafeHtml {
  return html`<table id="webhook"><tr><th>Received</th><td>${isoTime(w.received_at)}</td></tr>
<tr><th>Provider</th><td>${w.provider} (${w.mode})</td></tr>
<tr><th>Event</th><td>${w.event_type}</td></tr>
<tr><th>Deduplication key</th><td><code>${w.dedupe_key}</code></td></tr>
<tr><th>Signature</th><td>valid (${w.signature_scheme})</td></tr>
<tr><th>Processing</th><td class="status-${w.status}">${w.status}${w.result === null ? '' : html`: ${w.result}`} ${w.processed_at === null ? '' : html`at ${isoTime(w.processed_at)}`}</td></tr>
<tr><th>Payment</th><td>${w.provider_reference === null ? '—' : html`<a href="/dashboard/payments/${w.provider_reference}">${w.provider_reference}</a>`}</td></tr>
</table>
<h2>Raw payload</h2>
<pre id="payload">${w.body}</pre>`;
}

export function webhooksOutPage(
  rows: readonly Delivery[],
  attempts: ReadonlyArray<Selectable<DeliveryAttemptsTable>>,
  csrfToken: string,
  canRedeliver: boolean,
  showResponses: boolean,
): SafeHtml {
  return html`<table id="webhooks-out"><thead><tr><th>Event</th><th>Endpoint</th><th>Status</th><th>Attempts</th><th>Last response</th><th>Last attempt</th><th></th></tr></thead><tbody>${rows.map(
    (
      d,
    ) => html`<tr><td>${d.type} <code>${d.event_id}</code></td><td><code>${d.endpoint_id}</code></td><td class="status-${d.status}">${d.status}</td><td>${d.attempts}</td><td>${d.last_status_code ?? '—'}</td><td>${isoTime(d.last_attempt_at)}</td><td>${
      canRedeliver
        ? html`<form method="post" action="/dashboard/events/${d.event_id}/redeliver" class="inline">${csrfField(csrfToken)}<button type="submit">Redeliver</button></form>`
        : ''
    }</td></tr>
<tr class="attempts"><td colspan="7">${attempts
      .filter((a) => a.delivery_id === d.id)
      .map(
        (a) =>
          html`<div>${isoTime(a.attempted_at)}: ${a.status_code ?? 'no answer'} in ${a.latency_ms} ms ${a.error ?? ''}${showResponses && a.response_excerpt !== null ? html` <code class="excerpt">${a.response_excerpt}</code>` : ''}</div>`,
      )}</td></tr>`,
  )}</tbody></table>
${rows.length === 0 ? html`<p>No events delivered yet. Add a webhook endpoint to receive them.</p>` : ''}`;
}
