// The hosted checkout page a customer sees. Server-rendered, every value escaped, no script or
// style at all, so a strict CSP holds and a name like `<script>` is only text.
import { escapeHtml } from '../shared/escape.ts';
import { minorToMajorString } from '../../money/amount.ts';
import type { Checkout } from './state.ts';

export function renderCheckout(checkout: Checkout): string {
  const e = escapeHtml;
  const closed = checkout.status !== 'open';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Flutterwave simulator checkout</title></head>
<body>
<h1>${e(checkout.title)}</h1>
<p>Test payment (simulator) of <strong>${e(checkout.currency)} ${e(minorToMajorString(checkout.amountMinor, checkout.currency))}</strong> for <span id="customer">${e(checkout.customer.name ?? checkout.customer.email)}</span> &lt;${e(checkout.customer.email)}&gt;.</p>
<p>Reference: <code>${e(checkout.txRef)}</code></p>
${
  closed
    ? `<p id="closed">This checkout is ${e(checkout.status)}.</p>`
    : `${checkout.declinedAttempts > 0 ? `<p id="declined">Your card was declined (attempt ${checkout.declinedAttempts}). Try again or use another card.</p>\n` : ''}<form method="post" action="/checkout/${e(checkout.token)}/pay"><button type="submit" id="pay">Pay</button></form>
<form method="post" action="/checkout/${e(checkout.token)}/decline"><button type="submit" id="decline">Decline</button></form>`
}
</body></html>`;
}

export function checkoutCsp(redirectUrl: string): string {
  let redirectOrigin = '';
  try {
    redirectOrigin = ` ${new URL(redirectUrl).origin}`;
  } catch {
    // an invalid redirect URL was refused at creation; nothing to add
  }
  return `default-src 'none'; form-action 'self'${redirectOrigin}; frame-ancestors 'none'; base-uri 'none'`;
}
