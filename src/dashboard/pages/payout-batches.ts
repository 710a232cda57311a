// Payout files (OPS-10): the upload form with the template and the limits, the list of files, and
// one file's page: every row with its result before anything is created (the preview), then its
// payouts and their status. Values from the file are shown neutralised (a leading ' before
// = + - @, tab or carriage return) so what is copied from here into a spreadsheet stays text; the
// stored values are the file's own.
import { currencyExponent, isCurrency } from '../../money/currencies.ts';
import type { BatchRowView, PayoutBatchRow } from '../../payout-batches/batch-service.ts';
import type { FileProblem } from '../../payout-batches/file-check.ts';
import type { FileLimits } from '../../payout-batches/parse-file.ts';
import { COLUMNS } from '../../payout-batches/row-checks.ts';
import { isFormulaLike, neutralise } from '../../payout-batches/spreadsheet-safe.ts';
import { totalsOf } from '../../payout-batches/totals.ts';
import { html, type SafeHtml } from '../html.ts';
import { csrfField, formatMinor, isoTime } from '../layout.ts';

export const COLUMN_HELP: Readonly<Record<(typeof COLUMNS)[number], string>> = {
  amount:
    "In the currency's main unit, with at most its ISO 4217 decimals: 2500.50 NGN, 1200 JPY. Digits and one point only.",
  currency: 'ISO 4217 code, the currency the beneficiary is paid in (NGN, KES, USD...).',
  beneficiary: 'The id of a saved beneficiary (ben_...), created in this mode.',
  reference: 'Your reference for the payout, unique forever in this mode: letters, digits and . _ : / - (up to 100).',
  narration: "Optional text for the statement: letters, digits, spaces and . , ' ( ) / : _ # - (up to 100).",
};

export interface UploadFormOptions {
  readonly csrfToken: string;
  readonly limits: FileLimits;
  readonly canUpload: boolean;
  readonly problem?: FileProblem;
}

function uploadForm(o: UploadFormOptions): SafeHtml {
  return html`${
    o.problem === undefined
      ? ''
      : html`<p class="notice error" id="upload-problem" role="alert"><strong>${o.problem.code}</strong>: ${o.problem.message}${o.problem.line === undefined ? '' : html` (line ${o.problem.line})`}. Nothing was created.</p>`
  }${
    o.canUpload
      ? html`<form method="post" action="/dashboard/payout-batches" enctype="multipart/form-data" class="stack" id="upload">${csrfField(o.csrfToken)}
<label>CSV file <input type="file" name="file" accept=".csv,text/csv" required></label>
<button type="submit">Upload and check</button>
</form>`
      : html`<p>Your role cannot upload payout files.</p>`
  }
<p>Up to ${o.limits.maxRows} payouts and ${Math.floor(o.limits.maxBytes / 1024)} KiB per file, UTF-8 CSV with the header row. Every row is checked and shown before anything is paid; a file is paid only after it is submitted and approved by another operator. Uploading the same file again opens its first upload. <a href="/dashboard/payout-batches/template.csv" id="template" download>Download the template</a>.</p>
<table id="columns"><thead><tr><th>Column</th><th>What it holds</th></tr></thead><tbody>${COLUMNS.map((c) => html`<tr><td><code>${c}</code></td><td>${COLUMN_HELP[c]}</td></tr>`)}</tbody></table>`;
}

export function payoutBatchesPage(batches: readonly PayoutBatchRow[], form: UploadFormOptions): SafeHtml {
  return html`${uploadForm(form)}
<h2>Files</h2>
<table id="batches"><thead><tr><th>Uploaded</th><th>File</th><th>Status</th><th>Rows</th><th>Rows with errors</th><th>By</th></tr></thead><tbody>${batches.map(
    (b) =>
      html`<tr><td>${isoTime(b.created_at)}</td><td><a href="/dashboard/payout-batches/${b.id}">${b.filename ?? b.id}</a></td><td class="status-${b.status}">${b.status}</td><td>${b.row_count}</td><td>${b.error_count}</td><td>${b.created_by_type} ${b.created_by}</td></tr>`,
  )}</tbody></table>
${batches.length === 0 ? html`<p>No payout files yet.</p>` : ''}`;
}

const shown = (value: string) =>
  isFormulaLike(value) ? html`<span class="neutralised">${neutralise(value)}</span>` : html`${value}`;

const parsedAmount = (r: BatchRowView) =>
  r.amount_minor === null || !isCurrency(r.currency)
    ? '—'
    : formatMinor(r.amount_minor, r.currency, currencyExponent(r.currency));

export interface BatchPageOptions {
  readonly csrfToken: string;
  readonly canSubmit: boolean;
  /** The same file was uploaded again: this is its batch, nothing new was created. */
  readonly uploadedAgain?: boolean;
  /** May decide on the held payouts (approve_payouts); the approval mechanism still refuses the maker. */
  readonly canApprove: boolean;
  /** Just decided on the file (after the redirect). */
  readonly decided?: 'approve' | 'reject';
}

function submittedSection(batch: PayoutBatchRow, rows: readonly BatchRowView[], o: BatchPageOptions): SafeHtml {
  const byStatus = new Map<string, number>();
  for (const r of rows)
    if (r.payout_status !== null) byStatus.set(r.payout_status, (byStatus.get(r.payout_status) ?? 0) + 1);
  const held = byStatus.get('on_hold') ?? 0;
  return html`${o.decided === undefined ? '' : html`<p class="notice" id="decided">Your decision (${o.decided}) was recorded on each payout of this file that waited for it.</p>`}
<p id="payout-statuses">Payouts: ${[...byStatus].map(([status, n]) => html`<span class="status-${status}">${n} ${status}</span> `)}</p>
${
  held > 0 && o.canApprove
    ? html`<form method="post" action="/dashboard/payout-batches/${batch.id}/decide" class="stack" id="decide-batch">${csrfField(o.csrfToken)}
<p>${held} payout${held === 1 ? ' waits' : 's wait'} for approval (rule <code>batch</code>: a file always needs one). The operator who made the file cannot approve it. Decide here for the whole file, or payout by payout in <a href="/dashboard/approvals">Approvals</a>.</p>
<label>Reason (kept in the audit log) <input type="text" name="reason" required maxlength="500"></label>
<div><button type="submit" name="decision" value="approve" id="approve-batch">Approve the file's ${held} payouts</button> <button type="submit" name="decision" value="reject" class="danger" id="reject-batch">Reject them</button></div>
</form>`
    : ''
}`;
}

export function payoutBatchPage(batch: PayoutBatchRow, rows: readonly BatchRowView[], o: BatchPageOptions): SafeHtml {
  const neutralised = rows.some((r) => COLUMNS.some((c) => isFormulaLike(r[c])));
  return html`${o.uploadedAgain === true ? html`<p class="notice" id="uploaded-again">This file (the same bytes) was uploaded before: this is its batch, and nothing new was created.</p>` : ''}<table id="batch">
<tr><th>Status</th><td class="status-${batch.status}" id="batch-status">${batch.status}</td></tr>
<tr><th>File</th><td>${batch.filename ?? '—'} <code title="SHA-256">${batch.sha256}</code></td></tr>
<tr><th>Rows</th><td>${batch.row_count}, <span id="error-count">${batch.error_count}</span> with errors</td></tr>
<tr><th>Total</th><td id="totals">${totalsOf(rows).map((t) => html`<div>${formatMinor(t.amountMinor, t.currency, currencyExponent(t.currency))} in ${t.count} payout${t.count === 1 ? '' : 's'}</div>`)}</td></tr>
<tr><th>Uploaded</th><td>${isoTime(batch.created_at)} by ${batch.created_by_type} ${batch.created_by}</td></tr>
${batch.submitted_at === null ? '' : html`<tr><th>Submitted</th><td>${isoTime(batch.submitted_at)} by ${batch.submitted_by_type ?? ''} ${batch.submitted_by ?? ''}</td></tr>`}
</table>
${
  batch.status === 'invalid'
    ? html`<p class="notice error" id="batch-invalid">${batch.error_count} row${batch.error_count === 1 ? ' has' : 's have'} errors, so nothing was created. Fix the file and upload it again.</p>`
    : batch.status === 'ready'
      ? o.canSubmit
        ? html`<form method="post" action="/dashboard/payout-batches/${batch.id}/submit" class="stack" id="submit-batch">${csrfField(o.csrfToken)}<p>Every row passed. Submitting creates these ${batch.row_count} payouts, each held until another operator approves the file.</p><button type="submit">Submit ${batch.row_count} payouts for approval</button></form>`
        : html`<p>Every row passed; the operator who uploaded the file submits it.</p>`
      : submittedSection(batch, rows, o)
}
<p><a href="/dashboard/payout-batches/${batch.id}/report.csv" id="report" download>Download every row with its result (CSV)</a></p>
${neutralised ? html`<p class="notice" id="neutralised-note">Values that start with = + - @, a tab or a carriage return are shown (and exported) with a leading ' so a spreadsheet treats them as text. The file's own values are kept unchanged.</p>` : ''}
<table id="rows"><thead><tr><th>Line</th><th>Amount</th><th>Parsed</th><th>Currency</th><th>Beneficiary</th><th>Reference</th><th>Narration</th><th>Result</th><th>Payout</th></tr></thead><tbody>${rows.map(
    (r) =>
      html`<tr id="row-${r.row_no}" class="${r.errors.length === 0 ? 'row-ok' : 'row-error'}"><td>${r.line}</td><td>${shown(r.amount)}</td><td>${parsedAmount(r)}</td><td>${shown(r.currency)}</td><td>${shown(r.beneficiary)}</td><td>${shown(r.reference)}</td><td>${shown(r.narration)}</td><td>${
        r.errors.length === 0
          ? 'ok'
          : html`<ul class="row-errors">${r.errors.map((e) => html`<li><code>${e.code}</code> (${e.field}): ${e.message}</li>`)}</ul>`
      }</td><td>${r.payout_id === null ? '' : html`<code>${r.payout_id}</code> <span class="status-${r.payout_status ?? ''}">${r.payout_status ?? ''}</span>`}</td></tr>`,
  )}</tbody></table>`;
}
