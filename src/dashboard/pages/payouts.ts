// Payout pages: the filtered list (newest first, cursor pages) and one payout with its
// beneficiary (account masked), attempts, provider calls, events and audit, and the operator
// actions its status allows. A status this file does not know (one added by a later migration)
// is shown as its name, with no action offered.
import type { PayoutAttemptsTable, PayoutChecksTable, PayoutRow } from '../../db/schema.ts';
import { currencyExponent } from '../../money/currencies.ts';
import { html, type SafeHtml } from '../html.ts';
import { csrfField, formatMinor, isoTime } from '../layout.ts';
import type { DashboardQueries } from '../queries.ts';
import { historyTables } from './history.ts';
import { holdOf } from '../../payouts/controls/holds.ts';
import { holdRules, payoutDecisionForms } from './approvals.ts';

export interface PayoutListView {
  readonly rows: readonly PayoutRow[];
  readonly hasMore: boolean;
  readonly filters: Readonly<Record<'status' | 'provider' | 'from' | 'to' | 'q', string | undefined>>;
  readonly statuses: readonly string[];
  readonly providers: readonly string[];
}

/** What the detail page shows about a beneficiary: never the account number, only its last digits. */
export interface MaskedBeneficiary {
  readonly id: string;
  readonly type: string;
  readonly accountName: string;
  readonly accountLast4: string;
  readonly bankCode: string | null;
  readonly bankName: string | null;
  readonly country: string | null;
  readonly deleted: boolean;
}

export interface PayoutDetailView {
  readonly payout: PayoutRow;
  readonly beneficiary: MaskedBeneficiary | undefined;
  readonly attempts: readonly PayoutAttemptsTable[];
  readonly checks: readonly PayoutChecksTable[];
  readonly history: Awaited<ReturnType<DashboardQueries['objectHistory']>>;
  readonly csrfToken: string;
  /** The actions this operator may take on this payout now (empty for a role that may not act). */
  readonly actions: {
    readonly cancel: boolean;
    readonly finalize: boolean;
    readonly newAttempt: boolean;
    /** The outcomes the state machine allows out of review. */
    readonly resolveTo: readonly string[];
    /** A held payout: approve or reject it here, as on the Approvals page (`approve_payouts`). */
    readonly decideHold: boolean;
  };
}

const amount = (p: PayoutRow) => formatMinor(p.amount_minor, p.currency, currencyExponent(p.currency));

const option = (value: string, selected: string | undefined, label = value) =>
  html`<option value="${value}"${value === selected ? html` selected` : ''}>${label}</option>`;

export function payoutsPage(view: PayoutListView): SafeHtml {
  const f = view.filters;
  const last = view.rows.at(-1);
  const nextQuery = new URLSearchParams(
    Object.entries({ ...f, starting_after: last?.id }).filter(
      (e): e is [string, string] => e[1] !== undefined && e[1] !== '',
    ),
  ).toString();
  return html`<form method="get" action="/dashboard/payouts" role="search" class="filters" id="payout-filters">
  <label>Status <select name="status">${option('', f.status, 'any')}${view.statuses.map((s) => option(s, f.status))}</select></label>
  <label>Provider <select name="provider">${option('', f.provider, 'any')}${view.providers.map((p) => option(p, f.provider))}</select></label>
  <label>From <input type="date" name="from" value="${f.from ?? ''}"></label>
  <label>To <input type="date" name="to" value="${f.to ?? ''}"></label>
  <label>Reference or id <input type="search" name="q" value="${f.q ?? ''}" maxlength="100"></label>
  <button type="submit">Filter</button>
</form>
<table id="payouts">
<thead><tr><th>Created</th><th>Payout</th><th>Reference</th><th>Amount</th><th>Status</th><th>Provider</th></tr></thead>
<tbody>${view.rows.map(
    (p) =>
      html`<tr><td>${isoTime(p.created_at)}</td><td><a href="/dashboard/payouts/${p.id}">${p.id}</a></td><td>${p.reference}</td><td>${amount(p)}</td><td class="status-${p.status}">${p.status}</td><td>${p.provider}</td></tr>`,
  )}</tbody>
</table>
${view.rows.length === 0 ? html`<p>No payouts match.</p>` : ''}
${view.hasMore ? html`<p><a href="/dashboard/payouts?${nextQuery}" id="next-page" rel="next">Older payouts</a></p>` : ''}`;
}

const REASON = html`<label>Reason (kept in the audit log) <input name="reason" required minlength="3" maxlength="500"></label>`;

function actionForms(view: PayoutDetailView): SafeHtml {
  const { payout: p, actions, csrfToken } = view;
  const base = `/dashboard/payouts/${p.id}`;
  const forms = [
    actions.cancel
      ? html`<form method="post" action="${base}/cancel" class="stack" id="cancel-payout">${csrfField(csrfToken)}
  <p>Nothing was sent to ${p.provider} yet: cancelling ends this payout for good.</p>${REASON}
  <button type="submit">Cancel payout</button></form>`
      : '',
    actions.finalize
      ? html`<form method="post" action="${base}/finalize" class="stack" id="finalize-payout">${csrfField(csrfToken)}
  <p>${p.provider} is waiting for the code it sent to confirm this transfer.</p>
  <label>Code <input name="otp" required inputmode="numeric" pattern="[0-9]{4,8}" maxlength="8" autocomplete="one-time-code"></label>${REASON}
  <button type="submit">Confirm transfer</button></form>`
      : '',
    actions.resolveTo.length > 0
      ? html`<form method="post" action="${base}/resolve" class="stack" id="resolve-payout">${csrfField(csrfToken)}
  <p>Check the provider's own records (the calls below show what it answered) before deciding.</p>
  <label>Outcome <select name="outcome" required><option value="" selected disabled>Choose…</option>${actions.resolveTo.map((s) => option(s, undefined))}</select></label>${REASON}
  <button type="submit">Resolve review</button></form>`
      : '',
    actions.newAttempt
      ? html`<form method="post" action="${base}/new-attempt" class="stack" id="new-attempt">${csrfField(csrfToken)}
  <p>The provider refused this payout definitely. A new attempt sends it again under a new reference.</p>${REASON}
  <button type="submit">Send a new attempt</button></form>`
      : '',
  ];
  return forms.some((f) => f !== '') ? html`<h2>Actions</h2><section id="payout-actions">${forms}</section>` : html``;
}

/** Why a held payout waits (the controls' rules), with the approval forms for those who decide. */
function holdSection(view: PayoutDetailView): SafeHtml {
  const record = view.payout.status === 'on_hold' ? holdOf(view.payout) : null;
  if (record === null) return html``;
  return html`<h2>Held</h2><section id="payout-hold">${holdRules(record, view.payout.currency)}${
    view.actions.decideHold
      ? payoutDecisionForms(view.payout.id, view.csrfToken, `/dashboard/payouts/${view.payout.id}`)
      : ''
  }</section>`;
}

export function payoutDetailPage(view: PayoutDetailView): SafeHtml {
  const { payout: p, beneficiary: b } = view;
  return html`<table id="payout">
<tr><th>Status</th><td class="status-${p.status}" id="payout-status">${p.status}${p.status_reason === null ? '' : html` (${p.status_reason})`}</td></tr>
<tr><th>Amount</th><td>${amount(p)}${p.fee_minor === null ? '' : html` (fee ${formatMinor(p.fee_minor, p.currency, currencyExponent(p.currency))})`}</td></tr>
<tr><th>Reference</th><td>${p.reference}</td></tr>
<tr><th>Narration</th><td>${p.narration ?? ''}</td></tr>
<tr><th>Provider</th><td>${p.provider} ${p.provider_transfer_id ?? ''}</td></tr>
${p.failure_code === null ? '' : html`<tr><th>Failure</th><td>${p.failure_code}: ${p.failure_message ?? ''}</td></tr>`}
<tr><th>Created</th><td>${isoTime(p.created_at)} by ${p.created_by ?? '—'}</td></tr>
<tr><th>Next check</th><td>${isoTime(p.next_check_at)}</td></tr>
</table>
<h2>Beneficiary</h2>
${
  b === undefined
    ? html`<p>Beneficiary ${p.beneficiary_id} is not stored in this mode.</p>`
    : html`<table id="beneficiary">
<tr><th>Beneficiary</th><td>${b.id}${b.deleted ? ' (deleted)' : ''}</td></tr>
<tr><th>Name</th><td>${b.accountName}</td></tr>
<tr><th>Account</th><td id="beneficiary-account">${b.type} ending ${b.accountLast4}</td></tr>
<tr><th>Bank</th><td>${b.bankName ?? ''} ${b.bankCode ?? ''} ${b.country ?? ''}</td></tr>
</table>`
}
${holdSection(view)}
${actionForms(view)}
<h2>Attempts</h2>
<table id="attempts"><thead><tr><th>No</th><th>Reference sent</th><th>State</th><th>Sends</th><th>First sent</th><th>Provider status</th><th>Provider id</th><th>Closed</th></tr></thead><tbody>${view.attempts.map(
    (a) =>
      html`<tr><td>${a.attempt_no}</td><td><code>${a.reference}</code></td><td>${a.state}</td><td>${a.sends}</td><td>${isoTime(a.first_sent_at)}</td><td>${a.provider_status ?? ''}</td><td>${a.provider_transfer_id ?? ''}</td><td>${isoTime(a.closed_at)}</td></tr>`,
  )}</tbody></table>
<h2>Provider calls</h2>
<table id="checks"><thead><tr><th>When</th><th>Call</th><th>Outcome</th><th>Latency</th><th>Answer</th></tr></thead><tbody>${view.checks.map(
    (c) =>
      html`<tr><td>${isoTime(c.at)}</td><td>${c.kind}</td><td>${c.outcome}</td><td>${c.latency_ms} ms</td><td><pre>${c.detail_json}</pre></td></tr>`,
  )}</tbody></table>
${historyTables(view.history)}`;
}
