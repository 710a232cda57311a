import type { PaymentRow } from '../../db/schema.ts';
import { currencyExponent } from '../../money/currencies.ts';
import { html, type SafeHtml } from '../html.ts';
import { formatMinor, isoTime } from '../layout.ts';
import type { DashboardQueries } from '../queries.ts';
import { historyTables } from './history.ts';

type Timeline = NonNullable<Awaited<ReturnType<DashboardQueries['paymentTimeline']>>>;

const amount = (p: PaymentRow) => formatMinor(p.amount_minor, p.currency, currencyExponent(p.currency));

export function paymentsPage(payments: readonly PaymentRow[], query: string | undefined): SafeHtml {
  return html`<form method="get" action="/dashboard/payments" role="search">
  <label>Reference, email or id <input type="search" name="q" value="${query ?? ''}" maxlength="254"></label> <button type="submit">Search</button>
</form>
<table id="payments">
<thead><tr><th>Created</th><th>Payment</th><th>Reference</th><th>Customer</th><th>Amount</th><th>Status</th><th>Provider</th></tr></thead>
<tbody>${payments.map(
    (p) =>
      html`<tr><td>${isoTime(p.created_at)}</td><td><a href="/dashboard/payments/${p.id}">${p.id}</a></td><td>${p.reference}</td><td>${p.customer_name ?? ''} ${p.customer_email}</td><td>${amount(p)}</td><td class="status-${p.status}">${p.status}</td><td>${p.provider}</td></tr>`,
  )}</tbody>
</table>
${payments.length === 0 ? html`<p>No payments match.</p>` : ''}`;
}

/** Everything that happened to one payment, in order: what came in, what we asked, what went out. */
export function paymentDetailPage(t: Timeline): SafeHtml {
  const p = t.payment;
  const metadata = JSON.parse(p.metadata_json) as Record<string, string>;
  return html`<table id="payment">
<tr><th>Status</th><td class="status-${p.status}">${p.status}${p.status_reason === null ? '' : html` (${p.status_reason})`}</td></tr>
<tr><th>Amount</th><td>${amount(p)}</td></tr>
<tr><th>Reference</th><td>${p.reference}</td></tr>
<tr><th>Customer</th><td><span id="customer-name">${p.customer_name ?? ''}</span> ${p.customer_email} ${p.customer_phone ?? ''}</td></tr>
<tr><th>Description</th><td>${p.description ?? ''}</td></tr>
<tr><th>Metadata</th><td><dl id="metadata">${Object.entries(metadata).map(([k, v]) => html`<dt>${k}</dt><dd>${v}</dd>`)}</dl></td></tr>
<tr><th>Provider</th><td>${p.provider} ${p.provider_tx_id ?? ''}</td></tr>
<tr><th>Created</th><td>${isoTime(p.created_at)}</td></tr>
</table>
<h2>Webhooks in</h2>
<table><thead><tr><th>Received</th><th>Event</th><th>Signature</th><th>Processing</th><th>Payload</th></tr></thead><tbody>${t.webhooks.map(
    (w) =>
      html`<tr><td>${isoTime(w.received_at)}</td><td>${w.event_type}</td><td>${w.signature_scheme}</td><td>${w.status}: ${w.result ?? ''}</td><td><pre>${w.body}</pre></td></tr>`,
  )}</tbody></table>
<h2>Verification calls</h2>
<table><thead><tr><th>When</th><th>Outcome</th><th>Latency</th><th>Detail</th></tr></thead><tbody>${t.verifications.map(
    (v) =>
      html`<tr><td>${isoTime(v.attempted_at)}</td><td>${v.outcome}</td><td>${v.latency_ms} ms</td><td><pre>${v.detail_json}</pre></td></tr>`,
  )}</tbody></table>
${historyTables(t)}`;
}
