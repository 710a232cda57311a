// Customer data rights from the dashboard (DAT-3): find a customer by email (through the blind
// index; the address travels in a form body, never a URL) or id, then export everything stored
// about them as a download, or erase them after a confirmation step. Both need a reason (audited)
// and a password entered within 5 minutes; the page shows ids and dates, never personal data.
import { html, type SafeHtml } from '../html.ts';
import { csrfField, isoTime } from '../layout.ts';

export interface FoundCustomer {
  readonly id: string;
  readonly created_at: number;
  readonly erased_at: number | null;
  readonly payments: number;
}

const findForm = (csrfToken: string) =>
  html`<form method="post" action="/dashboard/customers/find" class="stack" id="find-customer">${csrfField(csrfToken)}
  <label>Email <input name="email" type="email" maxlength="254" autocomplete="off"></label>
  <label>or customer id <input name="customer_id" maxlength="26" pattern="cus_[0-9A-Za-z]{22}" placeholder="cus_..."></label>
  <button type="submit">Find</button>
</form>`;

export function customersPage(csrfToken: string): SafeHtml {
  return html`<p>Export or erase everything stored about one customer (their payments, events and provider payloads in this mode). An erasure destroys the customer's own data key: their personal data becomes unreadable everywhere, backups included, while payments keep their amounts and statuses.</p>
${findForm(csrfToken)}`;
}

const actionForm = (id: string, action: 'export' | 'erase', csrfToken: string) =>
  html`<form method="post" action="/dashboard/customers/${action}" class="stack" id="${action}-${id}">${csrfField(csrfToken)}<input type="hidden" name="customer_id" value="${id}">
  <label>Reason (kept in the audit log) <input name="reason" required minlength="3" maxlength="500"></label>
  <button type="submit"${action === 'erase' ? html` class="danger"` : ''}>${action === 'export' ? 'Download export' : 'Erase…'}</button>
</form>`;

export function foundCustomersPage(found: readonly FoundCustomer[], csrfToken: string): SafeHtml {
  if (found.length === 0)
    return html`<p class="notice" id="no-customer">No customer in this mode matches.</p>${findForm(csrfToken)}`;
  return html`<table id="customers"><thead><tr><th>Customer</th><th>Since</th><th>Payments</th><th>Status</th><th>Export</th><th>Erase</th></tr></thead><tbody>${found.map(
    (c) =>
      html`<tr id="customer-${c.id}"><td><code>${c.id}</code></td><td>${isoTime(c.created_at)}</td><td>${String(c.payments)}</td><td>${c.erased_at === null ? 'active' : `erased ${isoTime(c.erased_at)}`}</td><td>${actionForm(c.id, 'export', csrfToken)}</td><td>${c.erased_at === null ? actionForm(c.id, 'erase', csrfToken) : ''}</td></tr>`,
  )}</tbody></table>
<p><a href="/dashboard/customers">Find another customer</a></p>`;
}

export function confirmErasurePage(id: string, reason: string, payments: number, csrfToken: string): SafeHtml {
  return html`<p class="notice warning">Erasing <code>${id}</code> destroys their data key. The personal data of their ${String(payments)} payment(s), events and provider payloads becomes unreadable at once, everywhere, for good; the payments stay, with amounts and statuses. This cannot be undone.</p>
<form method="post" action="/dashboard/customers/erase" class="stack" id="confirm-erase">${csrfField(csrfToken)}<input type="hidden" name="customer_id" value="${id}"><input type="hidden" name="reason" value="${reason}">
  <label>Type the customer id to confirm <input name="confirm" required maxlength="64" autocomplete="off"></label>
  <button type="submit" class="danger">Erase for good</button>
</form>
<p><a href="/dashboard/customers">Cancel</a></p>`;
}

export function erasedPage(id: string, payments: number): SafeHtml {
  return html`<p class="notice" id="erased">Erased <code>${id}</code>: ${String(payments)} payment(s) now show their personal data as erased.</p>
<p><a href="/dashboard/customers">Back to customer data</a></p>`;
}
