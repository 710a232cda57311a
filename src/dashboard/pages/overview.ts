import { html, type SafeHtml } from '../html.ts';
import type { DashboardQueries } from '../queries.ts';
import { formatMinor } from '../layout.ts';
import { currencyExponent } from '../../money/currencies.ts';

export function overviewPage(
  data: Awaited<ReturnType<DashboardQueries['overview']>>,
  options: { canSeeJobs: boolean; payoutsWaiting: number },
): SafeHtml {
  const alerts = [
    options.payoutsWaiting > 0
      ? html`<li><a href="/dashboard/approvals" id="payouts-waiting">${options.payoutsWaiting} payout(s) wait for approval</a></li>`
      : '',
    data.requiresReview > 0
      ? html`<li><a href="/dashboard/payments?status=requires_review">${data.requiresReview} payment(s) need review</a></li>`
      : '',
    data.payoutsInReview > 0
      ? html`<li><a href="/dashboard/payouts?status=requires_review">${data.payoutsInReview} payout(s) need review</a></li>`
      : '',
    data.payoutsAwaitingCode > 0
      ? html`<li><a href="/dashboard/payouts?status=requires_action">${data.payoutsAwaitingCode} payout(s) wait for a provider code</a></li>`
      : '',
    data.failedDeliveries > 0
      ? html`<li><a href="/dashboard/webhooks-out">${data.failedDeliveries} event delivery(ies) failed</a></li>`
      : '',
    data.deadJobs > 0
      ? options.canSeeJobs
        ? html`<li><a href="/dashboard/jobs">${data.deadJobs} background job(s) are dead</a></li>`
        : html`<li>${data.deadJobs} background job(s) are dead</li>`
      : '',
  ];
  const statuses = [...new Set(data.byStatus.map((s) => s.status))];
  return html`<section class="cards" id="volumes">${statuses.map((status) => {
    const rows = data.byStatus.filter((s) => s.status === status);
    return html`<div class="card"><div class="status-${status}">${status}</div><strong>${rows.reduce((n, r) => n + r.count, 0)}</strong>${rows.map((r) => html`<div>${formatMinor(r.amountMinor, r.currency, currencyExponent(r.currency))}</div>`)}</div>`;
  })}</section>
${statuses.length === 0 ? html`<p>No payments in this period yet.</p>` : ''}
<p><a href="/dashboard/payouts" id="all-payouts">All payouts</a></p>
<h2>Alerts</h2>
${data.requiresReview + data.payoutsInReview + data.payoutsAwaitingCode + data.failedDeliveries + data.deadJobs + options.payoutsWaiting === 0 ? html`<p id="no-alerts">Nothing needs attention.</p>` : html`<ul id="alerts">${alerts}</ul>`}`;
}
