// The beneficiaries payouts go to (issue 9 §4): who, where and how each was checked, never the
// account number (only its last four digits; the number is sealed and never leaves the store).
import type { BeneficiaryRow } from '../../db/schema.ts';
import { html, type SafeHtml } from '../html.ts';
import { isoTime } from '../layout.ts';

export interface BeneficiaryListView {
  readonly rows: readonly BeneficiaryRow[];
  readonly hasMore: boolean;
}

const NAME_CHECK: Readonly<Record<BeneficiaryRow['name_check'], string>> = {
  match: 'matches the name given',
  mismatch: 'differs from the name given',
  not_given: 'no name given to compare',
  unverified: 'not verified (the provider has no look-up)',
};

export function beneficiariesPage(view: BeneficiaryListView): SafeHtml {
  const last = view.rows.at(-1);
  return html`<p>Account numbers are sealed at rest and never shown; the holder's name is the one the provider resolved.</p>
<table id="beneficiaries">
<thead><tr><th>Created</th><th>Beneficiary</th><th>Holder</th><th>Type</th><th>Country</th><th>Currency</th><th>Bank</th><th>Account</th><th>Provider</th><th>Name check</th><th>State</th></tr></thead>
<tbody>${view.rows.map(
    (b) =>
      html`<tr><td>${isoTime(b.created_at)}</td><td>${b.id}</td><td>${b.account_name}</td><td>${b.type}</td><td>${b.country ?? ''}</td><td>${b.currency}</td><td>${b.bank_name ?? b.bank_code ?? ''}</td><td>…${b.account_last4}</td><td>${b.provider}</td><td>${NAME_CHECK[b.name_check]}</td><td>${b.deleted_at === null ? 'active' : 'deleted'}</td></tr>`,
  )}</tbody>
</table>
${view.hasMore && last !== undefined ? html`<p><a href="/dashboard/beneficiaries?starting_after=${last.id}">Older beneficiaries</a></p>` : ''}`;
}
