// The page frame: navigation, the mode, and a logout form on every page (OPS-5). No inline script
// or style anywhere (the Content-Security-Policy forbids them); one stylesheet from our origin.
import { html, type SafeHtml } from './html.ts';
import { can, type OperatorAction } from '../operators/permissions.ts';
import type { OperatorRole } from '../operators/schema.ts';

export interface PageContext {
  readonly title: string;
  readonly active: string;
  readonly operator: { readonly email: string; readonly role: OperatorRole } | undefined;
  readonly mode: 'test' | 'live';
  /** The per-session CSRF token, put in every form (OPS-9). */
  readonly csrfToken: string | undefined;
  /** Offer the switch between test and live data (only when live mode is enabled). */
  readonly liveEnabled?: boolean;
}

// Each link with what its page needs; a link the operator's role cannot open is not shown.
const NAV: ReadonlyArray<[string, string, OperatorAction | undefined]> = [
  ['overview', 'Overview', 'view_payments'],
  ['payments', 'Payments', 'view_payments'],
  ['payouts', 'Payouts', 'view_payments'],
  ['beneficiaries', 'Beneficiaries', 'view_payments'],
  ['payout-batches', 'Payout files', 'view_payments'],
  ['approvals', 'Approvals', 'view_payments'],
  ['payout-rules', 'Payout rules', 'change_settings'],
  ['webhooks-in', 'Webhooks in', 'view_payments'],
  ['webhooks-out', 'Webhooks out', 'view_payments'],
  ['endpoints', 'Webhook endpoints', 'view_payments'],
  ['keys', 'API keys', 'view_payments'],
  ['operators', 'Operators', 'manage_operators'],
  ['customers', 'Customer data', 'manage_customer_data'],
  ['jobs', 'Jobs', 'manage_jobs'],
  ['incidents', 'Incidents', 'respond_to_incidents'],
  ['audit', 'Audit log', 'view_audit'],
  ['settings', 'Settings', undefined],
];

export function csrfField(token: string | undefined): SafeHtml {
  return html`<input type="hidden" name="csrf_token" value="${token ?? ''}">`;
}

export function layout(ctx: PageContext, body: SafeHtml): SafeHtml {
  return html`<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${ctx.title} · Paywarden</title><link rel="stylesheet" href="/dashboard/assets/app.css"></head>
<body class="mode-${ctx.mode}">
<header>
  <strong>Paywarden</strong> <span class="mode">${ctx.mode} mode</span>
  ${ctx.operator !== undefined && ctx.liveEnabled === true ? html`<form method="post" action="/dashboard/mode" class="inline">${csrfField(ctx.csrfToken)}<input type="hidden" name="mode" value="${ctx.mode === 'live' ? 'test' : 'live'}"><button type="submit" id="switch-mode">Show ${ctx.mode === 'live' ? 'test' : 'live'} data</button></form>` : ''}
  ${
    ctx.operator === undefined
      ? ''
      : html`<nav>${NAV.filter(([, , needs]) => needs === undefined || can(ctx.operator!.role, needs)).map(([key, label]) => html`<a href="/dashboard/${key === 'overview' ? '' : key}" class="${key === ctx.active ? 'active' : ''}">${label}</a>`)}</nav>
  <form method="post" action="/dashboard/logout" class="logout">${csrfField(ctx.csrfToken)}<span>${ctx.operator.email} (${ctx.operator.role})</span> <button type="submit" id="logout">Log out</button></form>`
  }
</header>
<main>
<h1>${ctx.title}</h1>
${body}
</main>
</body>
</html>`;
}

export function formatMinor(amountMinor: number, currency: string, exponent: number): string {
  const sign = amountMinor < 0 ? '-' : '';
  const digits = String(Math.abs(amountMinor)).padStart(exponent + 1, '0');
  return `${currency} ${sign}${exponent === 0 ? digits : `${digits.slice(0, -exponent)}.${digits.slice(-exponent)}`}`;
}

export function isoTime(ms: number | null): string {
  return ms === null
    ? '—'
    : new Date(ms)
        .toISOString()
        .replace('T', ' ')
        .replace(/\.\d+Z$/, 'Z');
}
