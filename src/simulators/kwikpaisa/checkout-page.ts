// The hosted checkout page a customer sees. Server-rendered, every value escaped, no script or
// style at all, so a strict CSP holds and a name like `<script>` is only text.
import { escapeHtml } from '../shared/escape.ts';
import { minorToMajorString } from '../../money/amount.ts';
import type { Order } from './state.ts';

export function renderCheckout(order: Order): string {
  const e = escapeHtml;
  const open = order.status === 'UN_PAID';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>KwikPaisa simulator checkout</title></head>
<body>
<h1>${e(order.note ?? 'Payment')}</h1>
<p>Test payment (simulator) of <strong>${e(order.currency)} ${e(minorToMajorString(order.amountMinor, order.currency))}</strong> for <span id="customer">${e(order.customer.name)}</span> &lt;${e(order.customer.email)}&gt;.</p>
<p>Order: <code>${e(String(order.orderId))}</code> (${e(order.kwikxOrderId)})</p>
${
  open
    ? `<form method="post" action="/checkout/${e(order.token)}/pay"><button type="submit" id="pay">Pay</button></form>
<form method="post" action="/checkout/${e(order.token)}/decline"><button type="submit" id="decline">Decline</button></form>`
    : `<p id="closed">This order is ${e(order.status)}.</p>`
}
</body></html>`;
}

export function checkoutCsp(returnUrl: string): string {
  let returnOrigin = '';
  try {
    returnOrigin = ` ${new URL(returnUrl).origin}`;
  } catch {
    // an invalid return URL was refused at creation; nothing to add
  }
  return `default-src 'none'; form-action 'self'${returnOrigin}; frame-ancestors 'none'; base-uri 'none'`;
}
