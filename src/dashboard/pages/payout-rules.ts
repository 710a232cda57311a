// The payout rules' settings (PAY-5): thresholds per currency in major units (converted exactly to
// minor units by the currency's exponent), the counts, the cool-down and cap, the name check and
// the expiry. Saving needs `change_settings` and a password entered within 5 minutes; every change
// is audited with the settings before and after.
import { currencyExponent } from '../../money/currencies.ts';
import type { CurrencyLimits, PayoutControls } from '../../payouts/controls/settings.ts';
import { html, type SafeHtml } from '../html.ts';
import { csrfField, isoTime } from '../layout.ts';

export const LIMIT_FIELDS: ReadonlyArray<readonly [keyof CurrencyLimits, string]> = [
  ['approvalAbove', 'One approval above'],
  ['secondApprovalAbove', 'Two approvers above'],
  ['beneficiaryDailyAmount', 'Per beneficiary per day'],
  ['modeDailyAmount', 'Per mode per day'],
  ['newBeneficiaryCap', 'New beneficiary cap'],
];

/** Minor units as the major-unit text shown in a field ('' when the limit is off). */
export function majorText(amountMinor: number | null, currency: string): string {
  if (amountMinor === null) return '';
  const exponent = currencyExponent(currency);
  if (exponent === 0) return String(amountMinor);
  const digits = String(amountMinor).padStart(exponent + 1, '0');
  return `${digits.slice(0, -exponent)}.${digits.slice(-exponent)}`;
}

export interface PayoutRulesView {
  readonly controls: PayoutControls;
  readonly version: number;
  readonly updatedAt: number;
  readonly fresh: boolean;
  readonly error?: string;
  readonly notice?: string;
}

const number = (name: string, value: number | null, label: string) =>
  html`<label>${label} <input name="${name}" value="${value === null ? '' : String(value)}" inputmode="numeric" pattern="[0-9]*" maxlength="9"></label>`;

export function payoutRulesPage(view: PayoutRulesView, csrfToken: string): SafeHtml {
  const c = view.controls;
  const currencies = Object.keys(c.currencies).sort();
  return html`${view.notice === undefined ? '' : html`<p class="notice" id="notice">${view.notice}</p>`}
${view.error === undefined ? '' : html`<p class="error" id="problem">${view.error}</p>`}
<p>These rules hold payouts for approval before anything is sent (they never refuse one). Amounts are in the currency's main unit; an empty field turns that limit off. "Above" is strict: a payout of exactly the amount passes. Version ${view.version}, changed ${isoTime(view.updatedAt)}. See docs/payout-controls.md.</p>
${view.fresh ? '' : html`<p id="needs-password">Saving asks for your password again if you have not entered it in the last 5 minutes.</p>`}
<form method="post" action="/dashboard/payout-rules" class="stack" id="payout-rules">${csrfField(csrfToken)}
<input type="hidden" name="version" value="${String(view.version)}">
<table id="currency-limits"><thead><tr><th>Currency</th>${LIMIT_FIELDS.map(([, label]) => html`<th>${label}</th>`)}<th>Remove</th></tr></thead><tbody>${currencies.map(
    (cur) =>
      html`<tr data-currency="${cur}"><th>${cur}</th>${LIMIT_FIELDS.map(([field, label]) => html`<td><input name="cur_${cur}_${field}" value="${majorText(c.currencies[cur]?.[field] ?? null, cur)}" maxlength="20" aria-label="${cur} ${label}"></td>`)}<td><input type="checkbox" name="remove_${cur}" value="1" aria-label="Remove ${cur}"></td></tr>`,
  )}<tr><td><input name="new_currency" maxlength="3" pattern="[A-Z]{3}" placeholder="Add (ISO code)" aria-label="Add a currency"></td>${LIMIT_FIELDS.map(([field, label]) => html`<td><input name="new_${field}" maxlength="20" aria-label="New currency ${label}"></td>`)}<td></td></tr></tbody></table>
<label>A currency with no row <select name="unlisted_currency"><option value="hold"${c.unlistedCurrency === 'hold' ? html` selected` : ''}>is held for one approval</option><option value="allow"${c.unlistedCurrency === 'allow' ? html` selected` : ''}>passes</option></select></label>
${number('beneficiary_daily_count', c.beneficiaryDailyCount, 'Payouts per beneficiary per day (at most)')}
${number('api_key_hourly_count', c.apiKeyHourlyCount, 'Payouts per API key per hour (at most)')}
${number('cooldown_minutes', c.cooldownSeconds / 60, 'New beneficiary cool-down, minutes (0: none)')}
${number('new_beneficiary_days', c.newBeneficiaryDays, 'New beneficiary cap applies for, days')}
${number('expiry_hours', c.expirySeconds / 3600, 'Unapproved payouts expire after, hours')}
<label>Pay out only to beneficiaries in (ISO country codes, comma-separated; empty: any country) <input name="beneficiary_countries" value="${(c.beneficiaryCountries ?? []).join(', ')}" maxlength="1000"></label>
<label><input type="checkbox" name="name_check" value="1"${c.nameCheck ? html` checked` : ''}> Hold payouts whose account name does not match, or could not be verified</label>
<button type="submit">Save payout rules</button>
</form>`;
}
