// The approval queue (PAY-5): what waits, why (the rules), since when, who made it, and the
// approve / reject forms. `payoutDecisionForms` is the partial the payout's own page includes.
// Approving needs `approve_payouts` and a password entered within 5 minutes; the maker's own
// click is refused by the service, whatever the page shows.
import type { PayoutRow } from '../../db/schema.ts';
import { currencyExponent } from '../../money/currencies.ts';
import { holdOf, type HoldRecord } from '../../payouts/controls/hold-record.ts';
import { html, type SafeHtml } from '../html.ts';
import { csrfField, formatMinor, isoTime } from '../layout.ts';

export interface ApprovalRow {
  readonly payout: PayoutRow;
  /** Who made it: an operator's email or an API key's name, as shown. */
  readonly maker: string;
}

const RULE_TEXT: Readonly<Record<string, string>> = {
  amount: 'amount above the approval threshold',
  currency_unlisted: 'currency without thresholds',
  velocity_beneficiary_count: 'too many payouts to this beneficiary today',
  velocity_beneficiary_amount: 'too much to this beneficiary today',
  velocity_mode_amount: 'too much paid out today',
  velocity_api_key_count: 'too many payouts from this API key this hour',
  new_beneficiary_cooldown: 'new beneficiary: cool-down',
  new_beneficiary_cap: 'new beneficiary: over its first-days cap',
  name_mismatch: "account name does not match the merchant's",
  name_unverified: 'account name could not be verified',
  batch: 'payout file',
};

/** Rules whose `above`, `limit` and `amount` details are money (minor units of the payout's currency). */
const MONEY_RULES = new Set(['amount', 'velocity_beneficiary_amount', 'velocity_mode_amount', 'new_beneficiary_cap']);

export function holdRules(hold: HoldRecord, currency: string): SafeHtml {
  const shown = (rule: string, key: string, value: unknown) =>
    MONEY_RULES.has(rule) && ['above', 'limit', 'amount'].includes(key) && typeof value === 'number'
      ? formatMinor(value, currency, currencyExponent(currency))
      : String(value);
  return html`<ul class="rules">${hold.rules.map(
    (r) =>
      html`<li data-rule="${r.rule}"><code>${r.rule}</code> ${RULE_TEXT[r.rule] ?? ''}${
        Object.keys(r.detail).length === 0
          ? ''
          : html` <span class="detail">(${Object.entries(r.detail)
              .map(([k, v]) => `${k}: ${shown(r.rule, k, v)}`)
              .join(', ')})</span>`
      }</li>`,
  )}</ul>`;
}

/** Approve and reject, each with its reason, for one held payout. */
export function payoutDecisionForms(payoutId: string, csrfToken: string, returnTo = '/dashboard/approvals'): SafeHtml {
  return html`<form method="post" action="/dashboard/payouts/${payoutId}/approve" class="inline decision">${csrfField(csrfToken)}<input type="hidden" name="return_to" value="${returnTo}"><input name="reason" required minlength="3" maxlength="500" placeholder="Reason" aria-label="Reason to approve"><button type="submit" data-action="approve">Approve</button></form>
<form method="post" action="/dashboard/payouts/${payoutId}/reject" class="inline decision">${csrfField(csrfToken)}<input type="hidden" name="return_to" value="${returnTo}"><input name="reason" required minlength="3" maxlength="500" placeholder="Reason" aria-label="Reason to reject"><button type="submit" class="danger" data-action="reject">Reject</button></form>`;
}

export function approvalsPage(
  rows: readonly ApprovalRow[],
  options: { csrfToken: string; canDecide: boolean; notice?: string | undefined },
): SafeHtml {
  return html`${options.notice === undefined ? '' : html`<p class="notice" id="notice">${options.notice}</p>`}
<p>Payouts held by a rule before anything was sent. A payout is released when it has its approvals (from people other than whoever made it) and its cool-down is over; it expires unsent if nobody approves it in time. Rules and thresholds: <a href="/dashboard/payout-rules">Payout rules</a>.</p>
${
  rows.length === 0
    ? html`<p id="no-approvals">Nothing waits for approval.</p>`
    : html`<table id="approvals"><thead><tr><th>Payout</th><th>Amount</th><th>Why</th><th>Held since</th><th>Made by</th><th>Approvals</th><th>Expires</th>${options.canDecide ? html`<th></th>` : ''}</tr></thead><tbody>${rows.map(
        ({ payout, maker }) => {
          const hold = holdOf(payout);
          if (hold === null) return '';
          return html`<tr id="held-${payout.id}"><td><code>${payout.id}</code><br><small>${payout.reference}</small></td><td>${formatMinor(Number(payout.amount_minor), payout.currency, currencyExponent(payout.currency))}</td><td>${holdRules(hold, payout.currency)}${hold.release_at === null ? '' : html`<small>not before ${isoTime(hold.release_at)}</small>`}</td><td>${isoTime(hold.held_at)}</td><td class="maker">${maker}</td><td class="approvals">${hold.approvals.length} of ${hold.approvals_required}</td><td>${isoTime(hold.expires_at)}</td>${options.canDecide ? html`<td>${payoutDecisionForms(payout.id, options.csrfToken)}</td>` : ''}</tr>`;
        },
      )}</tbody></table>`
}`;
}
