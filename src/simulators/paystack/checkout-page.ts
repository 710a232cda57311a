// The hosted checkout page a customer sees (Paystack's checkout.paystack.com/<access_code>).
// Server-rendered, every value escaped, no script or style at all, so a strict CSP holds and an
// email or metadata value like `<script>` is only text.
import { minorToMajorString } from '../../money/amount.ts';
// Provider-neutral; shared with the Flutterwave simulator rather than copied.
import { escapeHtml } from '../shared/escape.ts';
import type { Checkout } from './state.ts';

function description(metadata: unknown): string | undefined {
  if (typeof metadata !== 'object' || metadata === null) return undefined;
  const value = (metadata as Record<string, unknown>).description;
  return typeof value === 'string' ? value : undefined;
}

export function renderCheckout(checkout: Checkout): string {
  const e = escapeHtml;
  const closed = checkout.status !== 'open';
  const about = description(checkout.metadata);
  let amount: string;
  try {
    amount = minorToMajorString(checkout.amount, checkout.currency);
  } catch {
    amount = String(checkout.amount);
  }
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Paystack simulator checkout</title></head>
<body>
<h1>Pay ${e(checkout.currency)} ${e(amount)}</h1>
${about === undefined ? '' : `<p id="description">${e(about)}</p>\n`}<p>Test payment (simulator) for <span id="customer">${e(checkout.email)}</span>.</p>
<p>Reference: <code>${e(checkout.reference)}</code></p>
${
  closed
    ? `<p id="closed">This checkout is ${e(checkout.status)}.</p>`
    : `${checkout.declinedAttempts > 0 ? `<p id="declined">Your card was declined (attempt ${checkout.declinedAttempts}). Try again or use another card.</p>\n` : ''}<form method="post" action="/checkout/${e(checkout.accessCode)}/pay"><button type="submit" id="pay">Pay</button></form>
<form method="post" action="/checkout/${e(checkout.accessCode)}/decline"><button type="submit" id="decline">Decline</button></form>`
}
</body></html>`;
}

/** No script, style, image or frame from anywhere; forms post to us and redirect to the merchant. */
export function checkoutCsp(callbackUrl: string | undefined): string {
  let callbackOrigin = '';
  try {
    if (callbackUrl !== undefined) callbackOrigin = ` ${new URL(callbackUrl).origin}`;
  } catch {
    // an invalid callback URL was refused at initialize; nothing to add
  }
  return `default-src 'none'; form-action 'self'${callbackOrigin}; frame-ancestors 'none'; base-uri 'none'`;
}
