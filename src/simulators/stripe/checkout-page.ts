// The hosted Checkout page a customer sees. Server-rendered, every value escaped, no script or
// style at all, so a strict CSP holds and a product name like `<script>` is only text.
import { minorToMajorString } from '../../money/amount.ts';
import { knownExponent } from '../../money/currencies.ts';
import { fromWireAmount } from '../../money/provider-amounts.ts';
import { escapeHtml } from '../shared/escape.ts';
import type { Session } from './state.ts';
import { DELAYED_METHOD } from './wire.ts';

/** Stripe's amount field (its own units: ISK in hundredths) as the currency's decimal, exactly. */
function formatAmount(stripeAmount: number, currency: string): string {
  const code = currency.toUpperCase();
  const isoMinor = fromWireAmount('stripe', code, stripeAmount);
  return `${code} ${isoMinor === undefined || knownExponent(code) === undefined ? String(stripeAmount) : minorToMajorString(isoMinor, code)}`;
}

export function renderCheckout(session: Session): string {
  const e = escapeHtml;
  const closed = session.status !== 'open';
  const action = (name: string) => `/c/pay/${e(session.id)}/${name}`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Stripe simulator checkout</title></head>
<body>
<h1>${e(session.productName)}</h1>
<p>Test payment (simulator) of <strong>${e(formatAmount(session.amountTotal, session.currency))}</strong>${session.customerEmail === null ? '' : ` for <span id="customer">${e(session.customerEmail)}</span>`}.</p>
<p>Session: <code>${e(session.id)}</code>${session.clientReferenceId === null ? '' : `, reference <code>${e(session.clientReferenceId)}</code>`}</p>
${
  closed
    ? `<p id="closed">This checkout session is ${e(session.status)}${session.piStatus === 'processing' ? ' (the bank debit is processing)' : ''}.</p>`
    : `${session.piStatus === 'requires_payment_method' ? '<p id="declined">Your card was declined. Try again or use another payment method.</p>\n' : ''}<form method="post" action="${action('pay')}"><button type="submit" id="pay">Pay</button></form>
<form method="post" action="${action('decline')}"><button type="submit" id="decline">Decline</button></form>${
        DELAYED_METHOD[session.currency] === undefined
          ? ''
          : `\n<form method="post" action="${action('debit')}"><button type="submit" id="debit">Pay by bank debit (${e(DELAYED_METHOD[session.currency] ?? '')}, settles later)</button></form>`
      }`
}
</body></html>`;
}

/** Form posts go to the simulator, which then redirects to the merchant's URLs. */
export function checkoutCsp(session: Session): string {
  const origins = new Set<string>();
  for (const url of [session.successUrl, session.cancelUrl]) {
    if (url === null) continue;
    try {
      origins.add(new URL(url).origin);
    } catch {
      // refused at creation; nothing to add
    }
  }
  return `default-src 'none'; form-action 'self'${[...origins].map((o) => ` ${o}`).join('')}; frame-ancestors 'none'; base-uri 'none'`;
}
