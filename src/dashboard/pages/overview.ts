import { html, type SafeHtml } from '../html.ts';
import type { DashboardQueries } from '../queries.ts';

export function overviewPage(data: Awaited<ReturnType<DashboardQueries['overview']>>): SafeHtml {
  const alerts = [
    data.requiresReview > 0 ? html`<li><a href="/dashboard/payments?status=requires_review">${data.requiresReview} payment(s) need review</a></li>` : '',
    data.failedDeliveries > 0 ? html`<li><a href="/dashboard/webhooks-out">${data.failedDeliveries} event delivery(ies) failed</a></li>` : '',
    data.deadJobs > 0 ? html`<li>${data.deadJobs} background job(s) are dead</li>` : '',
  ];
  return html`<section class="cards" id="volumes">${data.byStatus.map((s) => html`<div class="card"><div class="status-${s.status}">${s.status}</div><strong>${s.count}</strong></div>`)}</section>
<h2>Alerts</h2>
${data.requiresReview + data.failedDeliveries + data.deadJobs === 0 ? html`<p id="no-alerts">Nothing needs attention.</p>` : html`<ul id="alerts">${alerts}</ul>`}`;
}
