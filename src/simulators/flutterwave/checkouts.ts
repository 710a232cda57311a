// Flutterwave Standard checkouts (§1.2): reading a POST /v3/payments body, and what happens when
// the customer presses Pay or Decline (or a test completes the checkout headlessly).
import type { Checkout, CheckoutCustomer, SimulatorState, Transaction } from './state.ts';
import { takeWebhookFaults, type WebhookSender } from './webhook-sender.ts';
import { isCurrency } from '../../money/currencies.ts';
import { parseAmountMinor } from './wire.ts';

export type StandardPayment = Omit<Checkout, 'token' | 'status' | 'createdAt' | 'transactionId'>;

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const optionalString = (value: unknown): string | undefined =>
  typeof value === 'string' && value !== '' ? value : undefined;

/** Validates a Standard payment request; the messages are ours (Flutterwave's are not documented). */
export function readStandardPayment(
  body: Record<string, unknown>,
): { ok: true; payment: StandardPayment } | { ok: false; message: string } {
  if (typeof body.tx_ref !== 'string' || body.tx_ref.trim() === '') return { ok: false, message: 'tx_ref is required' };
  const currency = body.currency ?? 'NGN';
  if (typeof currency !== 'string' || !isCurrency(currency.toUpperCase()))
    return { ok: false, message: 'currency must be a 3-letter code' };
  const amountMinor = parseAmountMinor(body.amount, currency.toUpperCase());
  if (amountMinor === undefined) return { ok: false, message: 'amount must be a number greater than 0' };
  if (
    typeof body.redirect_url !== 'string' ||
    !URL.canParse(body.redirect_url) ||
    !/^https?:$/.test(new URL(body.redirect_url).protocol)
  )
    return { ok: false, message: 'redirect_url is required' };
  const customer = isRecord(body.customer) ? body.customer : {};
  if (typeof customer.email !== 'string' || !/^[^\s@]+@[^\s@]+$/.test(customer.email))
    return { ok: false, message: 'customer.email is required' };
  const name = optionalString(customer.name);
  // Standard spells it `phonenumber`; accept the `phone_number` of other endpoints too.
  const phone = optionalString(customer.phonenumber) ?? optionalString(customer.phone_number);
  const checkoutCustomer: CheckoutCustomer = {
    email: customer.email,
    ...(name === undefined ? {} : { name }),
    ...(phone === undefined ? {} : { phonenumber: phone }),
  };
  const title = isRecord(body.customizations) ? optionalString(body.customizations.title) : undefined;
  return {
    ok: true,
    payment: {
      txRef: body.tx_ref,
      amountMinor,
      currency: currency.toUpperCase(),
      redirectUrl: body.redirect_url,
      customer: checkoutCustomer,
      meta: body.meta ?? null,
      title: title ?? 'Payment',
    },
  };
}

function transactionFor(checkout: Checkout, id: number, status: Transaction['status'], createdAt: string): Transaction {
  return {
    id,
    tx_ref: checkout.txRef,
    flw_ref: `FLW-SIM-${id}`,
    amountMinor: checkout.amountMinor,
    currency: checkout.currency,
    status,
    created_at: createdAt,
    customer: {
      id: 215_000_000 + (id % 1_000_000),
      name: checkout.customer.name ?? 'Anonymous customer',
      phone_number: checkout.customer.phonenumber ?? 'N/A',
      email: checkout.customer.email,
      created_at: createdAt,
    },
    meta: checkout.meta,
  };
}

/** How an unpaid checkout verifies (unpaidVerify: pending): under the id its payment will get. */
export const pendingTransaction = (checkout: Checkout): Transaction =>
  transactionFor(checkout, checkout.transactionId, 'pending', checkout.createdAt);

export type Completion = { transaction: Transaction; redirect: string };

export function createCheckoutCompletion(state: SimulatorState, sender: WebhookSender, nowMs: () => number) {
  /** Charges an open checkout; undefined when it is not open (paid or declined already). */
  return function complete(txRef: string, outcome: 'successful' | 'failed'): Completion | undefined {
    const checkout = state.checkoutsByRef.get(txRef);
    if (checkout === undefined || checkout.status !== 'open') return undefined;
    checkout.status = outcome === 'successful' ? 'paid' : 'declined';
    const now = new Date(nowMs()).toISOString();
    // out_of_order: an earlier failed attempt (say, a first card declined) whose webhook arrives
    // after the success, so a receiver that trusts the latest event would undo the payment.
    const earlierFailure =
      outcome === 'successful' && state.faults.take(['out_of_order'], txRef) !== undefined
        ? transactionFor(checkout, state.nextTransactionId++, 'failed', now)
        : undefined;
    const transaction = transactionFor(checkout, checkout.transactionId, outcome, now);
    for (const tx of [earlierFailure, transaction]) if (tx !== undefined) state.transactions.set(tx.id, tx);

    const webhook = takeWebhookFaults(state, txRef);
    if (webhook.send) {
      const sequence = earlierFailure === undefined ? [transaction] : [transaction, earlierFailure];
      // After the redirect has been answered: the checkout never waits for the merchant's server.
      setImmediate(() => void sender.sendCharges(sequence, webhook.options));
    }
    // Parameter names per §1.2 (from the docs' prose; UNCERTAIN there). Decline is a failed charge.
    const redirect = new URL(checkout.redirectUrl);
    redirect.searchParams.set('status', outcome);
    redirect.searchParams.set('tx_ref', txRef);
    redirect.searchParams.set('transaction_id', String(transaction.id));
    return { transaction, redirect: redirect.toString() };
  };
}

export type CompleteCheckout = ReturnType<typeof createCheckoutCompletion>;
